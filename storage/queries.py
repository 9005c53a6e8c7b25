"""Read models for the REST API: dialogs, messages, tasks, shaped as DESIGN.md §2 names them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import aliased
from sqlalchemy.sql import ColumnElement

from storage.db import ReadTx
from storage.search import dialogs_matching
from storage.sql import const
from storage.tables import (
    attachments,
    contact_identities,
    contacts,
    decisions,
    dialogs,
    messages,
    tasks,
)

OPEN_TASK = ("waiting", "assigned", "in_progress")


def inbound_message_facts() -> list[Any]:
    """The columns of an inbound message that the rules read (routing, replays): the message
    and whether it is its dialog's first inbound one (`is_first`)."""
    earlier = aliased(messages)
    is_first = ~exists().where(
        and_(
            earlier.c.dialog_id == messages.c.dialog_id,
            earlier.c.direction == const("in"),
            earlier.c.id < messages.c.id,
        )
    )
    return [
        messages.c.id,
        messages.c.dialog_id,
        messages.c.channel,
        messages.c.kind,
        messages.c.text,
        messages.c.automated,
        is_first.label("is_first"),
    ]


@dataclass(frozen=True, slots=True)
class DialogFilter:
    status: str | None = None
    channel: str | None = None
    tag: str | None = None
    assignee: str | None = None
    q: str | None = None
    queue: str | None = None  # has an open task in this queue
    overdue_at: datetime | None = None  # has an open task breached or past a due time by then


def iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def _json_array_contains(tx: ReadTx, column: Any, value: str) -> ColumnElement[bool]:
    if tx.dialect.name == "sqlite":
        each = func.json_each(column).table_valued("value")
        return exists(select(1).select_from(each).where(each.c.value == value))
    contains: ColumnElement[bool] = column.op("@>")(func.jsonb_build_array(value))
    return contains


async def list_dialogs(
    tx: ReadTx, f: DialogFilter, *, limit: int, after: tuple[datetime, int] | None
) -> list[dict[str, Any]]:
    """Newest activity first; `after` is the (last_message_at, id) of the previous page's end."""
    stmt = select(dialogs).order_by(dialogs.c.last_message_at.desc(), dialogs.c.id.desc())
    if f.status:
        stmt = stmt.where(dialogs.c.status == f.status)
    if f.channel:
        stmt = stmt.where(dialogs.c.channel == f.channel)
    if f.tag:
        stmt = stmt.where(_json_array_contains(tx, dialogs.c.tags, f.tag))
    if f.assignee:
        stmt = stmt.where(
            exists().where(
                tasks.c.dialog_id == dialogs.c.id,
                tasks.c.assignee == f.assignee,
                tasks.c.status.in_(OPEN_TASK),
            )
        )
    if f.queue:
        stmt = stmt.where(
            exists().where(
                tasks.c.dialog_id == dialogs.c.id,
                tasks.c.queue == f.queue,
                tasks.c.status.in_(OPEN_TASK),
            )
        )
    if f.overdue_at is not None:
        stmt = stmt.where(exists().where(tasks.c.dialog_id == dialogs.c.id, _overdue(f.overdue_at)))
    if f.q:
        stmt = stmt.where(await dialogs_matching(tx, f.q))
    if after is not None:
        ts, last_id = after
        stmt = stmt.where(
            or_(
                dialogs.c.last_message_at < ts,
                and_(dialogs.c.last_message_at == ts, dialogs.c.id < last_id),
            )
        )
    rows = (await tx.execute(stmt.limit(limit))).all()
    contacts_by_id = await _contacts(tx, {r.contact_id for r in rows})
    return [_dialog(r, contacts_by_id[r.contact_id]) for r in rows]


def _overdue(now: datetime) -> ColumnElement[bool]:
    """An open, not held task that is flagged breached or past one of its due times."""
    return and_(
        tasks.c.status.in_(OPEN_TASK),
        tasks.c.held_at.is_(None),
        or_(
            tasks.c.breached.is_(True),
            and_(tasks.c.first_response_at.is_(None), tasks.c.first_response_due < now),
            tasks.c.resolution_due < now,
        ),
    )


async def get_dialog(tx: ReadTx, dialog_id: int) -> dict[str, Any] | None:
    row = (await tx.execute(select(dialogs).where(dialogs.c.id == dialog_id))).first()
    if row is None:
        return None
    contact = (await _contacts(tx, {row.contact_id}))[row.contact_id]
    body = _dialog(row, contact)
    msg_rows = (
        await tx.execute(
            select(messages).where(messages.c.dialog_id == dialog_id).order_by(messages.c.id)
        )
    ).all()
    files = await _attachments(tx, [m.id for m in msg_rows])
    body["messages"] = [message_json(m, files.get(m.id, [])) for m in msg_rows]
    body["tasks"] = await list_tasks(tx, dialog_id=dialog_id, limit=1000)
    return body


