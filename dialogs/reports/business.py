"""Business time between many pairs of instants, fast: a cumulative table of working seconds.

``router.hours.business_time_between`` walks the calendar day by day, which is right for one
SLA clock but too slow for a report over 100,000 tasks. Here a calendar's working intervals
over the report's span are laid out once, with the working seconds before each; the business
time up to any instant is then one binary search, and between two instants a subtraction.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import UTC, datetime, timedelta

from router import Calendar

_DAY = timedelta(days=1)


class BusinessClock:
    """Working seconds of ``calendar`` (24/7 when None) between epoch instants in [low, high]."""

    def __init__(self, calendar: Calendar | None, low: float, high: float) -> None:
        self.calendar = calendar
        self._starts: list[float] = []
        self._ends: list[float] = []
        self._before: list[float] = []  # working seconds before each interval starts
        if calendar is None:
            return
        tz = calendar.timezone
        day = datetime.fromtimestamp(low, UTC).astimezone(tz).date() - _DAY
        last = datetime.fromtimestamp(high, UTC).astimezone(tz).date() + _DAY
        total = 0.0
        while day <= last:
            for opens, closes in calendar.intervals(day):
                start, end = opens.timestamp(), closes.timestamp()
                self._starts.append(start)
                self._ends.append(end)
                self._before.append(total)
                total += end - start
            day += _DAY

    def elapsed(self, instant: float) -> float:
        """Working seconds from the start of the table up to ``instant``."""
        i = bisect_right(self._starts, instant) - 1
        if i < 0:
            return 0.0
        return self._before[i] + min(instant, self._ends[i]) - self._starts[i]

    def between(self, a: float, b: float) -> float:
        """Working seconds from ``a`` to ``b`` (zero when ``b`` is not after ``a``)."""
        if b <= a:
            return 0.0
        if self.calendar is None:
            return b - a
        return self.elapsed(b) - self.elapsed(a)
