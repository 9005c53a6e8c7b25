"""Business-hours calendars and SLA arithmetic, including daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from router import (
    Calendar,
    RuleSet,
    add_business_time,
    business_time_between,
    is_business_time,
    sla_due_times,
)
from router.hours import parse_days, parse_windows

MSK = ZoneInfo("Europe/Moscow")
WAW = ZoneInfo("Europe/Warsaw")
OFFICE_MSK = Calendar(
    "office",
    MSK,
    parse_days("mon-fri"),
    parse_windows("09:00-18:00"),
    frozenset({date(2026, 1, 2)}),
)
OFFICE_WAW = Calendar("office", WAW, parse_days("mon-fri"), parse_windows("09:00-18:00"))
ALWAYS_WAW = Calendar("always", WAW, parse_days("mon-sun"), parse_windows("00:00-24:00"))
LUNCH_MSK = Calendar("lunch", MSK, parse_days("mon-fri"), parse_windows("09:00-13:00, 14:00-18:00"))

ADD_CASES = [
    (
        "24/7 counts real hours over the spring change",
        None,
        datetime(2026, 3, 29, 1, 0, tzinfo=WAW),
        timedelta(hours=2),
        datetime(2026, 3, 29, 4, 0, tzinfo=WAW),
    ),
    (
        "friday evening rolls to monday",
        OFFICE_MSK,
        datetime(2026, 3, 6, 17, 0, tzinfo=MSK),
        timedelta(hours=2),
        datetime(2026, 3, 9, 10, 0, tzinfo=MSK),
    ),
    (
        "before opening starts at opening",
        OFFICE_MSK,
        datetime(2026, 3, 2, 7, 0, tzinfo=MSK),
        timedelta(minutes=30),
        datetime(2026, 3, 2, 9, 30, tzinfo=MSK),
    ),
    (
        "holiday is skipped",
        OFFICE_MSK,
        datetime(2026, 1, 1, 17, 30, tzinfo=MSK),
        timedelta(hours=1),
        datetime(2026, 1, 5, 9, 30, tzinfo=MSK),
    ),
    (
        "lunch break is skipped",
        LUNCH_MSK,
        datetime(2026, 3, 2, 12, 30, tzinfo=MSK),
        timedelta(hours=1),
        datetime(2026, 3, 2, 14, 30, tzinfo=MSK),
    ),
    (
        "warsaw office across the spring change",
        OFFICE_WAW,
        datetime(2026, 3, 27, 17, 0, tzinfo=WAW),
        timedelta(hours=2),
        datetime(2026, 3, 30, 10, 0, tzinfo=WAW),
    ),
    (
        "all-day calendar: 24h over the 23-hour day",
        ALWAYS_WAW,
        datetime(2026, 3, 28, 12, 0, tzinfo=WAW),
        timedelta(hours=24),
        datetime(2026, 3, 29, 13, 0, tzinfo=WAW),
    ),
    (
        "all-day calendar: 24h over the 25-hour day",
        ALWAYS_WAW,
        datetime(2026, 10, 24, 12, 0, tzinfo=WAW),
        timedelta(hours=24),
        datetime(2026, 10, 25, 11, 0, tzinfo=WAW),
    ),
    (
        "start given in UTC, answer in UTC",
        OFFICE_MSK,
        datetime(2026, 3, 6, 14, 0, tzinfo=UTC),
        timedelta(hours=2),
        datetime(2026, 3, 9, 7, 0, tzinfo=UTC),
    ),
]


@pytest.mark.parametrize(
    ("start", "duration", "calendar", "expected"),
    [(c[2], c[3], c[1], c[4]) for c in ADD_CASES],
    ids=[c[0] for c in ADD_CASES],
)
def test_add_business_time(
    start: datetime, duration: timedelta, calendar: Calendar | None, expected: datetime
) -> None:
    """Working time is added window by window, in real elapsed time, skipping days off."""
    result = add_business_time(start, duration, calendar)
    assert result == expected
    assert result.tzinfo == start.tzinfo


DAY_LENGTHS = [
    ("spring change day is 23 hours", date(2026, 3, 29), timedelta(hours=23)),
    ("autumn change day is 25 hours", date(2026, 10, 25), timedelta(hours=25)),
    ("ordinary day is 24 hours", date(2026, 3, 30), timedelta(hours=24)),
]


@pytest.mark.parametrize(
    ("day", "expected"), [c[1:] for c in DAY_LENGTHS], ids=[c[0] for c in DAY_LENGTHS]
)
def test_all_day_window_follows_dst(day: date, expected: timedelta) -> None:
    """A 00:00-24:00 window holds as much real time as the local day has."""
    start = datetime(day.year, day.month, day.day, tzinfo=WAW)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=WAW)
    assert business_time_between(ALWAYS_WAW, start, end) == expected


INSIDE = [
    ("monday 15:00 msk", datetime(2026, 3, 2, 12, 0, tzinfo=UTC), True),
    ("monday 08:59 msk", datetime(2026, 3, 2, 8, 59, tzinfo=MSK), False),
    ("monday 18:00 msk is closed", datetime(2026, 3, 2, 18, 0, tzinfo=MSK), False),
    ("saturday noon", datetime(2026, 3, 7, 12, 0, tzinfo=MSK), False),
    ("holiday noon", datetime(2026, 1, 2, 12, 0, tzinfo=MSK), False),
]


@pytest.mark.parametrize(("at", "expected"), [c[1:] for c in INSIDE], ids=[c[0] for c in INSIDE])
def test_is_business_time(at: datetime, expected: bool) -> None:
    """Inside means a working day, not a holiday, within [open, close)."""
    assert is_business_time(OFFICE_MSK, at) is expected


def test_business_time_between_counts_only_working_time() -> None:
    """From Friday 17:00 to Monday 10:00 there are two working hours; backwards there are none."""
    friday = datetime(2026, 3, 6, 17, 0, tzinfo=MSK)
    monday = datetime(2026, 3, 9, 10, 0, tzinfo=MSK)
    assert business_time_between(OFFICE_MSK, friday, monday) == timedelta(hours=2)
    assert business_time_between(OFFICE_MSK, monday, friday) == timedelta(0)
    assert business_time_between(None, friday, monday) == monday - friday


def test_sla_due_times_use_the_policy_calendar(ruleset: RuleSet) -> None:
    """standard counts office hours (Moscow, 9-18); urgent has no calendar and counts 24/7."""
    created = datetime(2026, 3, 6, 17, 30, tzinfo=MSK)
    assert sla_due_times(ruleset, "standard", created) == (
        datetime(2026, 3, 9, 9, 30, tzinfo=MSK),
        datetime(2026, 3, 11, 14, 30, tzinfo=MSK),
    )
    assert sla_due_times(ruleset, "urgent", created) == (
        created + timedelta(minutes=15),
        created + timedelta(hours=4),
    )


def test_naive_datetimes_are_refused() -> None:
    """A naive start would make the arithmetic ambiguous, so it raises ValueError."""
    with pytest.raises(ValueError, match="timezone-aware"):
        add_business_time(datetime(2026, 3, 2, 9, 0), timedelta(hours=1), OFFICE_MSK)


@settings(max_examples=150, deadline=None)
@given(
    start=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31)),
    minutes=st.integers(min_value=0, max_value=60 * 24 * 10),
    calendar=st.sampled_from([OFFICE_WAW, ALWAYS_WAW, LUNCH_MSK, OFFICE_MSK]),
)
def test_business_time_between_inverts_add(
    start: datetime, minutes: int, calendar: Calendar
) -> None:
    """The working time between a start and start+d (in working time) is exactly d."""
    aware = start.replace(tzinfo=UTC)
    duration = timedelta(minutes=minutes)
    due = add_business_time(aware, duration, calendar)
    assert due >= aware
    assert business_time_between(calendar, aware, due) == duration
