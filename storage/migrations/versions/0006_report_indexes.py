"""reports: messages by direction, channel and time (a covering index for volume counts)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_messages_volume", "messages", ["direction", "channel", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_messages_volume", table_name="messages")
