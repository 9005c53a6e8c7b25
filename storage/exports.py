"""Row-level exports: one row per dialog or per task created in a period, streamed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.sql import Select

from storage.db import ReadTx
from storage.tables import contacts, dialogs, messages, tasks

BATCH = 2000


def _count_messages(direction: str) -> Any:
    return (
        select(func.count())
        .where(messages.c.dialog_id == dialogs.c.id, messages.c.direction == direction)
        .scalar_subquery()
    )


def _first_message(direction: str) -> Any:
    return (
        select(func.min(messages.c.created_at))
        .where(messages.c.dialog_id == dialogs.c.id, messages.c.direction == direction)
        .scalar_subquery()
    )


def dialog_rows(start: datetime, end: datetime) -> Select[Any]:
    task_count = select(func.count()).where(tasks.c.dialog_id == dialogs.c.id).scalar_subquery()
    return (
        select(
            dialogs.c.id,
            dialogs.c.channel,
            dialogs.c.status,
            dialogs.c.contact_id,
            contacts.c.name.label("contact_name"),
            dialogs.c.subject,
            dialogs.c.tags,
            dialogs.c.priority,
            dialogs.c.created_at,
            _first_message("in").label("first_inbound_at"),
            _first_message("out").label("first_reply_at"),
            dialogs.c.last_message_at,
            dialogs.c.closed_at,
            _count_messages("in").label("messages_in"),
            _count_messages("out").label("messages_out"),
            task_count.label("tasks"),
        )
        .join(contacts, contacts.c.id == dialogs.c.contact_id)
        .where(and_(dialogs.c.created_at >= start, dialogs.c.created_at < end))
        .order_by(dialogs.c.created_at, dialogs.c.id)
    )


def task_rows(start: datetime, end: datetime) -> Select[Any]:
    return (
        select(
            tasks.c.id,
            tasks.c.dialog_id,
            dialogs.c.channel,
            tasks.c.title,
            tasks.c.queue,
            tasks.c.status,
            tasks.c.assignee,
            tasks.c.priority,
            tasks.c.tags,
            tasks.c.sla_policy,
            tasks.c.created_at,
            tasks.c.assigned_at,
            tasks.c.first_response_at,
            tasks.c.first_response_due,
            tasks.c.resolution_due,
            tasks.c.held_at,
            tasks.c.closed_at,
            tasks.c.updated_at,
            tasks.c.breached,
        )
        .join(dialogs, dialogs.c.id == tasks.c.dialog_id)
        .where(and_(tasks.c.created_at >= start, tasks.c.created_at < end))
        .order_by(tasks.c.created_at, tasks.c.id)
    )


async def count_rows(tx: ReadTx, stmt: Select[Any]) -> int:
    counted = select(func.count()).select_from(stmt.order_by(None).subquery())
    return int((await tx.execute(counted)).scalar_one())


async def stream_rows(tx: ReadTx, stmt: Select[Any]) -> AsyncIterator[dict[str, Any]]:
    """The rows as mappings, fetched in batches (a server-side cursor where there is one)."""
    result = await tx.stream(stmt)
    async for batch in result.mappings().partitions(BATCH):
        for row in batch:
            yield dict(row)