async def _contacts(tx: ReadTx, ids: set[int]) -> dict[int, dict[str, Any]]:
    if not ids:
        return {}
    out: dict[int, dict[str, Any]] = {}
    for c in await tx.execute(select(contacts).where(contacts.c.id.in_(ids))):
        out[c.id] = {
            "id": c.id,
            "name": c.name,
            "email": c.email,
            "phone": c.phone,
            "tags": list(c.tags or []),
            "identities": [],
        }
    for i in await tx.execute(
        select(contact_identities)
        .where(contact_identities.c.contact_id.in_(ids))
        .order_by(contact_identities.c.id)
    ):
        out[i.contact_id]["identities"].append({"channel": i.channel, "address": i.address})
    return out


def _dialog(r: Any, contact: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": r.id,
        "channel": r.channel,
        "status": r.status,
        "contact": contact,
        "tags": list(r.tags or []),
        "priority": r.priority,
        "subject": r.subject,
        "created_at": iso(r.created_at),
        "last_message_at": iso(r.last_message_at),
        "closed_at": iso(r.closed_at),
    }


async def _attachments(tx: ReadTx, message_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = {}
    if not message_ids:
        return out
    for a in await tx.execute(
        select(attachments)
        .where(attachments.c.message_id.in_(message_ids))
        .order_by(attachments.c.id)
    ):
        out.setdefault(a.message_id, []).append(
            {"id": a.id, "filename": a.filename, "content_type": a.content_type, "size": a.size}
        )
    return out


def message_json(m: Any, files: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": m.id,
        "dialog_id": m.dialog_id,
        "direction": m.direction,
        "channel": m.channel,
        "external_id": m.external_id,
        "kind": m.kind,
        "text": m.text,
        "author": m.author,
        "attachments": files,
        "status": m.status,
        "error": m.error,
        "created_at": iso(m.created_at),
        "edited_at": iso(m.edited_at),
        "automated": bool(m.automated),
        "original": _original(m.raw),
    }


def _original(raw: Any) -> dict[str, Any] | None:
    """The whole mail for display, where `text` is only the new part of a reply (email)."""
    if not isinstance(raw, dict) or "full_text" not in raw:
        return None
    return {
        "subject": raw.get("subject", ""),
        "text": raw["full_text"],
        "html": raw.get("html"),
        "notes": list(raw.get("notes", [])),
    }


async def list_tasks(
    tx: ReadTx,
    *,
    status: str | None = None,
    queue: str | None = None,
    assignee: str | None = None,
    dialog_id: int | None = None,
    limit: int,
    before_id: int | None = None,
) -> list[dict[str, Any]]:
    stmt = select(tasks, decisions.c.body.label("decision_body")).outerjoin(
        decisions, decisions.c.id == tasks.c.decision_id
    )
    if status:
        stmt = stmt.where(tasks.c.status == status)
    if queue:
        stmt = stmt.where(tasks.c.queue == queue)
    if assignee:
        stmt = stmt.where(tasks.c.assignee == assignee)
    if dialog_id is not None:
        stmt = stmt.where(tasks.c.dialog_id == dialog_id)
    if before_id is not None:
        stmt = stmt.where(tasks.c.id < before_id)
    rows = await tx.execute(stmt.order_by(tasks.c.id.desc()).limit(limit))
    return [task_json(r) for r in rows]


async def get_task(tx: ReadTx, task_id: int) -> dict[str, Any] | None:
    row = (
        await tx.execute(
            select(tasks, decisions.c.body.label("decision_body"))
            .outerjoin(decisions, decisions.c.id == tasks.c.decision_id)
            .where(tasks.c.id == task_id)
        )
    ).first()
    return task_json(row) if row is not None else None


def task_json(r: Any) -> dict[str, Any]:
    decision = r.decision_body or {}
    return {
        "id": r.id,
        "dialog_id": r.dialog_id,
        "title": r.title,
        "queue": r.queue,
        "status": r.status,
        "assignee": r.assignee,
        "priority": r.priority,
        "tags": list(r.tags or []),
        "sla": {
            "policy": r.sla_policy,
            "first_response_due": iso(r.first_response_due),
            "resolution_due": iso(r.resolution_due),
            "breached": bool(r.breached),
        },
        "decision": {
            "rules": decision.get("rules", []),
            "reason": decision.get("reason", ""),
            "rules_version": decision.get("rules_version"),
            "trace": decision.get("trace", []),
            "assignment": r.assignment,
        },
        "on_hold": r.held_at is not None,
        "created_at": iso(r.created_at),
        "assigned_at": iso(r.assigned_at),
        "updated_at": iso(r.updated_at),
        "closed_at": iso(r.closed_at),
    }


async def agent_loads(tx: ReadTx) -> dict[str, float]:
    """Sum of open task weights per assignee."""
    rows = await tx.execute(
        select(tasks.c.assignee, func.sum(tasks.c.weight))
        .where(tasks.c.assignee.is_not(None), tasks.c.status.in_(OPEN_TASK))
        .group_by(tasks.c.assignee)
    )
    return {login: float(load or 0) for login, load in rows}
