"""Assignment's reads and writes: the planner's snapshot, conditional assignment, SLA timers.

Every dispatch runs in one write transaction. On PostgreSQL that transaction first takes a
transaction-scoped advisory lock, so dispatchers of several processes plan one after the
other, each from a snapshot that includes the previous one's assignments; SQLite's single
writer (BEGIN IMMEDIATE) serialises them already. Updates are conditional on the status the
snapshot saw, so a task closed or taken by hand meanwhile is simply skipped.

The rows read and written are NamedTuples: routing makes several per message, and a frozen
dataclass takes about three times as long to build (router/values.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import and_, bindparam, case, func, or_, select, update

from storage.db import SyncTx
from storage.queries import OPEN_TASK
from storage.sql import insert_or_ignore, stamp_listed, xact_lock
from storage.tables import agents, channel_cursors, dialogs, tasks
from storage.types import UTCDateTime

_DISPATCH_LOCK_ID = 0x52444953  # "RDIS": held by the transaction that assigns tasks
_HELD = ("assigned", "in_progress")  # statuses that count towards an agent's load


class WaitingRow(NamedTuple):
    id: int
    dialog_id: int
    queue: str
    priority: str
    sla_due: datetime | None
    created_at: datetime
    channel: str
    skills: frozenset[str]
    returned_from: str | None
    sticky_login: str | None
    assign_to: str | None = None
    contact_id: int | None = None


class AgentRow(NamedTuple):
    login: str
    status: str
    load: float
    last_assigned_at: datetime | None


class AssignRow(NamedTuple):
    task_id: int
    login: str
    weight: float
    explanation: dict[str, Any]
    dialog_id: int
    queue: str


class TaskRef(NamedTuple):
    """Enough of a changed task to publish a TaskChanged event."""

    id: int
    dialog_id: int
    status: str
    assignee: str | None
    queue: str


class AwaitingReply(NamedTuple):
    """An assigned task whose agent has not taken it up yet (no first response)."""

    id: int
    assignee: str
    assigned_at: datetime
    sla_policy: str | None


def lock_dispatch(tx: SyncTx) -> None:
    """Serialise dispatchers across processes (PostgreSQL); released at commit/rollback."""
    xact_lock(tx, _DISPATCH_LOCK_ID)


# The statements a dispatch runs every round, built once (building one costs more than
# running it); lists are one parameter (storage.sql.in_list).
_WAITING = (
    select(
        tasks.c.id,
        tasks.c.dialog_id,
        tasks.c.queue,
        tasks.c.priority,
        tasks.c.first_response_due,
        tasks.c.first_response_at,
        tasks.c.resolution_due,
        tasks.c.created_at,
        tasks.c.assignment,
        tasks.c.skills,
        tasks.c.assign_to,
        dialogs.c.channel,
        dialogs.c.contact_id,
    )
    .join(dialogs, dialogs.c.id == tasks.c.dialog_id)
    .where(tasks.c.status == "waiting")
    .order_by(tasks.c.id)
)


def load_waiting(tx: SyncTx, sticky_queues: Iterable[str] = ()) -> list[WaitingRow]:
    """Every waiting task with what the planner orders and filters by."""
    rows = tx.execute(_WAITING).all()
    sticky = set(sticky_queues)
    last_agent = last_agents(tx, {r.contact_id for r in rows if r.queue in sticky})
    out = []
    for r in rows:
        due = r.first_response_due if r.first_response_at is None else r.resolution_due
        returned = (r.assignment or {}).get("returned_from")
        out.append(
            WaitingRow(
                id=r.id,
                dialog_id=r.dialog_id,
                queue=r.queue,
                priority=r.priority,
                sla_due=due or r.resolution_due,
                created_at=r.created_at,
                channel=r.channel,
                skills=frozenset(r.skills or ()),
                returned_from=returned if isinstance(returned, str) else None,
                sticky_login=last_agent.get(r.contact_id) if r.queue in sticky else None,
                assign_to=r.assign_to,
                contact_id=r.contact_id,
            )
        )
    return out


def last_agents(tx: SyncTx, contact_ids: set[int]) -> dict[int, str]:
    """The agent each contact's most recently assigned task went to."""
    if not contact_ids:
        return {}
    rows = tx.execute(
        select(dialogs.c.contact_id, tasks.c.assignee)
        .join(dialogs, dialogs.c.id == tasks.c.dialog_id)
        .where(dialogs.c.contact_id.in_(contact_ids), tasks.c.assignee.is_not(None))
        .order_by(tasks.c.assigned_at, tasks.c.id)
    )
    return {contact_id: login for contact_id, login in rows}


