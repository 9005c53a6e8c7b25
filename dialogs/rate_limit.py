"""Token buckets for the outbox: per channel kind, and per address within a channel."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from channels.base import RateLimit

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class TokenBucket:
    """`rate` tokens a second, at most `burst` saved up; `acquire` waits for one.

    `clock` and `sleep` are injectable so tests can drive time without waiting for it.
    """

    def __init__(
        self,
        rate: float,
        burst: int = 1,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.rate = rate
        self.burst = max(1, burst)
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(self.burst)
        self._stamp = clock()
        self._lock = asyncio.Lock()

    def reserve(self) -> float:
        """Take a token now, possibly one not yet earned; seconds until it is due."""
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now
        self._tokens -= 1
        return 0.0 if self._tokens >= 0 else -self._tokens / self.rate

    def is_full(self) -> bool:
        """True when the bucket has refilled: it then acts exactly like a new one."""
        earned = (self._clock() - self._stamp) * self.rate
        return self._tokens + earned >= self.burst

    async def acquire(self) -> None:
        async with self._lock:
            wait = self.reserve()
        if wait > 0:
            await self._sleep(wait)  # pacing to the provider's limit, not waiting on an event


class ChannelLimiter:
    """Paces one channel's sends: overall, then to each address."""

    def __init__(
        self,
        limit: RateLimit,
        *,
        max_addresses: int = 10_000,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._limit = limit
        self._clock = clock
        self._sleep = sleep
        self._overall = (
            TokenBucket(limit.per_second, limit.burst, clock=clock, sleep=sleep)
            if limit.per_second
            else None
        )
        self._per_address: dict[str, TokenBucket] = {}
        self._max_addresses = max_addresses

    async def acquire(self, address: str, rate: float | None = None) -> None:
        """Wait for `address`'s turn (at `rate` a second, else the limit's per-address
        rate), then for the channel's."""
        rate = rate or self._limit.per_address_per_second
        if rate:
            bucket = self._per_address.get(address)
            if bucket is None:
                if len(self._per_address) >= self._max_addresses:
                    self._forget_idle()
                bucket = TokenBucket(rate, 1, clock=self._clock, sleep=self._sleep)
                self._per_address[address] = bucket
            await bucket.acquire()
        if self._overall is not None:
            await self._overall.acquire()

    def _forget_idle(self) -> None:
        """Drop the buckets that have refilled; a recently used one keeps its debt."""
        self._per_address = {a: b for a, b in self._per_address.items() if not b.is_full()}
        if len(self._per_address) >= self._max_addresses:  # that many chats are all busy
            self._max_addresses *= 2
