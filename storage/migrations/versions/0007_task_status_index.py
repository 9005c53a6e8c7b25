"""tasks: an index by status, so dispatch rounds read the open tasks, not every task ever made

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_tasks_status_load", "tasks", ["status", "assignee", "weight"])


def downgrade() -> None:
    op.drop_index("ix_tasks_status_load", table_name="tasks")
