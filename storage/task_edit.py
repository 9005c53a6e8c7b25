"""Reads and writes behind PATCH /api/v1/tasks/{id}: one task, locked, changed in place, and
its dialog closed when nothing in it is left to do."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from dialogs.model import DialogStatus, Direction
from storage.db import WriteTx
from storage.queries import OPEN_TASK
from storage.sql import const, for_update
from storage.tables import dialogs, messages, tasks


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


async def close_dialog_if_done(tx: WriteTx, dialog_id: int, now: datetime) -> bool:
    """Close the dialog when nothing in it is left to do: no open task and no inbound
    message still waiting to be routed (it may bring a task). Run after the task's own
    transaction, locking only the dialog row: routing locks the dialog first too, so the
    check sees whatever a concurrent routing committed, and nothing can deadlock."""
    locked = await tx.execute(
        for_update(tx, select(dialogs.c.status).where(dialogs.c.id == dialog_id))
    )
    row = locked.first()
    if row is None or row.status == DialogStatus.CLOSED.value:
        return False
    still_open = select(tasks.c.id).where(
        tasks.c.dialog_id == dialog_id, tasks.c.status.in_(OPEN_TASK)
    )
    unrouted = select(messages.c.id).where(
        messages.c.dialog_id == dialog_id,
        messages.c.direction == const(Direction.IN.value),
        messages.c.routed_at.is_(None),
    )
    if (await tx.execute(still_open.limit(1))).first() is not None:
        return False
    if (await tx.execute(unrouted.limit(1))).first() is not None:
        return False
    await tx.execute(
        update(dialogs)
        .where(dialogs.c.id == dialog_id)
        .values(status=DialogStatus.CLOSED.value, closed_at=now)
    )
    return True