def _held_weight(status: str) -> Any:
    """The weight of the tasks in `status` that an agent holds: one search of
    ix_tasks_status_load (status, assignee, weight) per agent."""
    return (
        select(func.coalesce(func.sum(tasks.c.weight), 0.0))
        .where(tasks.c.status == status, tasks.c.assignee == agents.c.login)
        .scalar_subquery()
    )


# Summed per agent and status, not grouped over every held task: a GROUP BY assignee over
# two statuses sorted the held tasks in a temporary B-tree on each read (3x slower measured,
# 10 agents holding 3,000 tasks).
_ASSIGNED, _IN_PROGRESS = (_held_weight(status) for status in _HELD)
_AGENTS_WITH_LOAD = select(
    agents.c.login,
    agents.c.status,
    (_ASSIGNED + _IN_PROGRESS).label("load"),
    agents.c.last_assigned_at,
).order_by(agents.c.login)


def load_agents(tx: SyncTx) -> list[AgentRow]:
    """Every agent account with its presence, load (open task weights) and last assignment."""
    rows = tx.execute(_AGENTS_WITH_LOAD)
    return [AgentRow(r.login, r.status, float(r.load or 0), r.last_assigned_at) for r in rows]


def load_rr_state(tx: SyncTx) -> dict[str, str]:
    row = (
        tx.execute(
            select(channel_cursors.c.value).where(
                channel_cursors.c.channel == "router", channel_cursors.c.key == "rr"
            )
        )
    ).first()
    value = row.value if row is not None else {}
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def save_rr_state(tx: SyncTx, state: dict[str, str], now: datetime) -> None:
    tx.execute(
        insert_or_ignore(tx, channel_cursors),
        {"channel": "router", "key": "rr", "value": {}, "updated_at": now},
    )
    tx.execute(
        update(channel_cursors)
        .where(channel_cursors.c.channel == "router", channel_cursors.c.key == "rr")
        .values(value=state, updated_at=now)
    )


def apply_assignments(
    tx: SyncTx, rows: Sequence[AssignRow], now: datetime, also_assigned: Iterable[str] = ()
) -> list[TaskRef]:
    """Assign each task that is still waiting; returns the ones that were. `also_assigned`:
    agents given tasks that were inserted assigned (their last assignment is now, too)."""
    done = _assign_waiting(tx, rows, now) if rows else []
    logins = {t.assignee for t in done if t.assignee is not None} | set(also_assigned)
    if logins:
        tx.execute(_TOUCH_AGENTS.of(tx), {"logins": list(logins), "now": now})
    return done


_TOUCH_AGENTS = stamp_listed(agents, "login", "last_assigned_at", "logins")
_ASSIGN_WAITING = (
    update(tasks)
    .where(tasks.c.id == bindparam("task_id"), tasks.c.status == "waiting")
    .values(
        status="assigned",
        assignee=bindparam("login"),
        assigned_at=bindparam("now", type_=UTCDateTime),
        weight=bindparam("task_weight"),
        assignment=bindparam("explanation"),
        updated_at=bindparam("now", type_=UTCDateTime),
    )
)


def _assign_waiting(tx: SyncTx, rows: Sequence[AssignRow], now: datetime) -> list[TaskRef]:
    result = tx.execute(
        _ASSIGN_WAITING,
        [
            {
                "task_id": r.task_id,
                "login": r.login,
                "task_weight": r.weight,
                "explanation": r.explanation,
                "now": now,
            }
            for r in rows
        ],
    )
    if result.rowcount == len(rows):  # every one landed (the usual case): no need to look
        refs = {
            r.task_id: TaskRef(r.task_id, r.dialog_id, "assigned", r.login, r.queue) for r in rows
        }
    else:
        planned = {r.task_id: r.login for r in rows}
        refs = {  # a task changed by hand meanwhile kept its status: it was not assigned here
            t.id: TaskRef(t.id, t.dialog_id, "assigned", t.assignee, t.queue)
            for t in tx.execute(
                select(tasks.c.id, tasks.c.dialog_id, tasks.c.assignee, tasks.c.queue).where(
                    tasks.c.id.in_(list(planned)),
                    tasks.c.status == "assigned",
                    tasks.c.assigned_at == now,
                )
            )
            if planned[t.id] == t.assignee
        }
    return [refs[r.task_id] for r in rows if r.task_id in refs]  # in plan order


