"""Reports as the API, the dashboard and the CLI get them: one read, then the pure figures."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import structlog

from dialogs.reports.build import DAY_NAMES, DIMENSIONS, Facts, breakdowns, bucket_starts
from dialogs.reports.build import heatmap as build_heatmap
from dialogs.reports.build import series as build_series
from dialogs.reports.metrics import Window
from dialogs.reports.period import Period
from router import RuleSet
from storage import Database
from storage.reports import ReportScope, fetch_task_columns, fetch_volumes

log = structlog.get_logger(__name__)
R = TypeVar("R")


class ReportInputError(ValueError):
    """A filter that cannot be honoured (the message says which and why)."""


@dataclass(frozen=True, slots=True)
class ReportFilters:
    channel: str | None = None
    queue: str | None = None
    team: str | None = None
    agent: str | None = None
    tag: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {
            "channel": self.channel,
            "queue": self.queue,
            "team": self.team,
            "agent": self.agent,
            "tag": self.tag,
        }


def iso(epoch_or_dt: float | datetime) -> str:
    moment = (
        epoch_or_dt
        if isinstance(epoch_or_dt, datetime)
        else datetime.fromtimestamp(epoch_or_dt, UTC)
    )
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _scope(period: Period, filters: ReportFilters, ruleset: RuleSet, now: datetime) -> ReportScope:
    queues: tuple[str, ...] | None = None
    if filters.team is not None:
        if filters.team not in ruleset.teams:
            known = ", ".join(sorted(ruleset.teams)) or "none"
            raise ReportInputError(f"team: unknown team {filters.team!r} (teams: {known})")
        queues = tuple(q.name for q in ruleset.queues.values() if q.team == filters.team)
    if filters.queue is not None:
        queues = (filters.queue,) if queues is None or filters.queue in queues else ()
    return ReportScope(
        start=period.start,
        end=max(min(period.end, now), period.start),
        channel=filters.channel,
        queues=queues,
        agent=filters.agent,
        tag=filters.tag,
    )


async def _facts(
    db: Database,
    ruleset: RuleSet,
    period: Period,
    filters: ReportFilters,
    now: datetime,
    *,
    hourly: bool,
) -> Facts:
    scope = _scope(period, filters, ruleset, now)
    tasks, volumes = await asyncio.gather(  # two connections: the queries overlap
        _read(db, fetch_task_columns, scope), _read(db, fetch_volumes, scope, hourly)
    )
    window = Window(scope.start.timestamp(), scope.end.timestamp())
    calendars = {name: policy.calendar for name, policy in ruleset.sla.items()}
    return Facts(tasks, volumes, window, calendars, by_agent=filters.agent is not None)


async def _read(db: Database, fetch: Callable[..., Awaitable[R]], *args: Any) -> R:
    async with db.read() as tx:
        return await fetch(tx, *args)


def _header(period: Period, filters: ReportFilters, facts: Facts) -> dict[str, Any]:
    return {
        "from": iso(period.start),
        "to": iso(period.end),
        "until": iso(facts.window.end),
        "timezone": period.timezone.key,
        "filters": filters.as_dict(),
    }


async def build_summary(
    db: Database, ruleset: RuleSet, period: Period, filters: ReportFilters, now: datetime
) -> dict[str, Any]:
    """Totals for the period plus the same figures per channel, queue and agent."""
    facts = await _facts(db, ruleset, period, filters, now, hourly=False)
    rows = breakdowns(facts)
    report = {
        **_header(period, filters, facts),
        "totals": rows[""][0],
        "channels": rows["channel"],
        "queues": rows["queue"],
        "agents": rows["agent"],
    }
    log.info("report_built", kind="summary", tasks=len(facts.tasks))
    return report


async def build_timeseries(
    db: Database,
    ruleset: RuleSet,
    period: Period,
    filters: ReportFilters,
    now: datetime,
    interval: str,
) -> dict[str, Any]:
    """Figures per local day or hour, and inbound messages by weekday and hour."""
    facts = await _facts(db, ruleset, period, filters, now, hourly=True)
    starts = bucket_starts(period.start, period.end, period.timezone, interval)
    points = [{"start": iso(s), **figures} for s, figures in build_series(facts, starts)]
    return {
        **_header(period, filters, facts),
        "interval": interval,
        "points": points,
        "heatmap": {
            "days": list(DAY_NAMES),
            "counts": build_heatmap(facts.volumes, period.timezone),
        },
    }


async def build_table(
    db: Database,
    ruleset: RuleSet,
    period: Period,
    filters: ReportFilters,
    now: datetime,
    by: str | None,
) -> list[dict[str, Any]]:
    """Rows for an export: one for the whole period, or one per agent/channel/queue/day."""
    if by == "day":
        series = await build_timeseries(db, ruleset, period, filters, now, "day")
        return [
            {"day": _local_day(p["start"], period), **_without(p, "start")}
            for p in series["points"]
        ]
    if by in DIMENSIONS:
        summary = await build_summary(db, ruleset, period, filters, now)
        return list(summary[f"{by}s"])
    summary = await build_summary(db, ruleset, period, filters, now)
    return [{"from": summary["from"], "to": summary["to"], **summary["totals"]}]


def _local_day(start: str, period: Period) -> str:
    moment = datetime.fromisoformat(start.replace("Z", "+00:00"))
    return moment.astimezone(period.timezone).date().isoformat()


def _without(row: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != key}
