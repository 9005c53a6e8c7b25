"""A report's period and time zone from what people type: dates (whole local days) or instants."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from router.hours import parse_timezone

DEFAULT_DAYS = 7
MAX_DAYS = 732


@dataclass(frozen=True, slots=True)
class Period:
    """[start, end) in UTC-aware datetimes, read and bucketed in ``timezone``."""

    start: datetime
    end: datetime
    timezone: ZoneInfo


def parse_zone(name: str | None) -> ZoneInfo:
    return parse_timezone(name or "UTC")


def _bound(text: str, zone: ZoneInfo, *, is_end: bool, name: str) -> datetime:
    """A date is a whole local day (an end date is included); a date-time is exact."""
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            if is_end:
                day += timedelta(days=1)
            return datetime.combine(day, time(0), tzinfo=zone)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{name}: {text!r} is not a date (2026-11-01) or date-time (2026-11-01T09:00:00+03:00)"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


def parse_period(start: str | None, end: str | None, zone: ZoneInfo, now: datetime) -> Period:
    """Defaults: the last ``DEFAULT_DAYS`` days up to now. Raise ValueError on bad input."""
    end_at = _bound(end, zone, is_end=True, name="to") if end else now
    start_at = (
        _bound(start, zone, is_end=False, name="from")
        if start
        else end_at - timedelta(days=DEFAULT_DAYS)
    )
    if end_at <= start_at:
        raise ValueError("to: must be after from")
    if end_at - start_at > timedelta(days=MAX_DAYS):
        raise ValueError(f"the period may span at most {MAX_DAYS} days")
    return Period(start_at, end_at, zone)
