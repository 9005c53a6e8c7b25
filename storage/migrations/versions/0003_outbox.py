"""outbox: outbound status lookups by provider id; the outbox's last attempt time

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        # Status webhooks find the outbound message by the provider's id.
        batch_op.create_index(
            "ix_messages_outbound_external_id",
            ["channel", "external_id"],
            unique=False,
            sqlite_where=sa.text("direction = 'out'"),
            postgresql_where=sa.text("direction = 'out'"),
        )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("updated_at", storage.types.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("updated_at")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_outbound_external_id")
