"""The reports' reads: task facts, message and dialog volumes, aggregated in SQL where it pays.

Timestamps come back as epoch seconds (floats) computed by the database, not as datetimes:
a month of a busy desk is 100,000 tasks, and parsing datetimes in Python would cost more
than the whole query. Message volumes are counted in SQL, over the covering index
``ix_messages_created_at`` (created_at, direction, channel), never fetched row by row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import orjson
from sqlalchemy import (
    Float,
    and_,
    case,
    cast,
    exists,
    extract,
    func,
    literal,
    or_,
    select,
    text,
    union_all,
    values,
)
from sqlalchemy.orm import aliased
from sqlalchemy.sql import ColumnElement, column

from dialogs.model import ChannelKind
from storage.db import ReadTx
from storage.queries import _json_array_contains
from storage.tables import dialogs, messages, tasks
from storage.types import UTCDateTime


@dataclass(frozen=True, slots=True)
class ReportScope:
    """Which data a report covers: [start, end) and the filters (None: no filter)."""

    start: datetime
    end: datetime
    channel: str | None = None
    queues: tuple[str, ...] | None = None  # a queue filter, or a team's queues
    agent: str | None = None
    tag: str | None = None

    @property
    def filters_tasks(self) -> bool:
        return self.queues is not None or self.agent is not None


TASK_COLUMNS = (
    "channel",  # the dialog's
    "queue",
    "assignee",  # or None
    "status",
    "sla_policy",  # or None
    "created",  # times: epoch seconds, None when the event has not happened
    "assigned",
    "first_response",
    "closed",
    "first_response_due",
    "resolution_due",
    "held",
    "reopens",  # 1 for a follow-up made in the period: same dialog and queue, created after
    # an earlier task there was done
)


MISSING = -1e15  # a time that is not there (NULL): arrays of plain numbers decode fastest


@dataclass(frozen=True, slots=True)
class TaskColumns:
    """The tasks column by column (lists in TASK_COLUMNS order); times are seconds after
    ``base`` (epoch seconds), or MISSING."""

    columns: dict[str, list[Any]]
    base: float

    def __len__(self) -> int:
        return len(self.columns["created"])


@dataclass(frozen=True, slots=True)
class VolumeRow:
    """Counts for one (hour or period, channel): new dialogs, inbound and outbound messages."""

    hour: float | None  # epoch seconds of the UTC hour, None for period totals
    channel: str
    dialogs: int
    messages_in: int
    messages_out: int


def epoch(tx: ReadTx, column: Any) -> ColumnElement[Any]:
    """Seconds since 1970 as a float, computed by the database."""
    if tx.dialect.name == "sqlite":  # stored as 'YYYY-MM-DD HH:MM:SS.ffffff'
        return func.unixepoch(column) + cast(func.substr(column, 20), Float)
    return cast(extract("epoch", column), Float)


def _hour(tx: ReadTx, column: Any) -> ColumnElement[Any]:
    """The UTC hour a timestamp falls in, as text (SQLite) or epoch seconds (PostgreSQL)."""
    if tx.dialect.name == "sqlite":
        return func.substr(column, 1, 13)
    return func.floor(cast(extract("epoch", column), Float) / 3600) * 3600


def _hour_epoch(tx: ReadTx, value: Any) -> float:
    if tx.dialect.name == "sqlite":
        return datetime.strptime(value, "%Y-%m-%d %H").replace(tzinfo=UTC).timestamp()
    return float(value)


def _task_conditions(tx: ReadTx, scope: ReportScope) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if scope.channel is not None:
        where.append(dialogs.c.channel == scope.channel)
    if scope.queues is not None:
        where.append(tasks.c.queue.in_(scope.queues))
    if scope.agent is not None:
        where.append(tasks.c.assignee == scope.agent)
    if scope.tag is not None:
        where.append(_json_array_contains(tx, dialogs.c.tags, scope.tag))
    return where


def _dialog_conditions(tx: ReadTx, scope: ReportScope) -> list[ColumnElement[bool]]:
    """Dialog filters for volumes: tag on the dialog; queue/agent by a matching task in it."""
    where: list[ColumnElement[bool]] = []
    if scope.tag is not None:
        where.append(_json_array_contains(tx, dialogs.c.tags, scope.tag))
    if scope.filters_tasks:
        task_where = [tasks.c.dialog_id == dialogs.c.id]
        if scope.queues is not None:
            task_where.append(tasks.c.queue.in_(scope.queues))
        if scope.agent is not None:
            task_where.append(tasks.c.assignee == scope.agent)
        where.append(exists().where(*task_where))
    return where


async def _without_jit(tx: ReadTx) -> None:
    """PostgreSQL would compile these big scans to machine code first: 0.5 s lost each time."""
    if tx.dialect.name == "postgresql":
        await tx.execute(text("SET LOCAL jit = off"))


async def fetch_task_columns(tx: ReadTx, scope: ReportScope) -> TaskColumns:
    """Every task that was open at some moment of the period (created before its end, not
    closed before its start): all a period's figures are about these tasks.

    The database hands them over column by column, each as one array: one row to read instead
    of 100,000 (whose Python objects would cost more than the query). Times travel as seconds
    after the period's start, small enough for SQLite's JSON (15 digits) to keep them whole.
    """
    base = scope.start.timestamp()
    earlier = aliased(tasks)
    several = aliased(tasks)
    with_follow_ups = (  # dialogs with more than one task: only their tasks can be follow-ups
        select(several.c.dialog_id).group_by(several.c.dialog_id).having(func.count() > 1)
    )
    reopens = and_(
        tasks.c.created_at >= scope.start,
        tasks.c.dialog_id.in_(with_follow_ups),
        exists().where(
            earlier.c.dialog_id == tasks.c.dialog_id,
            earlier.c.queue == tasks.c.queue,
            earlier.c.id < tasks.c.id,
            earlier.c.status == "done",
            earlier.c.closed_at <= tasks.c.created_at,
        ),
    )
    times = (
        tasks.c.created_at,
        tasks.c.assigned_at,
        tasks.c.first_response_at,
        tasks.c.closed_at,
        tasks.c.first_response_due,
        tasks.c.resolution_due,
        tasks.c.held_at,
    )
    columns = [
        dialogs.c.channel,
        tasks.c.queue,
        tasks.c.assignee,
        tasks.c.status,
        tasks.c.sla_policy,
        *(func.coalesce(epoch(tx, t) - base, MISSING) for t in times),
        case((reopens, literal(1)), else_=literal(0)),
    ]
    # SQLite: one JSON array per column; PostgreSQL: one array, decoded by asyncpg in C
    as_list = func.json_group_array if tx.dialect.name == "sqlite" else func.array_agg
    stmt = (
        select(*(as_list(c) for c in columns))
        .select_from(tasks.join(dialogs, dialogs.c.id == tasks.c.dialog_id))
        .where(
            tasks.c.created_at < scope.end,
            or_(tasks.c.closed_at.is_(None), tasks.c.closed_at >= scope.start),
            *_task_conditions(tx, scope),
        )
    )
    await _without_jit(tx)
    row = (await tx.execute(stmt)).one()
    lists = {
        name: orjson.loads(raw) if isinstance(raw, str | bytes) else list(raw or [])
        for name, raw in zip(TASK_COLUMNS, row, strict=True)
    }
    return TaskColumns(lists, base)


async def fetch_volumes(tx: ReadTx, scope: ReportScope, hourly: bool) -> list[VolumeRow]:
    """New dialogs and in/out messages per channel, per UTC hour when ``hourly``."""
    counts: dict[tuple[float | None, str], list[int]] = {}
    for hour, channel, n in await _dialog_counts(tx, scope, hourly):
        counts.setdefault((hour, channel), [0, 0, 0])[0] = n
    for hour, channel, n_in, n_out in await _message_counts(tx, scope, hourly):
        row = counts.setdefault((hour, channel), [0, 0, 0])
        row[1], row[2] = n_in, n_out
    ordered = sorted(counts.items(), key=lambda kv: (kv[0][0] or 0.0, kv[0][1]))
    return [VolumeRow(hour, channel, v[0], v[1], v[2]) for (hour, channel), v in ordered]


async def _dialog_counts(
    tx: ReadTx, scope: ReportScope, hourly: bool
) -> list[tuple[float | None, str, int]]:
    where = [dialogs.c.created_at >= scope.start, dialogs.c.created_at < scope.end]
    if scope.channel is not None:
        where.append(dialogs.c.channel == scope.channel)
    where.extend(_dialog_conditions(tx, scope))
    keys: list[Any] = [dialogs.c.channel]
    if hourly:
        keys.insert(0, _hour(tx, dialogs.c.created_at))
    rows = (await tx.execute(select(*keys, func.count()).where(*where).group_by(*keys))).all()
    if hourly:
        return [(_hour_epoch(tx, r[0]), str(r[1]), int(r[2])) for r in rows]
    return [(None, str(r[0]), int(r[1])) for r in rows]


def _counted(
    dialog_where: list[ColumnElement[bool]],
    kind: str,
    direction: str,
    lo: Any,
    hi: Any,
) -> Any:
    """Messages of one channel and direction in [lo, hi): a range of ``ix_messages_volume``."""
    source: Any = messages
    where = [
        messages.c.direction == direction,
        messages.c.channel == kind,
        messages.c.created_at >= lo,
        messages.c.created_at < hi,
    ]
    if dialog_where:
        source = messages.join(dialogs, dialogs.c.id == messages.c.dialog_id)
        where.extend(dialog_where)
    return select(func.count()).select_from(source).where(*where)


async def _message_counts(
    tx: ReadTx, scope: ReportScope, hourly: bool
) -> list[tuple[float | None, str, int, int]]:
    """Per channel and direction, counted over index ranges, never by grouping a million rows
    (which on SQLite means sorting them): per hour on SQLite, one range per hour and pair."""
    kinds = [scope.channel] if scope.channel is not None else [str(c) for c in ChannelKind]
    pairs = [(kind, direction) for kind in kinds for direction in ("in", "out")]
    dialog_where = _dialog_conditions(tx, scope)
    await _without_jit(tx)
    if not hourly:
        stmt = select(
            *(
                _counted(dialog_where, k, d, scope.start, scope.end).scalar_subquery()
                for k, d in pairs
            )
        )
        rows: list[tuple[float | None, Sequence[int]]] = [(None, (await tx.execute(stmt)).one())]
    elif tx.dialect.name == "sqlite":
        bounds = _hour_bounds(scope.start, scope.end)
        hours = (
            values(column("lo", UTCDateTime()), column("hi", UTCDateTime()), name="hours")
            .data(bounds)
            .cte("hours")  # WITH hours(lo, hi) AS (VALUES …): SQLite has no VALUES … AS t(a, b)
        )
        stmt = select(
            hours.c.lo,
            *(
                _counted(dialog_where, k, d, hours.c.lo, hours.c.hi).scalar_subquery()
                for k, d in pairs
            ),
        )
        rows = [(_floor_hour(r[0]), r[1:]) for r in await tx.execute(stmt)]
    else:
        hour = _hour(tx, messages.c.created_at)
        parts = [
            _counted(dialog_where, k, d, scope.start, scope.end)
            .add_columns(literal(i).label("pair"), hour.label("hour"))
            .group_by(hour)
            for i, (k, d) in enumerate(pairs)
        ]
        by_hour: dict[float, list[int]] = {}
        for n, i, hour_value in await tx.execute(union_all(*parts)):
            by_hour.setdefault(float(hour_value), [0] * len(pairs))[i] = int(n)
        rows = list(by_hour.items())
    out: list[tuple[float | None, str, int, int]] = []
    for at, counts in rows:
        for i, kind in enumerate(kinds):
            n_in, n_out = int(counts[2 * i]), int(counts[2 * i + 1])
            if n_in or n_out:
                out.append((at, kind, n_in, n_out))
    return out


def _hour_bounds(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """[start, end) cut at every UTC hour."""
    cuts = [start]
    hour = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    while hour < end:
        cuts.append(hour)
        hour += timedelta(hours=1)
    cuts.append(end)
    return list(pairwise(cuts))


def _floor_hour(moment: datetime) -> float:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0).timestamp()
