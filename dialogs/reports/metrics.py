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

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from dialogs.reports.business import BusinessClock
from dialogs.reports.stats import median_and_p90, ratio, seconds
from router import Calendar
from storage.reports import MISSING, TaskColumns, VolumeRow

Key = Hashable  # a group: a channel, queue, agent or bucket
Floats = npt.NDArray[np.float64]
Flags = npt.NDArray[np.bool_]
Codes = npt.NDArray[np.int64]


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


@dataclass(frozen=True, slots=True)
class Window:
    """The period as epoch seconds; ``end`` is already capped at now."""

    start: float
    end: float


class TaskArrays:
    """The tasks as columns (NaN for a missing time; -1 for no assignee), and every event
    each one has in the window: computed for all tasks at once with numpy."""

    def __init__(
        self, tasks: TaskColumns, window: Window, calendars: Mapping[str, Calendar | None]
    ) -> None:
        col = tasks.columns
        self.n = len(tasks)
        self.channels, self.channel = _codes(col["channel"])
        self.queues, self.queue = _codes(col["queue"])
        self.agents, self.agent = _codes(col["assignee"])
        created, assigned, responded, closed, fr_due, res_due, held = (
            _times(col[name], tasks.base)
            for name in (
                "created",
                "assigned",
                "first_response",
                "closed",
                "first_response_due",
                "resolution_due",
                "held",
            )
        )
        statuses, status = _codes(col["status"])
        done = status == (statuses.index("done") if "done" in statuses else -2)
        reopens = np.array(col["reopens"], dtype=np.bool_)
        start, end = window.start, window.end

        def inside(at: Floats) -> Flags:
            return (at >= start) & (at < end)  # False for NaN

        frt, resolution = np.zeros(self.n), np.zeros(self.n)
        policies, policy = _codes(col["sla_policy"])
        low = min(float(np.nanmin(created)) if self.n else window.start, window.start)
        for code, name in [(-1, None), *enumerate(policies)]:
            rows = policy == code
            if not rows.any():
                continue
            # the calendars of the rules in force; a policy no longer there counts 24/7
            clock = BusinessClock(calendars.get(name) if name else None, low, window.end)
            base = clock.elapsed(created[rows])
            frt[rows] = np.maximum(clock.elapsed(responded[rows]) - base, 0.0)
            resolution[rows] = np.maximum(clock.elapsed(closed[rows]) - base, 0.0)
        closed_in = inside(closed)
        fr_met = ~np.isnan(responded) & (responded <= fr_due)
        fr_paused = np.isnan(responded) & (held <= fr_due)
        fr_at = np.where(fr_met, responded, fr_due)
        fr_decided = ~np.isnan(fr_due) & ~fr_paused & inside(fr_at)
        closed_by = closed <= res_due
        res_met = closed_by & done
        res_none = (closed_by & ~done) | (np.isnan(closed) & (held <= res_due))
        res_at = np.where(closed_by, closed, res_due)
        res_decided = ~np.isnan(res_due) & ~res_none & inside(res_at)
        # (time of the event, whether it counts, the duration it brings)
        self.events: dict[str, tuple[Floats, Flags, Floats | None]] = {
            "created": (created, inside(created), None),
            "reopened": (created, inside(created) & reopens, None),
            "resolved": (closed, closed_in & done, resolution),
            "cancelled": (closed, closed_in & ~done, None),
            "first_response": (responded, inside(responded), frt),
            "wait": (assigned, inside(assigned), np.maximum(assigned - created, 0.0)),
            "fr_met": (fr_at, fr_decided & fr_met, None),
            "fr_breached": (fr_at, fr_decided & ~fr_met, None),
            "res_met": (res_at, res_decided & res_met, None),
            "res_breached": (res_at, res_decided & ~res_met, None),
        }
        self._orders: dict[str, npt.NDArray[np.intp]] = {}
        self.since = np.where(np.isnan(assigned), np.inf, assigned)
        is_open = (created < end) & ~(closed < end)
        self.open = is_open
        self.waiting = is_open & ~(assigned < end)
        self.held = is_open & (self.agent >= 0) & (assigned < end)
        self.created, self.assigned, self.closed = created, assigned, closed

    def order(self, name: str) -> npt.NDArray[np.intp]:
        """Task indexes by increasing duration ``name`` (first_response, resolution, wait)."""
        found = self._orders.get(name)
        if found is None:
            values = self.events[_EVENT_OF[name]][2]
            assert values is not None
            found = self._orders[name] = np.argsort(values, kind="stable")
        return found


