"""Reads and writes behind PATCH /api/v1/tasks/{id}: one task, locked, changed in place."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from storage.db import WriteTx
from storage.tables import dialogs, tasks


async def load_task_for_edit(tx: WriteTx, task_id: int) -> Any | None:
    """The task with its dialog's channel, row-locked on PostgreSQL; None when unknown."""
    stmt = (
        select(
            tasks.c.id,
            tasks.c.dialog_id,
            tasks.c.queue,
            tasks.c.status,
            tasks.c.assignee,
            tasks.c.sla_policy,
            tasks.c.first_response_due,
            tasks.c.resolution_due,
            tasks.c.first_response_at,
            tasks.c.held_at,
            dialogs.c.channel,
        )
        .join(dialogs, dialogs.c.id == tasks.c.dialog_id)
        .where(tasks.c.id == task_id)
    )
    if tx.dialect.name != "sqlite":  # SQLite's single writer already serialises
        stmt = stmt.with_for_update(of=tasks)  # not the dialog row: routing locks that one
    return (await tx.execute(stmt)).first()


async def save_task(tx: WriteTx, task_id: int, values: dict[str, Any]) -> None:
    await tx.execute(update(tasks).where(tasks.c.id == task_id).values(**values))
