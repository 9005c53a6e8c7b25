"""Business time for many instants at once: a cumulative table of working seconds (numpy).

``router.hours.business_time_between`` walks the calendar day by day, which is right for one
SLA clock but too slow for a report over 100,000 tasks. Here a calendar's working intervals
over the report's span are laid out once with the working seconds before each; the business
time up to any instant is one binary search, and between two instants a subtraction.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt

from router import Calendar

Floats = npt.NDArray[np.float64]
_DAY = timedelta(days=1)


class BusinessClock:
    """Working seconds of ``calendar`` (24/7 when None) for epoch instants in [low, high]."""

    def __init__(self, calendar: Calendar | None, low: float, high: float) -> None:
        self.calendar = calendar
        starts: list[float] = []
        ends: list[float] = []
        if calendar is not None:
            tz = calendar.timezone
            day = datetime.fromtimestamp(low, UTC).astimezone(tz).date() - _DAY
            last = datetime.fromtimestamp(high, UTC).astimezone(tz).date() + _DAY
            while day <= last:
                for opens, closes in calendar.intervals(day):
                    starts.append(opens.timestamp())
                    ends.append(closes.timestamp())
                day += _DAY
        self._starts = np.array(starts, dtype=np.float64)
        self._ends = np.array(ends, dtype=np.float64)
        lengths = self._ends - self._starts
        # working seconds before each interval opens
        self._before = np.concatenate(([0.0], np.cumsum(lengths)[:-1])) if starts else lengths

    def elapsed(self, instants: Floats) -> Floats:
        """Working seconds up to each instant, from a fixed origin (NaN stays NaN). Subtract
        two of them for the business time between; for 24/7 that is the instants themselves."""
        if self.calendar is None:
            return instants
        if not len(self._starts):
            return np.where(np.isnan(instants), np.nan, 0.0)
        i = np.searchsorted(self._starts, instants, side="right") - 1
        safe = np.maximum(i, 0)
        inside = self._before[safe] + np.minimum(instants, self._ends[safe]) - self._starts[safe]
        return np.where(i < 0, 0.0, inside)
