"""The report figures, computed from stored timestamps only (pure: no I/O, ``now`` passed in).

Every figure belongs to the moment its event happened, so a past period always gives the
same numbers however the data moves on afterwards:

- volume: dialogs created, inbound and outbound messages (notes excluded) in the period;
- first response time: created -> first reply, for tasks first answered in the period;
- resolution time: created -> done, for tasks done in the period; both in business time
  of the task's SLA policy calendar in the rules in force (24/7 without one);
- SLA: a target is met when the reply (or done) came by its due time, decided then; it is
  breached when the due time passed first, decided at the due time. A clock that is paused
  (task on hold) decides nothing; a task cancelled before its resolution due has no outcome;
- wait in queue: created -> assigned (wall clock), for tasks assigned in the period;
- reopened: tasks created in the period in a dialog and queue whose earlier task was done
  before; the reopen rate is reopened / resolved in the period;
- backlog at a moment: tasks created before it and not closed by then; waiting: not yet
  assigned either. Load of an agent: open tasks assigned to them at the period's end.
"""

from __future__ import annotations

import dataclasses
import math
from bisect import bisect_left
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dialogs.reports.business import BusinessClock
from dialogs.reports.stats import median_and_p90, ratio, seconds
from storage.reports import TaskFact, VolumeRow

Key = Hashable


@dataclass(slots=True)
class Tally:
    """What one group collects; ``figures`` turns it into the reported columns."""

    dialogs: int = 0
    messages_in: int = 0
    messages_out: int = 0
    created: int = 0
    resolved: int = 0
    cancelled: int = 0
    reopened: int = 0
    first_response: list[float] = field(default_factory=list)
    resolution: list[float] = field(default_factory=list)
    wait: list[float] = field(default_factory=list)
    fr_met: int = 0
    fr_breached: int = 0
    res_met: int = 0
    res_breached: int = 0
    backlog: int = 0
    waiting: int = 0
    load: int = 0

    def merge(self, other: Tally) -> None:
        for name in _COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.first_response.extend(other.first_response)
        self.resolution.extend(other.resolution)
        self.wait.extend(other.wait)

    def figures(self) -> dict[str, Any]:
        met, breached = self.fr_met + self.res_met, self.fr_breached + self.res_breached
        frt_median, frt_p90 = median_and_p90(self.first_response)
        res_median, res_p90 = median_and_p90(self.resolution)
        wait_median, wait_p90 = median_and_p90(self.wait)
        return {
            "dialogs": self.dialogs,
            "messages_in": self.messages_in,
            "messages_out": self.messages_out,
            "tasks_created": self.created,
            "tasks_resolved": self.resolved,
            "tasks_cancelled": self.cancelled,
            "tasks_reopened": self.reopened,
            "reopen_rate": ratio(self.reopened, self.resolved),
            "first_responses": len(self.first_response),
            "first_response_median_s": seconds(frt_median),
            "first_response_p90_s": seconds(frt_p90),
            "resolution_median_s": seconds(res_median),
            "resolution_p90_s": seconds(res_p90),
            "sla_first_response_met": self.fr_met,
            "sla_first_response_breached": self.fr_breached,
            "sla_resolution_met": self.res_met,
            "sla_resolution_breached": self.res_breached,
            "sla_attainment": ratio(met, met + breached),
            "tasks_assigned": len(self.wait),
            "queue_wait_median_s": seconds(wait_median),
            "queue_wait_p90_s": seconds(wait_p90),
            "backlog_open": self.backlog,
            "backlog_waiting": self.waiting,
            "agent_load": self.load,
        }


COLUMNS: tuple[str, ...] = tuple(Tally().figures())
_COUNTS = tuple(
    f.name
    for f in dataclasses.fields(Tally)
    if f.name not in ("first_response", "resolution", "wait")
)


@dataclass(frozen=True, slots=True)
class Window:
    """The period as epoch seconds; ``end`` is already capped at now."""

    start: float
    end: float

    def has(self, t: float | None) -> bool:
        return t is not None and self.start <= t < self.end


