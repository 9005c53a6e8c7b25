"""inbox: how far each agent has read each dialog (unread counts)

Revision ID: 0007
Revises: 0004
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0007"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dialog_reads",
        sa.Column("agent", sa.String(length=100), nullable=False),
        sa.Column(
            "dialog_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "last_message_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("read_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["dialog_id"], ["dialogs.id"], name=op.f("fk_dialog_reads_dialog_id_dialogs")
        ),
        sa.PrimaryKeyConstraint("agent", "dialog_id", name=op.f("pk_dialog_reads")),
    )


def downgrade() -> None:
    op.drop_table("dialog_reads")
