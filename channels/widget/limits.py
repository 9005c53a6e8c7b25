"""Per-key rate limits for the widget (per visitor, per IP): refuse, never queue.

A refused message is not stored; the widget keeps it and sends it again after
`retry_after`, so a limit delays a visitor's message but never loses it. The buckets live
in this process: with several processes, each applies the limit to the sockets it holds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Rate:
    per_second: float
    burst: int


class KeyedLimiter:
    """A token bucket per key; idle buckets (refilled to full) are forgotten."""

    def __init__(self, rate: Rate, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._rate = rate
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, stamp)
        self._checks = 0

    def take(self, key: str) -> float:
        """Take a token for `key`: 0.0 when allowed, else the seconds until one is due."""
        now = self._clock()
        tokens, stamp = self._buckets.get(key, (float(self._rate.burst), now))
        tokens = min(self._rate.burst, tokens + (now - stamp) * self._rate.per_second)
        self._checks += 1
        if self._checks % 1000 == 0:
            self._forget_full(now)
        if tokens < 1:
            self._buckets[key] = (tokens, now)
            return (1 - tokens) / self._rate.per_second
        self._buckets[key] = (tokens - 1, now)
        return 0.0

    def _forget_full(self, now: float) -> None:
        rate = self._rate
        self._buckets = {
            k: (t, s)
            for k, (t, s) in self._buckets.items()
            if t + (now - s) * rate.per_second < rate.burst
        }
