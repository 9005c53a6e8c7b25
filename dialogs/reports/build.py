"""Whole reports from fetched facts: totals and breakdowns, time series, a heat map (pure)."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dialogs.reports.business import BusinessClock
from dialogs.reports.metrics import (
    Backlog,
    Key,
    Tally,
    Window,
    tally_series,
    tally_tasks,
    tally_volumes,
)
from storage.reports import TaskFact, VolumeRow

DIMENSIONS: tuple[str, ...] = ("channel", "queue", "agent")
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, slots=True)
class Facts:
    tasks: Sequence[TaskFact]
    volumes: Sequence[VolumeRow]
    window: Window
    clocks: dict[str | None, BusinessClock]
    by_agent: bool = False  # filtered to one agent: each task counts from its assignment on


def _attribute(dimension: str) -> Callable[[TaskFact], str | None]:
    if dimension == "channel":
        return lambda t: t.channel
    if dimension == "queue":
        return lambda t: t.queue
    return lambda t: t.assignee


def breakdowns(facts: Facts) -> dict[str, list[dict[str, Any]]]:
    """The period's totals (under "") and one row of figures per channel, queue and agent.

    Every task has a channel, so the totals are the channels' groups merged."""
    groupings: list[dict[Key, Tally]] = [{} for _ in DIMENSIONS]
    keys = [_attribute(d) for d in DIMENSIONS]
    held = [facts.by_agent or d == "agent" for d in DIMENSIONS]
    tally_tasks(facts.tasks, facts.window, facts.clocks, keys, groupings, held)
    by_channel = groupings[DIMENSIONS.index("channel")]
    tally_volumes(facts.volumes, lambda r: r.channel, by_channel)
    total = Tally()
    for group in by_channel.values():
        total.merge(group)
    out = {"": [total.figures()]}
    for dimension, groups in zip(DIMENSIONS, groupings, strict=True):
        out[dimension] = [{dimension: k, **groups[k].figures()} for k in sorted(groups, key=str)]
    return out


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

    def bucket(at: float) -> float | None:
        i = bisect_right(starts, at) - 1
        return starts[i] if i >= 0 else None

    groups: dict[Key, Tally] = {s: Tally() for s in starts}
    tally_series(facts.tasks, facts.window, facts.clocks, bucket, groups, facts.by_agent)
    tally_volumes(facts.volumes, lambda r: bucket(r.hour) if r.hour is not None else None, groups)
    backlog = Backlog(facts.tasks, by_agent=facts.by_agent)
    ends = [*starts[1:], facts.window.end]
    points = []
    for s, e in zip(starts, ends, strict=True):
        moment = min(e, facts.window.end)
        g = groups[s]
        if moment > facts.window.start:
            g.backlog, g.waiting = backlog.at(moment)
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
