"""Routing's reads and writes: claim unrouted inbound messages, record decisions and tasks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import TextClause, bindparam, select, text, update

from storage.bulk import insert_returning_ids
from storage.db import SyncTx
from storage.queries import OPEN_TASK, inbound_message_facts
from storage.sql import PerDialect, const, in_list, stamp_listed, xact_lock
from storage.tables import contacts, decisions, dialogs, messages, outbox, tasks
from storage.types import UTCDateTime


@dataclass(slots=True)
class UnroutedMessage:
    id: int
    dialog_id: int
    channel: str
    kind: str
    text: str
    automated: bool
    is_first: bool
    contact_id: int
    contact_name: str
    contact_tags: frozenset[str]
    contact_attrs: dict[str, str]


@dataclass(slots=True)
class DialogState:
    """A claimed dialog as routing sees and changes it."""

    id: int
    tags: list[str]
    priority: str
    open_tasks: dict[str, int] = field(default_factory=dict)  # queue -> task id
    stored: tuple[tuple[str, ...], str] = field(init=False)  # tags and priority as read

    def __post_init__(self) -> None:
        self.stored = (tuple(self.tags), self.priority)

    @property
    def changed(self) -> bool:
        return (tuple(self.tags), self.priority) != self.stored


def unrouted_messages(
    dialect: str, columns: Literal["id", "count(*)"], *, limited: bool = False
) -> TextClause:
    """SELECT `columns` over inbound messages not yet routed, read from ix_messages_unrouted,
    in id order; `limited` keeps the first `:limit`.

    Spelled as that partial index's own predicate, with a literal 'in', and on SQLite the
    index is named outright (INDEXED BY): its planner, without statistics, would otherwise
    search whichever index leads with a column the query constrains.
    """
    hint = " INDEXED BY ix_messages_unrouted" if dialect == "sqlite" else ""
    where = "WHERE routed_at IS NULL AND direction = 'in'"
    order = " ORDER BY id" if columns != "count(*)" else ""
    if limited:
        order += " LIMIT :limit"
    return text(f"SELECT {columns} FROM messages{hint} {where}{order}")  # noqa: S608 (literals)


def _claimed_columns() -> list[Any]:
    """What routing reads of each claimed message: the message as the rules see it, its
    contact, and its dialog's tags and priority. claim_unrouted unpacks them in this order."""
    return [
        *inbound_message_facts(),
        contacts.c.id.label("contact_id"),
        contacts.c.name,
        contacts.c.tags,
        contacts.c.attrs,
        dialogs.c.tags.label("dialog_tags"),
        dialogs.c.priority,
    ]


def _claim(dialect: str, skip_locked: bool) -> Any:
    """The oldest `:limit` unrouted messages with all that routing reads of them, in one
    statement; on PostgreSQL their dialogs locked (FOR UPDATE OF dialogs). Under the routing
    lock no other process claims meanwhile, so the oldest need no locking of their own."""
    oldest = unrouted_messages(dialect, "id", limited=True).columns(messages.c.id).subquery()
    stmt = (
        select(*_claimed_columns())
        .select_from(oldest)
        .join(messages, messages.c.id == oldest.c.id)
        .join(dialogs, dialogs.c.id == messages.c.dialog_id)
        .join(contacts, contacts.c.id == dialogs.c.contact_id)
        .order_by(messages.c.id)
    )
    if dialect == "sqlite":
        return stmt
    return stmt.with_for_update(of=dialogs, skip_locked=skip_locked)


# Statements built once per dialect (storage.sql.PerDialect): building a SELECT of this
# size, and its cache key, costs several times what running it costs, per batch.
_CLAIM = {
    False: PerDialect(lambda d: _claim(d, skip_locked=False)),
    True: PerDialect(lambda d: _claim(d, skip_locked=True)),
}
# status is checked in Python: in SQL, SQLite would search by it instead of by dialog
_TASKS_OF_DIALOGS = PerDialect(
    lambda d: (
        select(tasks.c.id, tasks.c.dialog_id, tasks.c.queue, tasks.c.status)
        .where(in_list(d, tasks.c.dialog_id, "ids"))
        .order_by(tasks.c.id)
    )
)


_ROUTING_LOCK_ID = 0x52524F55  # "RROU": held by the transaction that routes a batch


def lock_routing(tx: SyncTx) -> None:
    """Serialise routing batches across processes (PostgreSQL); released at commit/rollback.

    A batch waits for another process's batch to commit instead of routing beside it, and
    then takes what arrived meanwhile as well. Side by side, the two had waited on each
    other's dialog and dispatch locks anyway; one at a time, bench/pipeline.py with two
    processes measured post -> assigned p50 57 -> 32 ms and p99 131 -> 79 ms, with the same
    throughput. SQLite's single writer routes alone already.
    """
    xact_lock(tx, _ROUTING_LOCK_ID)


@dataclass(slots=True)
class Claim:
    """A routing batch's messages, in order, and their dialogs, locked."""

    messages: list[UnroutedMessage] = field(default_factory=list)
    dialogs: dict[int, DialogState] = field(default_factory=dict)
    full: bool = False  # `limit` unrouted messages were found: there may be more


