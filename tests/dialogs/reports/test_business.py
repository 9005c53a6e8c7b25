"""The reports' vectorized business clock agrees with router.hours, the SLA code's own."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from dialogs.reports.business import BusinessClock
from router import Calendar, business_time_between
from router.hours import parse_days, parse_timezone, parse_windows

WARSAW = Calendar(
    "office",
    parse_timezone("Europe/Warsaw"),
    parse_days("mon-fri"),
    parse_windows("09:00-13:00, 14:00-17:30"),
    frozenset({date(2026, 4, 6)}),  # Easter Monday
)
LOW = datetime(2026, 3, 20, tzinfo=UTC)  # the span holds the DST change of 2026-03-29
SPAN = timedelta(days=30).total_seconds()

instants = st.floats(min_value=0, max_value=SPAN, allow_nan=False).map(
    lambda s: LOW.timestamp() + s
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(instants, instants), min_size=1, max_size=20))
def test_same_business_time_as_the_sla_clock(pairs: list[tuple[float, float]]) -> None:
    """For any pairs of instants, elapsed(b) - elapsed(a) is router.hours' business time."""
    clock = BusinessClock(WARSAW, LOW.timestamp(), LOW.timestamp() + SPAN)
    a = np.array([p[0] for p in pairs])
    b = np.array([p[1] for p in pairs])
    got = np.maximum(clock.elapsed(b) - clock.elapsed(a), 0.0)
    for (x, y), value in zip(pairs, got.tolist(), strict=True):
        want = business_time_between(
            WARSAW, datetime.fromtimestamp(x, UTC), datetime.fromtimestamp(y, UTC)
        )
        assert abs(value - want.total_seconds()) < 1e-3


def test_round_the_clock_and_missing_times() -> None:
    """Without a calendar the clock is the wall clock; NaN (no such event) stays NaN."""
    clock = BusinessClock(None, 0.0, 100.0)
    assert clock.elapsed(np.array([5.0, 50.0])).tolist() == [5.0, 50.0]
    office = BusinessClock(WARSAW, LOW.timestamp(), LOW.timestamp() + SPAN)
    assert np.isnan(office.elapsed(np.array([np.nan]))).all()
