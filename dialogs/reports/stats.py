"""Order statistics as the reports define them (documented so that anyone can recompute them)."""

from __future__ import annotations

import math


def median_and_p90(values: list[float]) -> tuple[float | None, float | None]:
    """The median (the mean of the two middle values for an even count) and the 90th
    percentile by nearest rank (the smallest value that at least 90% of values do not exceed);
    None for no values. ``values`` is sorted in place."""
    if not values:
        return None, None
    values.sort()
    n = len(values)
    mid = n // 2
    middle = values[mid] if n % 2 else (values[mid - 1] + values[mid]) / 2
    return middle, values[math.ceil(0.9 * n) - 1]


def ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def seconds(value: float | None) -> float | None:
    """Durations are reported in seconds, to the millisecond."""
    return None if value is None else round(value, 3)
