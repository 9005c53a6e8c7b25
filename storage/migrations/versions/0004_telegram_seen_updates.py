"""telegram: the set of update ids each bot has handled

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "telegram_seen_updates",
        sa.Column("bot_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("seen_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("bot_id", "update_id", name=op.f("pk_telegram_seen_updates")),
    )
    op.create_index(op.f("ix_telegram_seen_updates_seen_at"), "telegram_seen_updates", ["seen_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_telegram_seen_updates_seen_at"), table_name="telegram_seen_updates")
    op.drop_table("telegram_seen_updates")
