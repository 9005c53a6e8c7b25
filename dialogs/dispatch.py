"""Assignment of waiting tasks to agents, on events and on timers, never by a periodic sweep.

`Dispatcher` runs one write transaction per round: flag SLA breaches that fell due, take back
tasks whose agent did not reply in time, snapshot waiting tasks and agents, plan with
`router.plan_assignments`, apply with conditional updates, commit, then publish. It is woken
when a task closes or is unassigned, an agent's presence changes, rules are reloaded and
(PostgreSQL) when another process reports such a change. Between wakes it sleeps until the
earliest SLA due time or no-reply deadline, recomputed every round.

New tasks are assigned in the routing transaction that makes them (`assign_in`), by the
same plan over every waiting task plus the new ones, before those are inserted: a new task
the plan places is inserted assigned, so a message's routing and its task's assignment
commit together in one write. Such passes and rounds of every process take one lock in turn.
A pass stands aside, leaving the tasks to a round, when the last plan left tasks waiting: a
backlog is planned by rounds, at most `coalesce` apart, not once per routing batch.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from dialogs.dispatch_plan import has_room, plan_dispatch, reply_deadline, returned_explanation
from dialogs.events import Event, TaskChanged, encode_batches
from dialogs.metrics import SLA_BREACHES, TASKS_ASSIGNED
from dialogs.rulebook import Rulebook
from dialogs.worker import WakeableWorker
from router import RuleSet
from storage import Database
from storage.assignment import (
    AssignRow,
    TaskRef,
    WaitingRow,
    apply_assignments,
    earliest_awaiting_reply,
    last_agents,
    load_agents,
    load_awaiting_reply,
    load_rr_state,
    load_waiting,
    lock_dispatch,
    mark_breached,
    next_sla_due,
    return_to_queue,
    save_rr_state,
)
from storage.db import SyncTx, is_retryable
from storage.notify import EventRelay

log = structlog.get_logger(__name__)

_MIN_TIMER = 0.01  # seconds: a due time already past fires at once, never in a tight loop
# Timer rounds (breaches, take-backs) run at most this often: with many tasks their due times
# are dense, and a round for each would keep the database busy for a flag a second late.
TIMER_GRAIN = 1.0


@dataclass(frozen=True, slots=True)
class PassInRouting:
    """What `assign_in` did: stored tasks it assigned, and the plan for the new tasks (by the
    stand-in id of their WaitingRow), which the caller inserts assigned."""

    assigned: list[TaskRef]
    new: dict[int, AssignRow]


class Dispatcher(WakeableWorker):
    """Assigns waiting tasks whenever woken, and when its earliest deadline comes."""

    name = "dispatch"
    coalesce = 0.02  # a round reads every agent's load: at most 50 rounds a second under load

    def __init__(
        self,
        db: Database,
        relay: EventRelay,
        rulebook: Rulebook,
        *,
        clock: Callable[[], datetime],
        assignment_timeout: timedelta = timedelta(minutes=15),
        timer_grain: float = TIMER_GRAIN,
    ) -> None:
        super().__init__()
        self._db = db
        self._relay = relay
        self._rulebook = rulebook
        self._clock = clock
        self._timeout = assignment_timeout
        self.next_deadline: datetime | None = None
        # Breaches and take-backs can only be due when the timer says so, unless something
        # other than routing's new tasks woke us (edits, presence, rules, other processes).
        self._timers_checked = False
        self._timers_version = ""
        self._timer_grain = timer_grain
        self._timers_ran_at = -timer_grain  # time.monotonic() of the last timer round
        # The last plan left tasks waiting (or no agent had room): new tasks wait for a round.
        self._backlog = False

    def wake(self) -> None:
        self._timers_checked = False
        super().wake()

    def tasks_created(self) -> None:
        """Routing made new tasks it did not assign: assign them; the timers need no fresh
        look for that."""
        super().wake()

    def takes_part(self, tx: SyncTx) -> bool:
        """Whether the routing transaction `tx` assigns its new tasks itself (`assign_in`):
        not while a backlog waits for a round. When it does, this takes the dispatch lock,
        waiting for another process's pass or round to commit; the caller takes it before it
        locks any task row (no dispatcher round then waits on it while it waits here).

        Waiting, rather than standing aside, was measured (bench/pipeline.py, PostgreSQL,
        two processes): standing aside left a share of every process's new tasks to a
        round of their own, a second write for each of them."""
        if self._backlog:
            return False
        lock_dispatch(tx)
        return True

    def assign_in(
        self, tx: SyncTx, ruleset: RuleSet, now: datetime, new: Sequence[WaitingRow]
    ) -> PassInRouting:
        """Plan every waiting task plus `new` (tasks about to be inserted, with stand-in ids
        below zero) in the caller's write transaction, once `takes_part` said yes; assign the
        stored ones and return the plan for the new ones. The caller publishes with its own
        events and reports the commit with `assigned_in`."""
        assigned, planned = self._assign(tx, ruleset, now, new)
        return PassInRouting(assigned, planned)

    def assigned_in(
        self, assigned: list[TaskRef], earliest_due: datetime | None, now: datetime
    ) -> None:
        """The transaction of an `assign_in` committed: count and log, and move the timer
        earlier if the new tasks' SLA or the new assignments' reply deadline come first."""
        self._report([], [], assigned)
        due = _earliest(earliest_due, now + self._timeout if assigned else None)
        if due is not None and (self.next_deadline is None or due < self.next_deadline):
            self.next_deadline = due
            self.rearm()

    async def work(self) -> None:
        await self.dispatch_all()

    def delay(self) -> float | None:
        if self.next_deadline is None:
            return None
        until = (self.next_deadline - self._clock()).total_seconds()
        grain = self._timers_ran_at + self._timer_grain - time.monotonic()
        return max(until, grain, _MIN_TIMER)

    async def dispatch_all(self) -> list[TaskRef]:
        """One round in the caller's task; returns the tasks it assigned."""
        for attempt in range(5):
            try:
                return await self._dispatch_once()
            except Exception as exc:
                if not is_retryable(exc) or attempt == 4:
                    raise
                await asyncio.sleep(0.01 * 2**attempt)
        return []

    async def _dispatch_once(self) -> list[TaskRef]:
        breached, returned, assigned, deadline, payloads = await self._db.run_write(
            self._dispatch_sync, self._rulebook.current, self._clock()
        )
        self._relay.committed(payloads)
        self.next_deadline = deadline
        self._report(breached, returned, assigned)
        return assigned

    def _report(
        self,
        breached: list[TaskRef],
        returned: list[tuple[TaskRef, str]],
        assigned: list[TaskRef],
    ) -> None:
        SLA_BREACHES.inc(len(breached))
        TASKS_ASSIGNED.inc(len(assigned))
        for t in breached:
            log.info("sla_breached", task_id=t.id, dialog_id=t.dialog_id)
        for t, previous in returned:
            log.info("task_returned", task_id=t.id, dialog_id=t.dialog_id, login=previous)
        for t in assigned:
            log.info("task_assigned", task_id=t.id, dialog_id=t.dialog_id, login=t.assignee)

    def _dispatch_sync(
        self, tx: SyncTx, ruleset: RuleSet, now: datetime
    ) -> tuple[list[TaskRef], list[tuple[TaskRef, str]], list[TaskRef], datetime | None, list[str]]:
        """One round in `tx`: breaches, take-backs, assignments, and the next deadline."""
        lock_dispatch(tx)
        full = (
            not self._timers_checked
            or self._timers_version != ruleset.version
            or (self.next_deadline is not None and now >= self.next_deadline)
        )
        breached = mark_breached(tx, now) if full else []
        returned = self._take_back_unanswered(tx, ruleset, now) if full else []
        assigned, _ = self._assign(tx, ruleset, now)
        if full:
            self._timers_ran_at = time.monotonic()
            deadline = self._next_deadline(tx, ruleset)
            self._timers_checked, self._timers_version = True, ruleset.version
        else:  # new assignments wait at least `timeout`; new tasks may bring earlier SLA dues
            deadline = _earliest(self.next_deadline, next_sla_due(tx))
            if assigned:
                deadline = _earliest(deadline, now + self._timeout)
        payloads = encode_batches(
            task_events([*breached, *(ref for ref, _ in returned), *assigned])
        )
        self._relay.stage_sync(tx, payloads)
        return breached, returned, assigned, deadline, payloads

    def _assign(
        self, tx: SyncTx, ruleset: RuleSet, now: datetime, new: Sequence[WaitingRow] = ()
    ) -> tuple[list[TaskRef], dict[int, AssignRow]]:
        """Plan every waiting task (and `new`) over every agent's load; apply the plan to the
        stored tasks and return it for the new ones. Notes whether tasks are left waiting
        (the backlog new tasks then queue behind)."""
        agent_rows = load_agents(tx)
        if not has_room(ruleset, agent_rows):  # the backlog need not even be read
            self._backlog = True
            return [], {}
        sticky = [q.name for q in ruleset.queues.values() if q.sticky]
        waiting = load_waiting(tx, sticky)
        if new:
            waiting.extend(_with_sticky_logins(tx, new, sticky))
        assigned: list[TaskRef] = []
        planned: dict[int, AssignRow] = {}
        if waiting:
            rotates = any(q.strategy == "round_robin" for q in ruleset.queues.values())
            rr = load_rr_state(tx) if rotates else {}
            plan = plan_dispatch(ruleset, waiting, agent_rows, now, rr)
            stored = [a for a in plan.assignments if a.task_id > 0]
            planned = {a.task_id: a for a in plan.assignments if a.task_id < 0}
            logins = {a.login for a in planned.values()}
            assigned = apply_assignments(tx, stored, now, also_assigned=logins)
            if plan.rr_state != rr:
                save_rr_state(tx, plan.rr_state, now)
        self._backlog = len(assigned) + len(planned) < len(waiting)
        return assigned, planned

    def _take_back_unanswered(
        self, tx: SyncTx, ruleset: RuleSet, now: datetime
    ) -> list[tuple[TaskRef, str]]:
        """Tasks whose agent did not reply in time, back to waiting, with that agent's login."""
        back: list[tuple[TaskRef, str]] = []
        for task in load_awaiting_reply(tx, assigned_before=now - self._timeout):
            if reply_deadline(ruleset, task.sla_policy, task.assigned_at, self._timeout) > now:
                continue
            explained = returned_explanation(task, self._timeout, now)
            ref = return_to_queue(tx, task.id, task.assigned_at, explained, now)
            if ref is not None:
                back.append((ref, task.assignee))
        return back

    def _next_deadline(self, tx: SyncTx, ruleset: RuleSet) -> datetime | None:
        """The earliest no-reply deadline or SLA due time over every open task (a full look)."""
        times = [  # the earliest assignment of each SLA policy has that policy's first deadline
            reply_deadline(ruleset, policy, first, self._timeout)
            for policy, first in earliest_awaiting_reply(tx)
        ]
        due = next_sla_due(tx)
        if due is not None:
            times.append(due)
        return min(times) if times else None


def _with_sticky_logins(
    tx: SyncTx, rows: Sequence[WaitingRow], sticky_queues: list[str]
) -> list[WaitingRow]:
    """New tasks in sticky queues, with the agent their contact had last."""
    contacts = {r.contact_id for r in rows if r.queue in sticky_queues and r.contact_id}
    if not contacts:
        return list(rows)
    last = last_agents(tx, contacts)
    return [
        r._replace(sticky_login=last.get(r.contact_id)) if r.contact_id in contacts else r
        for r in rows
    ]


def _earliest(*times: datetime | None) -> datetime | None:
    return min((t for t in times if t is not None), default=None)


def task_events(changed: list[TaskRef]) -> list[Event]:
    """One task_changed event per changed task."""
    return [TaskChanged(t.id, t.dialog_id, t.status, t.assignee, t.queue) for t in changed]