def _times(values: Sequence[float], base: float) -> Floats:
    """Epoch seconds from seconds after ``base``; NaN where the time is MISSING."""
    seconds = np.array(values, dtype=np.float64)
    return np.where(seconds == MISSING, np.nan, seconds + base)


def _codes(values: Sequence[Any]) -> tuple[list[Any], Codes]:
    """Distinct values (None excluded) and each row's index among them (-1 for None)."""
    distinct = [v for v in dict.fromkeys(values) if v is not None]
    index: dict[Any, int] = {v: i for i, v in enumerate(distinct)}
    index[None] = -1
    return distinct, np.fromiter(map(index.__getitem__, values), np.int64, len(values))


_COUNTED = ("created", "reopened", "resolved", "cancelled", "fr_met", "fr_breached")
_COUNTED_TOO = ("res_met", "res_breached")
_LISTED = ("first_response", "resolution", "wait")
_EVENT_OF = {"resolution": "resolved", "first_response": "first_response", "wait": "wait"}


def aggregate(
    arrays: TaskArrays,
    groups: list[Tally],
    key: Callable[[Floats], Codes],
    *,
    owned: bool = False,
) -> None:
    """Each event into the group ``key`` gives it (from its time: -1 is no group).

    ``owned``: the groups are agents', who hold a task only from its assignment on.
    """
    n = len(groups)
    if n == 0 or arrays.n == 0:
        return
    for name in (*_COUNTED, *_COUNTED_TOO):
        at, counts, _ = arrays.events[name]
        codes, keep = _keyed(arrays, key, at, counts, owned)
        tallies = np.bincount(codes[keep], minlength=n)
        for g, count in zip(groups, tallies.tolist(), strict=True):
            setattr(g, name, getattr(g, name) + count)
    for name in _LISTED:
        at, counts, values = arrays.events[_EVENT_OF[name]]
        assert values is not None
        codes, keep = _keyed(arrays, key, at, counts, owned)
        by_value = arrays.order(name)  # every task, shortest first: sorted once per report
        by_value = by_value[keep[by_value]]
        # a stable sort of small integers keeps each group's durations in order
        order = by_value[np.argsort(codes[by_value], kind="stable")]
        codes, values = codes[order], values[order]
        bounds = np.searchsorted(codes, np.arange(n + 1))
        for g, lo, hi in zip(groups, bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
            getattr(g, name).extend(values[lo:hi].tolist())


def _keyed(
    arrays: TaskArrays, key: Callable[[Floats], Codes], at: Floats, counts: Flags, owned: bool
) -> tuple[Codes, Flags]:
    codes = key(at)
    keep = counts & (codes >= 0)
    if owned:
        keep &= at >= arrays.since
    return codes, keep


def add_snapshot(arrays: TaskArrays, groups: list[Tally], codes: Codes, *, owned: bool) -> None:
    """Backlog, waiting and load at the window's end, per group of ``codes``."""
    n = len(groups)
    if n == 0 or arrays.n == 0:
        return
    valid = codes >= 0
    held = np.bincount(codes[valid & arrays.held], minlength=n).tolist()
    backlog = held if owned else np.bincount(codes[valid & arrays.open], minlength=n).tolist()
    waiting = [0] * n if owned else np.bincount(codes[valid & arrays.waiting], minlength=n).tolist()
    for g, b, w, h in zip(groups, backlog, waiting, held, strict=True):
        g.backlog, g.waiting, g.load = g.backlog + b, g.waiting + w, g.load + h


def backlog_at(arrays: TaskArrays, moments: Floats, *, owned: bool) -> tuple[list[int], list[int]]:
    """(open, waiting) at each moment: entered before it and not closed (or assigned) by then.
    ``owned``: a task enters its agent's backlog when assigned, and never waits."""
    entered = arrays.assigned if owned else arrays.created
    has = ~np.isnan(entered)
    ins = np.sort(entered[has])
    outs = np.sort(arrays.closed[has & ~np.isnan(arrays.closed)])
    opened = np.searchsorted(ins, moments, side="left") - np.searchsorted(
        outs, moments, side="left"
    )
    if owned:
        return opened.tolist(), [0] * len(moments)
    left = np.fmin(arrays.assigned, arrays.closed)
    lefts = np.sort(left[~np.isnan(left)])
    waiting = np.searchsorted(ins, moments, side="left") - np.searchsorted(
        lefts, moments, side="left"
    )
    return opened.tolist(), waiting.tolist()


def tally_volumes(
    rows: Iterable[VolumeRow], key: Callable[[VolumeRow], Key | None], groups: dict[Any, Tally]
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
