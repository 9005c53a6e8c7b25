"""Business-hours calendars and SLA time arithmetic, correct across daylight-saving changes.

A calendar is a time zone, working weekdays, one or more daily windows of local wall-clock time
and holidays. Windows are turned into real (UTC) intervals day by day, so a 09:00-18:00 window is
nine real hours on a DST day too, and a 00:00-24:00 window is 23 or 25 hours long then.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WINDOW = re.compile(r"(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})")
_ONE_DAY = timedelta(days=1)
# a calendar whose next working moment is further away than this is treated as never working
_MAX_SEARCH_DAYS = 3660


@dataclass(frozen=True, slots=True)
class Calendar:
    """Working time: ``windows`` are (start, end) minutes after local midnight, end <= 1440."""

    name: str
    timezone: ZoneInfo
    weekdays: frozenset[int]
    windows: tuple[tuple[int, int], ...]
    holidays: frozenset[date] = frozenset()

    def intervals(self, day: date) -> Iterator[tuple[datetime, datetime]]:
        """The working intervals of a local ``day`` as UTC datetimes (none on days off)."""
        if day.weekday() not in self.weekdays or day in self.holidays:
            return
        for start, end in self.windows:
            yield self._to_utc(day, start), self._to_utc(day, end)

    def _to_utc(self, day: date, minutes: int) -> datetime:
        if minutes >= 1440:
            day, minutes = day + _ONE_DAY, minutes - 1440
        local = datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=self.timezone)
        return local.astimezone(UTC)


def parse_timezone(name: str) -> ZoneInfo:
    """An IANA zone such as ``Europe/Moscow``; raise ValueError for unknown names."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"unknown time zone {name!r} (use an IANA name like Europe/Moscow)"
        ) from exc


def parse_days(spec: str | Iterable[str]) -> frozenset[int]:
    """``mon-fri``, ``mon,wed,fri``, ``[mon, wed]``, ``[mon-thu, sat]`` -> weekday numbers."""
    parts = spec.split(",") if isinstance(spec, str) else list(spec)
    days: set[int] = set()
    for raw in parts:
        if not isinstance(raw, str):
            raise ValueError(f"bad day {raw!r}: use mon, tue, wed, thu, fri, sat, sun")
        part = raw.strip().lower()
        first, _, last = part.partition("-")
        for name in (first, last) if last else (first,):
            if name not in DAY_NAMES:
                raise ValueError(f"bad day {name!r}: use mon, tue, wed, thu, fri, sat, sun")
        start = DAY_NAMES.index(first)
        stop = DAY_NAMES.index(last) if last else start
        if stop < start:
            raise ValueError(f"bad day range {part!r}: write it from the earlier day, e.g. mon-fri")
        days.update(range(start, stop + 1))
    if not days:
        raise ValueError("days must name at least one day")
    return frozenset(days)


def parse_windows(spec: str) -> tuple[tuple[int, int], ...]:
    """``09:00-18:00`` or ``09:00-13:00, 14:00-18:00`` -> sorted (start, end) minute pairs."""
    windows: list[tuple[int, int]] = []
    for part in spec.split(","):
        match = _WINDOW.fullmatch(part.strip())
        if match is None:
            raise ValueError(f"bad time range {part.strip()!r}: write it like 09:00-18:00")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2):
            raise ValueError(f"bad time range {part.strip()!r}: hours 00-24, minutes 00-59")
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if end <= start:
            raise ValueError(
                f"bad time range {part.strip()!r}: the end must be after the start "
                "(windows over midnight are not supported; use 00:00-24:00 or two windows)"
            )
        windows.append((start, end))
    windows.sort()
    for (_, end), (start, _) in pairwise(windows):
        if start < end:
            raise ValueError(f"time ranges in {spec!r} overlap")
    return tuple(windows)


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime")


def add_business_time(start: datetime, duration: timedelta, calendar: Calendar | None) -> datetime:
    """The moment ``duration`` of working time after ``start`` (24/7 when ``calendar`` is None).

    The result is in ``start``'s time zone. A zero duration gives the next working moment.
    """
    _require_aware(start, "start")
    if duration < timedelta(0):
        raise ValueError("duration must not be negative")
    cursor = start.astimezone(UTC)
    if calendar is None:
        return (cursor + duration).astimezone(start.tzinfo)
    remaining = duration
    day = cursor.astimezone(calendar.timezone).date() - _ONE_DAY  # a window may start yesterday
    for _ in range(_MAX_SEARCH_DAYS):
        for opens, closes in calendar.intervals(day):
            if closes <= cursor:
                continue
            begin = max(opens, cursor)
            available = closes - begin
            if available >= remaining:
                return (begin + remaining).astimezone(start.tzinfo)
            remaining -= available
            cursor = closes
        day += _ONE_DAY
    raise ValueError(f"calendar {calendar.name!r} has no working time in the next ten years")


def is_business_time(calendar: Calendar | None, at: datetime) -> bool:
    """True when ``at`` falls inside a working window of ``calendar`` (always for None)."""
    _require_aware(at, "at")
    if calendar is None:
        return True
    moment = at.astimezone(UTC)
    local_day = moment.astimezone(calendar.timezone).date()
    for day in (local_day - _ONE_DAY, local_day):
        for opens, closes in calendar.intervals(day):
            if opens <= moment < closes:
                return True
    return False


def business_time_between(calendar: Calendar | None, a: datetime, b: datetime) -> timedelta:
    """Working time from ``a`` to ``b`` (zero when ``b`` is not after ``a``)."""
    _require_aware(a, "a")
    _require_aware(b, "b")
    begin, end = a.astimezone(UTC), b.astimezone(UTC)
    if end <= begin:
        return timedelta(0)
    if calendar is None:
        return end - begin
    total = timedelta(0)
    day = begin.astimezone(calendar.timezone).date() - _ONE_DAY
    last = end.astimezone(calendar.timezone).date()
    while day <= last:
        for opens, closes in calendar.intervals(day):
            low, high = max(opens, begin), min(closes, end)
            if high > low:
                total += high - low
        day += _ONE_DAY
    return total
