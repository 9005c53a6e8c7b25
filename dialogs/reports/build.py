"""Whole reports from fetched facts: totals and breakdowns, time series, a heat map (pure)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from dialogs.reports.metrics import (
    Codes,
    Floats,
    Tally,
    TaskArrays,
    Window,
    add_snapshot,
    aggregate,
    backlog_at,
    tally_volumes,
)
from router import Calendar
from storage.reports import TaskColumns, VolumeRow

DIMENSIONS: tuple[str, ...] = ("channel", "queue", "agent")
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, slots=True)
class Facts:
    tasks: TaskColumns
    volumes: Sequence[VolumeRow]
    window: Window
    calendars: dict[str, Calendar | None]  # SLA policy -> its business hours
    by_agent: bool = False  # filtered to one agent: each task counts from its assignment on


def breakdowns(facts: Facts) -> dict[str, list[dict[str, Any]]]:
    """The period's totals (under "") and one row of figures per channel, queue and agent.

    An agent holds a task only from its assignment on: events before it are not theirs
    (with ``by_agent``, a report filtered to one agent, that holds for every group)."""
    arrays = TaskArrays(facts.tasks, facts.window, facts.calendars)
    owned = facts.by_agent
    total = Tally()
    everything = np.zeros(arrays.n, dtype=np.int64)
    aggregate(arrays, [total], _constant(everything), owned=owned)
    add_snapshot(arrays, [total], everything, owned=owned)
    tally_volumes(facts.volumes, lambda _r: "", {"": total})
    out = {"": [total.figures()]}
    for dimension, names, codes, is_agents in (
        ("channel", arrays.channels, arrays.channel, False),
        ("queue", arrays.queues, arrays.queue, False),
        ("agent", arrays.agents, arrays.agent, True),
    ):
        groups = [Tally() for _ in names]
        aggregate(arrays, groups, _constant(codes), owned=owned or is_agents)
        add_snapshot(arrays, groups, codes, owned=owned or is_agents)
        by_name = dict(zip(names, groups, strict=True))
        if dimension == "channel":
            tally_volumes(facts.volumes, lambda r: r.channel, by_name)
        out[dimension] = [{dimension: k, **by_name[k].figures()} for k in sorted(by_name)]
    return out


def _constant(codes: Codes) -> Callable[[Floats], Codes]:
    """A key that puts every event of a task in the task's group, whenever it happened."""
    return lambda _at: codes


def bucket_starts(start: datetime, end: datetime, zone: ZoneInfo, interval: str) -> list[float]:
    """Epoch starts of the local days (or hours) that overlap [start, end)."""
    local = start.astimezone(zone)
    if interval == "day":
        day = local.date()
        starts = []
        while True:
            moment = datetime(day.year, day.month, day.day, tzinfo=zone)
            if moment >= end:
                break
            starts.append(moment.timestamp())
            day += timedelta(days=1)
        return starts
    hour = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    starts = []
    while hour < end:
        starts.append(hour.timestamp())
        hour += timedelta(hours=1)
    return starts


def series(facts: Facts, starts: Sequence[float]) -> list[tuple[float, dict[str, Any]]]:
    """Figures per time bucket: each event counts in the bucket it happened in."""
    arrays = TaskArrays(facts.tasks, facts.window, facts.calendars)
    edges = np.array(starts, dtype=np.float64)
    groups = [Tally() for _ in starts]

    def bucket(at: Floats) -> Codes:
        return np.searchsorted(edges, at, side="right") - 1

    aggregate(arrays, groups, bucket, owned=facts.by_agent)
    by_start = dict(zip(starts, groups, strict=True))
    tally_volumes(
        facts.volumes,
        lambda r: starts[int(bucket(np.array([r.hour]))[0])] if r.hour is not None else None,
        by_start,
    )
    window = facts.window
    ends = [min(e, window.end) for e in [*starts[1:], window.end]]
    moments = np.array(ends, dtype=np.float64)
    opened, waiting = backlog_at(arrays, moments, owned=facts.by_agent)
    points = []
    for i, (s, g) in enumerate(zip(starts, groups, strict=True)):
        if ends[i] > window.start:
            g.backlog, g.waiting = opened[i], waiting[i]
        points.append((s, g.figures()))
    return points


def heatmap(volumes: Sequence[VolumeRow], zone: ZoneInfo) -> list[list[int]]:
    """Inbound messages by local weekday (rows, Monday first) and hour of day (columns)."""
    grid = [[0] * 24 for _ in range(7)]
    for row in volumes:
        if row.hour is None:
            continue
        local = datetime.fromtimestamp(row.hour, UTC).astimezone(zone)
        grid[local.weekday()][local.hour] += row.messages_in
    return grid