def _awaiting_reply() -> Any:
    return and_(
        tasks.c.status == "assigned",
        tasks.c.first_response_at.is_(None),
        tasks.c.held_at.is_(None),
        tasks.c.assigned_at.is_not(None),
        tasks.c.assignee.is_not(None),
    )


def load_awaiting_reply(tx: SyncTx, *, assigned_before: datetime) -> list[AwaitingReply]:
    """Assigned tasks not taken up and not on hold, assigned before the given moment."""
    rows = tx.execute(
        select(tasks.c.id, tasks.c.assignee, tasks.c.assigned_at, tasks.c.sla_policy).where(
            _awaiting_reply(), tasks.c.assigned_at <= assigned_before
        )
    )
    return [AwaitingReply(r.id, r.assignee, r.assigned_at, r.sla_policy) for r in rows]


def earliest_awaiting_reply(tx: SyncTx) -> list[tuple[str | None, datetime]]:
    """For each SLA policy, the earliest assignment still awaiting its agent's reply."""
    rows = tx.execute(
        select(tasks.c.sla_policy, func.min(tasks.c.assigned_at))
        .where(_awaiting_reply())
        .group_by(tasks.c.sla_policy)
    )
    return [(policy, first) for policy, first in rows if first is not None]


def return_to_queue(
    tx: SyncTx, task_id: int, assigned_at: datetime, explanation: dict[str, Any], now: datetime
) -> TaskRef | None:
    """Take a task back from an agent who did not reply (unless it changed meanwhile)."""
    result = tx.execute(
        update(tasks)
        .where(
            tasks.c.id == task_id,
            tasks.c.status == "assigned",
            tasks.c.assigned_at == assigned_at,
            tasks.c.first_response_at.is_(None),
            tasks.c.held_at.is_(None),
        )
        .values(
            status="waiting",
            assignee=None,
            assigned_at=None,
            assignment=explanation,
            updated_at=now,
        )
        .returning(tasks.c.dialog_id, tasks.c.queue)
    )
    hit = result.first()
    return TaskRef(task_id, hit.dialog_id, "waiting", None, hit.queue) if hit else None


def _breach_condition(now: datetime) -> Any:
    return and_(
        tasks.c.status.in_(OPEN_TASK),
        tasks.c.breached.is_(False),
        tasks.c.held_at.is_(None),
        or_(
            and_(tasks.c.first_response_at.is_(None), tasks.c.first_response_due <= now),
            tasks.c.resolution_due <= now,
        ),
    )


def mark_breached(tx: SyncTx, now: datetime) -> list[TaskRef]:
    """Flag open tasks (not on hold) whose SLA due time has passed."""
    result = tx.execute(
        update(tasks)
        .where(_breach_condition(now))
        .values(breached=True, updated_at=now)
        .returning(tasks.c.id, tasks.c.dialog_id, tasks.c.status, tasks.c.assignee, tasks.c.queue)
    )
    return [TaskRef(r.id, r.dialog_id, r.status, r.assignee, r.queue) for r in result]


def next_sla_due(tx: SyncTx) -> datetime | None:
    """The earliest SLA due time that could still be breached, or None (one scan)."""
    first_due = case((tasks.c.first_response_at.is_(None), tasks.c.first_response_due))
    first, resolution = tx.execute(
        select(func.min(first_due), func.min(tasks.c.resolution_due)).where(
            tasks.c.status.in_(OPEN_TASK), tasks.c.breached.is_(False), tasks.c.held_at.is_(None)
        )
    ).one()
    dues = [UTCDateTime().process_result_value(d, tx.dialect) for d in (first, resolution)]
    return min((d for d in dues if d is not None), default=None)
