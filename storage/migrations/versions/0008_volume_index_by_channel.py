"""messages: the volume index leads with channel, so a lookup by direction alone cannot use it

SQLite's planner, without statistics, took ix_messages_volume (direction, channel, created_at)
for any query with `direction = ?`, e.g. a batch's dialogs' messages by direction: a search
that reads every message of that direction ever stored. Reports always give channel and
direction, so (channel, direction, created_at) serves them as well.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_messages_volume", table_name="messages")
    op.create_index("ix_messages_volume", "messages", ["channel", "direction", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_messages_volume", table_name="messages")
    op.create_index("ix_messages_volume", "messages", ["direction", "channel", "created_at"])