def business_clocks(
    tasks: Iterable[TaskFact], calendars: Mapping[str, Any], window: Window
) -> dict[str | None, BusinessClock]:
    """One clock per SLA policy seen, spanning every timestamp the tasks carry."""
    low, high = window.start, window.end
    policies: set[str | None] = {None}
    for t in tasks:
        policies.add(t.sla_policy)
        low = min(low, t.created)
    return {p: BusinessClock(calendars.get(p) if p else None, low, high) for p in policies}


def fr_outcome(t: TaskFact) -> tuple[float, bool] | None:
    """(when decided, met) for the first-response target, or None (no target, or paused)."""
    due = t.first_response_due
    if due is None:
        return None
    if t.first_response is not None and t.first_response <= due:
        return t.first_response, True
    if t.first_response is None and t.held is not None and t.held <= due:
        return None
    return due, False


def resolution_outcome(t: TaskFact) -> tuple[float, bool] | None:
    due = t.resolution_due
    if due is None:
        return None
    if t.closed is not None and t.closed <= due:
        return (t.closed, True) if t.status == "done" else None
    if t.closed is None and t.held is not None and t.held <= due:
        return None
    return due, False


@dataclass(frozen=True, slots=True)
class TaskEvents:
    """What one task contributes to a window; a time is None when it is outside the window."""

    created: float | None
    resolved: float | None  # done in the window, with its resolution time
    resolution: float
    cancelled: float | None
    responded: float | None  # first response in the window, with its time
    first_response: float
    assigned: float | None  # assigned in the window, with its wait
    wait: float
    fr_decided: float | None
    fr_met: bool
    res_decided: float | None
    res_met: bool


def task_events(t: TaskFact, window: Window, clock: BusinessClock) -> TaskEvents:
    start, end = window.start, window.end
    closed = t.closed
    resolved = cancelled = None
    resolution = 0.0
    if closed is not None and start <= closed < end:
        if t.status == "done":
            resolved, resolution = closed, clock.between(t.created, closed)
        else:
            cancelled = closed
    fr = t.first_response
    responded, first_response = None, 0.0
    if fr is not None and start <= fr < end:
        responded, first_response = fr, clock.between(t.created, fr)
    assigned, wait = None, 0.0
    if t.assigned is not None and start <= t.assigned < end:
        assigned, wait = t.assigned, max(t.assigned - t.created, 0.0)
    fr_out, res_out = fr_outcome(t), resolution_outcome(t)
    return TaskEvents(
        t.created if start <= t.created < end else None,
        resolved,
        resolution,
        cancelled,
        responded,
        first_response,
        assigned,
        wait,
        fr_out[0] if fr_out and start <= fr_out[0] < end else None,
        bool(fr_out and fr_out[1]),
        res_out[0] if res_out and start <= res_out[0] < end else None,
        bool(res_out and res_out[1]),
    )


def add_events(g: Tally, t: TaskFact, e: TaskEvents, since: float = -math.inf) -> None:
    """The events of ``e`` from ``since`` on into one group."""
    if e.created is not None and e.created >= since:
        g.created += 1
        g.reopened += t.reopens
    if e.resolved is not None and e.resolved >= since:
        g.resolved += 1
        g.resolution.append(e.resolution)
    if e.cancelled is not None and e.cancelled >= since:
        g.cancelled += 1
    if e.responded is not None and e.responded >= since:
        g.first_response.append(e.first_response)
    if e.assigned is not None and e.assigned >= since:
        g.wait.append(e.wait)
    if e.fr_decided is not None and e.fr_decided >= since:
        if e.fr_met:
            g.fr_met += 1
        else:
            g.fr_breached += 1
    if e.res_decided is not None and e.res_decided >= since:
        if e.res_met:
            g.res_met += 1
        else:
            g.res_breached += 1


