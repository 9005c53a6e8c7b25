"""Reads and small writes the inbox pages need: unread counts, a contact's whole history,
queue lengths, attachment lookup, agents' API tokens."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from storage.db import ReadTx, WriteTx
from storage.queries import OPEN_TASK, iso, message_json
from storage.sql import const
from storage.tables import agents, attachments, dialog_reads, dialogs, messages, tasks

TIMELINE_LIMIT = 500


async def unread_counts(tx: ReadTx, agent: str, dialog_ids: Sequence[int]) -> dict[int, int]:
    """Inbound messages each dialog received after the agent last read it."""
    if not dialog_ids:
        return {}
    read = dialog_reads.alias("r")
    stmt = (
        select(messages.c.dialog_id, func.count())
        .select_from(
            messages.outerjoin(
                read, and_(read.c.dialog_id == messages.c.dialog_id, read.c.agent == agent)
            )
        )
        .where(
            messages.c.dialog_id.in_(dialog_ids),
            messages.c.direction == const("in"),
            messages.c.id > func.coalesce(read.c.last_message_id, 0),
        )
        .group_by(messages.c.dialog_id)
    )
    return {int(d): int(n) for d, n in await tx.execute(stmt)}


async def open_tasks_of(tx: ReadTx, dialog_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    """Open tasks of each dialog, for the list's queue, assignee and SLA columns."""
    out: dict[int, list[dict[str, Any]]] = {}
    if not dialog_ids:
        return out
    rows = await tx.execute(
        select(
            tasks.c.id,
            tasks.c.dialog_id,
            tasks.c.queue,
            tasks.c.status,
            tasks.c.assignee,
            tasks.c.first_response_due,
            tasks.c.first_response_at,
            tasks.c.resolution_due,
            tasks.c.breached,
            tasks.c.held_at,
        )
        .where(tasks.c.dialog_id.in_(dialog_ids), tasks.c.status.in_(OPEN_TASK))
        .order_by(tasks.c.id)
    )
    for r in rows:
        due = r.first_response_due if r.first_response_at is None else r.resolution_due
        out.setdefault(r.dialog_id, []).append(
            {
                "id": r.id,
                "queue": r.queue,
                "status": r.status,
                "assignee": r.assignee,
                "due": iso(due) if r.held_at is None else None,
                "breached": bool(r.breached),
            }
        )
    return out


async def mark_read(
    tx: WriteTx, agent: str, dialog_ids: Sequence[int], last_message_id: int, now: datetime
) -> None:
    """Move the agent's read mark of each dialog forward (never back) to `last_message_id`."""
    module: Any = sqlite if tx.dialect.name == "sqlite" else postgresql
    for dialog_id in dialog_ids:
        stmt = module.insert(dialog_reads).values(
            agent=agent, dialog_id=dialog_id, last_message_id=last_message_id, read_at=now
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[dialog_reads.c.agent, dialog_reads.c.dialog_id],
            set_={"last_message_id": last_message_id, "read_at": now},
            where=dialog_reads.c.last_message_id < last_message_id,
        )
        await tx.execute(stmt)


async def contact_dialogs(tx: ReadTx, contact_id: int) -> list[dict[str, Any]]:
    rows = await tx.execute(
        select(dialogs.c.id, dialogs.c.channel, dialogs.c.status, dialogs.c.subject)
        .where(dialogs.c.contact_id == contact_id)
        .order_by(dialogs.c.id)
    )
    return [dict(r._mapping) for r in rows]


async def contact_timeline(tx: ReadTx, dialog_ids: Sequence[int]) -> list[dict[str, Any]]:
    """The latest messages of all the given dialogs (a contact's), oldest first."""
    newest_first = (
        await tx.execute(
            select(messages)
            .where(messages.c.dialog_id.in_(dialog_ids))
            .order_by(messages.c.id.desc())
            .limit(TIMELINE_LIMIT)
        )
    ).all()
    rows = list(reversed(newest_first))
    files: dict[int, list[dict[str, Any]]] = {}
    if rows:
        for a in await tx.execute(
            select(attachments)
            .where(attachments.c.message_id.in_([m.id for m in rows]))
            .order_by(attachments.c.id)
        ):
            files.setdefault(a.message_id, []).append(
                {"id": a.id, "filename": a.filename, "content_type": a.content_type, "size": a.size}
            )
    return [message_json(m, files.get(m.id, [])) for m in rows]


async def last_inbound_at(tx: ReadTx, contact_id: int, channel: str) -> datetime | None:
    value: datetime | None = (
        await tx.execute(
            select(func.max(messages.c.created_at))
            .select_from(messages.join(dialogs, dialogs.c.id == messages.c.dialog_id))
            .where(
                dialogs.c.contact_id == contact_id,
                messages.c.channel == channel,
                messages.c.direction == const("in"),
            )
        )
    ).scalar()
    return value


async def queue_stats(tx: ReadTx) -> dict[str, dict[str, Any]]:
    """Per queue: waiting tasks, open tasks and when the oldest waiting one was created."""
    rows = await tx.execute(
        select(
            tasks.c.queue,
            tasks.c.status,
            func.count(),
            func.min(tasks.c.created_at),
        )
        .where(tasks.c.status.in_(OPEN_TASK))
        .group_by(tasks.c.queue, tasks.c.status)
    )
    out: dict[str, dict[str, Any]] = {}
    for queue, status, count, oldest in rows:
        entry = out.setdefault(queue, {"waiting": 0, "open": 0, "oldest_waiting": None})
        entry["open"] += int(count)
        if status == "waiting":
            entry["waiting"] = int(count)
            entry["oldest_waiting"] = iso(oldest)
    return out


async def find_attachment(tx: ReadTx, attachment_id: int) -> Any | None:
    return (await tx.execute(select(attachments).where(attachments.c.id == attachment_id))).first()


async def set_token_hash(tx: WriteTx, login: str, token_hash: str) -> bool:
    result = await tx.execute(
        update(agents).where(agents.c.login == login).values(token_hash=token_hash)
    )
    return bool(result.rowcount)


async def find_message(tx: ReadTx, message_id: int) -> Any | None:
    """A message with its dialog's priority and tags (for a task made from it by hand)."""
    return (
        await tx.execute(
            select(
                messages.c.id,
                messages.c.dialog_id,
                messages.c.text,
                dialogs.c.priority.label("dialog_priority"),
                dialogs.c.tags.label("dialog_tags"),
            )
            .join(dialogs, dialogs.c.id == messages.c.dialog_id)
            .where(messages.c.id == message_id)
        )
    ).first()


async def insert_task(tx: WriteTx, row: dict[str, Any]) -> int:
    result = await tx.execute(tasks.insert().returning(tasks.c.id), row)
    return int(result.scalar_one())


async def count_admins(tx: ReadTx) -> int:
    return int(
        (await tx.execute(select(func.count()).where(agents.c.role == "admin"))).scalar_one()
    )


async def set_role(tx: WriteTx, login: str, role: str) -> bool:
    result = await tx.execute(update(agents).where(agents.c.login == login).values(role=role))
    return bool(result.rowcount)