def claim_unrouted(tx: SyncTx, limit: int, *, skip_locked: bool = True) -> Claim:
    """Lock the dialogs of the oldest `limit` unrouted inbound messages; return those messages
    in order.

    On PostgreSQL, processes route one batch at a time (`lock_routing`), and the dialogs are
    locked FOR UPDATE against their other writers (SKIP LOCKED with `skip_locked`: a dialog
    another writer holds is left for a later batch, with its later messages, in order).
    """
    lock_routing(tx)
    rows = tx.execute(_CLAIM[skip_locked].of(tx), {"limit": limit}).all()
    full = len(rows) >= limit
    if not rows:
        return Claim(full=full)
    states: dict[int, DialogState] = {}
    claimed = []
    # Unpacked by position (the order of _claimed_columns): a Row's attribute lookups by
    # name were two fifths of the claim's CPU (py-spy, bench/routing_cpu.py).
    for (
        message_id,
        dialog_id,
        channel,
        kind,
        message_text,
        automated,
        is_first,
        contact_id,
        contact_name,
        contact_tags,
        contact_attrs,
        dialog_tags,
        priority,
    ) in rows:
        if dialog_id not in states:  # a dialog's rows all carry its tags and priority
            states[dialog_id] = DialogState(dialog_id, list(dialog_tags or []), priority)
        claimed.append(
            UnroutedMessage(
                message_id,
                dialog_id,
                channel,
                kind,
                message_text,
                bool(automated),
                bool(is_first),
                contact_id,
                contact_name,
                frozenset(contact_tags or ()),
                {str(k): str(v) for k, v in (contact_attrs or {}).items()},
            )
        )
    for t in tx.execute(_TASKS_OF_DIALOGS.of(tx), {"ids": list(states)}):
        if t.status in OPEN_TASK:
            states[t.dialog_id].open_tasks.setdefault(t.queue, t.id)
    return Claim(claimed, states, full)


def save_decisions(tx: SyncTx, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert decision rows (one per message); returns their ids in the order given."""
    return insert_returning_ids(tx, decisions, rows)


def create_tasks(tx: SyncTx, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert task rows (at most one per dialog and queue); returns their ids in the order
    given."""
    return insert_returning_ids(tx, tasks, rows)


_RAISE_TASKS = (
    update(tasks)
    .where(tasks.c.id == bindparam("task_id"))
    .values(priority=bindparam("new_priority"), updated_at=bindparam("now", type_=UTCDateTime))
)
_TOUCH_TASKS = stamp_listed(tasks, "id", "updated_at", "ids")


def bump_tasks(tx: SyncTx, bumps: dict[int, str | None], now: datetime) -> None:
    """A follow-up joined these tasks: touch them, raising priority where one is given."""
    raised = [
        {"task_id": t, "new_priority": p, "now": now} for t, p in bumps.items() if p is not None
    ]
    if raised:
        tx.execute(_RAISE_TASKS, raised)
    touched = [t for t, p in bumps.items() if p is None]
    if touched:
        tx.execute(_TOUCH_TASKS.of(tx), {"ids": touched, "now": now})


_MARK_ROUTED = stamp_listed(messages, "id", "routed_at", "ids")
_SET_DIALOG_TAGS = (
    update(dialogs)
    .where(dialogs.c.id == bindparam("dialog_id"))
    .values(tags=bindparam("new_tags"), priority=bindparam("new_priority"))
)


def finish_routing(
    tx: SyncTx, message_ids: Sequence[int], dialog_states: Sequence[DialogState], now: datetime
) -> None:
    tx.execute(_MARK_ROUTED.of(tx), {"ids": list(message_ids), "now": now})
    changed = [
        {"dialog_id": d.id, "new_tags": d.tags, "new_priority": d.priority}
        for d in dialog_states
        if d.changed
    ]
    if changed:
        tx.execute(_SET_DIALOG_TAGS, changed)


_AUTO_REPLIED = PerDialect(
    lambda d: (
        select(messages.c.dialog_id)
        .where(
            in_list(d, messages.c.dialog_id, "ids"),
            messages.c.direction == const("out"),
            messages.c.automated.is_(True),
        )
        .distinct()
    )
)


def auto_replied_dialogs(tx: SyncTx, dialog_ids: Sequence[int]) -> set[int]:
    """Dialogs that already got their one automatic reply."""
    return {int(r.dialog_id) for r in tx.execute(_AUTO_REPLIED.of(tx), {"ids": list(dialog_ids)})}


def queue_auto_replies(
    tx: SyncTx, replies: Sequence[tuple[int, str, str]], now: datetime
) -> list[tuple[int, int]]:
    """Store (dialog_id, channel, text) auto-replies as queued outbound messages with their
    outbox rows; returns (message_id, dialog_id). Unlike an agent's reply they are not a
    first response: the SLA clock keeps running."""
    if not replies:
        return []
    ids = tx.execute(
        messages.insert().returning(messages.c.id, sort_by_parameter_order=True),
        [
            {
                "dialog_id": dialog_id,
                "direction": "out",
                "channel": channel,
                "kind": "text",
                "text": text,
                "status": "queued",
                "author": "auto-reply",
                "automated": True,
                "thread_hints": {},
                "history": [],
                "created_at": now,
            }
            for dialog_id, channel, text in replies
        ],
    ).scalars()
    message_ids = [int(i) for i in ids]
    tx.execute(
        outbox.insert(),
        [
            {
                "message_id": message_id,
                "channel": channel,
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
                "updated_at": now,
            }
            for message_id, (_, channel, _) in zip(message_ids, replies, strict=True)
        ],
    )
    return [(m, d) for m, (d, _, _) in zip(message_ids, replies, strict=True)]