def tally_tasks(
    tasks: Iterable[TaskFact],
    window: Window,
    clocks: Mapping[str | None, BusinessClock],
    keys: Sequence[Callable[[TaskFact], Key | None]],
    groupings: Sequence[dict[Key, Tally]],
    held_by_agent: Sequence[bool],
) -> None:
    """One pass: each task's events into its group of every grouping, with the backlog and
    agents' load at the window's end.

    Where ``held_by_agent`` is true the group is the task's assignee's, who holds it only
    since it was assigned to them: earlier events (and the task before then) are not theirs.
    """
    end = window.end
    default = clocks[None]
    plans = list(zip(keys, groupings, held_by_agent, strict=True))
    for t in tasks:
        e = task_events(t, window, clocks.get(t.sla_policy) or default)
        is_open = t.created < end and (t.closed is None or t.closed >= end)
        waiting = is_open and (t.assigned is None or t.assigned >= end)
        held = is_open and t.assignee is not None and t.assigned is not None and t.assigned < end
        for key, groups, by_agent in plans:
            k = key(t)
            if k is None:
                continue
            g = groups.get(k)
            if g is None:
                g = groups[k] = Tally()
            if by_agent:
                add_events(g, t, e, t.assigned if t.assigned is not None else math.inf)
                g.backlog += held
            else:
                add_events(g, t, e)
                g.backlog += is_open
                g.waiting += waiting
            g.load += held


def tally_series(
    tasks: Iterable[TaskFact],
    window: Window,
    clocks: Mapping[str | None, BusinessClock],
    bucket: Callable[[float], Key | None],
    groups: dict[Key, Tally],
    held_by_agent: bool = False,
) -> None:
    """Each event into the time bucket (a group already in ``groups``) it happened in
    (from the assignment on only, when the report is about the assigned agent)."""

    default = clocks[None]
    for t in tasks:
        since = -math.inf
        if held_by_agent:
            since = t.assigned if t.assigned is not None else math.inf

        def pick(at: float | None, since: float = since) -> Tally | None:
            return None if at is None or at < since else groups.get(bucket(at))

        e = task_events(t, window, clocks.get(t.sla_policy) or default)
        if g := pick(e.created):
            g.created += 1
            g.reopened += t.reopens
        if g := pick(e.resolved):
            g.resolved += 1
            g.resolution.append(e.resolution)
        if g := pick(e.cancelled):
            g.cancelled += 1
        if g := pick(e.responded):
            g.first_response.append(e.first_response)
        if g := pick(e.assigned):
            g.wait.append(e.wait)
        if g := pick(e.fr_decided):
            if e.fr_met:
                g.fr_met += 1
            else:
                g.fr_breached += 1
        if g := pick(e.res_decided):
            if e.res_met:
                g.res_met += 1
            else:
                g.res_breached += 1


class Backlog:
    """Open and waiting task counts at any moment, from sorted event times. ``by_agent``:
    the backlog of the tasks' assignees, holding each task from its assignment on."""

    def __init__(self, tasks: Iterable[TaskFact], *, by_agent: bool = False) -> None:
        entered: list[float] = []
        closed: list[float] = []
        left_queue: list[float] = []
        for t in tasks:
            start = t.assigned if by_agent else t.created
            if start is None:
                continue
            entered.append(start)
            if t.closed is not None:
                closed.append(t.closed)
            ends = [x for x in (t.assigned, t.closed) if x is not None]
            if ends:
                left_queue.append(start if by_agent else min(ends))
        self._entered, self._closed = sorted(entered), sorted(closed)
        self._left_queue = sorted(left_queue)

    def at(self, moment: float) -> tuple[int, int]:
        """(open, waiting) at ``moment``: entered before it and not closed/assigned by then."""
        born = bisect_left(self._entered, moment)
        return (
            born - bisect_left(self._closed, moment),
            born - bisect_left(self._left_queue, moment),
        )


def tally_volumes(
    rows: Iterable[VolumeRow], key: Callable[[VolumeRow], Key | None], groups: dict[Key, Tally]
) -> None:
    for row in rows:
        k = key(row)
        if k is None:
            continue
        g = groups.get(k)
        if g is None:
            g = groups[k] = Tally()
        g.dialogs += row.dialogs
        g.messages_in += row.messages_in
        g.messages_out += row.messages_out
