"""The outbox's token buckets, on a fake clock whose sleep moves time instead of waiting."""

from __future__ import annotations

import pytest

from channels.base import RateLimit
from dialogs.rate_limit import ChannelLimiter, TokenBucket


class FakeTime:
    """A monotonic clock that only moves when something sleeps (or a test advances it)."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        self.now += seconds


@pytest.fixture
def clock() -> FakeTime:
    return FakeTime()


def bucket(clock: FakeTime, rate: float, burst: int = 1) -> TokenBucket:
    return TokenBucket(rate, burst, clock=clock, sleep=clock.sleep)


@pytest.mark.parametrize(
    ("rate", "burst", "waits"),
    [
        (10, 1, [0.0, 0.1, 0.2, 0.3]),
        (10, 3, [0.0, 0.0, 0.0, 0.1, 0.2]),
        (1, 1, [0.0, 1.0, 2.0]),
        (30, 0, [0.0, 1 / 30]),  # a burst below one still lets one through
    ],
    ids=["no-burst", "burst-of-three", "one-per-second", "burst-clamped-to-one"],
)
def test_reserve_returns_the_next_available_time(
    clock: FakeTime, rate: float, burst: int, waits: list[float]
) -> None:
    """Back-to-back reservations get the burst at once, then one token each 1/rate later."""
    b = bucket(clock, rate, burst)
    assert [round(b.reserve(), 6) for _ in waits] == [round(w, 6) for w in waits]


def test_tokens_refill_with_time_up_to_the_burst(clock: FakeTime) -> None:
    """An idle bucket refills at `rate` but never saves up more than `burst` tokens."""
    b = bucket(clock, rate=10, burst=3)
    assert [b.reserve() for _ in range(3)] == [0.0, 0.0, 0.0]
    clock.now += 0.15  # one and a half tokens earned
    assert b.reserve() == 0.0
    assert b.reserve() == pytest.approx(0.05)
    clock.now += 60  # long idle: back to a full burst, not 600 tokens
    assert [b.reserve() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert b.reserve() == pytest.approx(0.1)


async def test_acquire_sleeps_exactly_the_reserved_wait(clock: FakeTime) -> None:
    """acquire() returns at once while tokens last, then sleeps until the next one is due."""
    b = bucket(clock, rate=4, burst=2)
    for _ in range(4):
        await b.acquire()
    assert clock.slept == [0.25, 0.25]
    assert clock.now == pytest.approx(100.5)


async def test_overall_limit_paces_sends_to_different_addresses(clock: FakeTime) -> None:
    """With only an overall limit, sends to distinct addresses are spaced 1/rate apart."""
    limiter = ChannelLimiter(RateLimit(per_second=2, burst=2), clock=clock, sleep=clock.sleep)
    for address in ("a", "b", "c", "d"):
        await limiter.acquire(address)
    assert clock.slept == [0.5, 0.5]


async def test_per_address_limit_holds_one_chat_but_not_another(clock: FakeTime) -> None:
    """A second send to the same chat waits a second; a send to another chat does not."""
    limiter = ChannelLimiter(RateLimit(per_address_per_second=1.0), clock=clock, sleep=clock.sleep)
    await limiter.acquire("chat-1")
    await limiter.acquire("chat-2")
    assert clock.slept == []
    await limiter.acquire("chat-1")
    assert clock.slept == [1.0]
    await limiter.acquire("chat-2")  # its second already passed while chat-1 waited
    assert clock.slept == [1.0]


async def test_both_limits_apply_telegram_style(clock: FakeTime) -> None:
    """Telegram's 30/s overall and 1/s per chat: 30 chats take 29/30 s, a repeat waits 1 s."""
    limiter = ChannelLimiter(
        RateLimit(per_second=30.0, per_address_per_second=1.0, burst=1),
        clock=clock,
        sleep=clock.sleep,
    )
    start = clock.now
    for chat in range(30):
        await limiter.acquire(str(chat))
    assert clock.now - start == pytest.approx(29 / 30)
    await limiter.acquire("0")  # the first chat's second is not up yet
    assert clock.now - start == pytest.approx(1.0)
    assert len(clock.slept) == 30  # 29 overall waits, then the chat's own: no extra overall one


async def test_many_chats_do_not_reset_a_busy_chats_limit(clock: FakeTime) -> None:
    """Past max_addresses only refilled buckets are forgotten: a chat that just sent still waits."""
    limiter = ChannelLimiter(
        RateLimit(per_address_per_second=1.0), max_addresses=2, clock=clock, sleep=clock.sleep
    )
    await limiter.acquire("idle")
    clock.now += 5  # "idle" refills
    await limiter.acquire("busy")
    await limiter.acquire("third")  # at the cap: forgets "idle", keeps "busy"
    await limiter.acquire("busy")
    assert clock.slept == [1.0]
    await limiter.acquire("fourth")  # "busy" and "third" both still owe: the cap grows instead
    await limiter.acquire("third")
    assert clock.slept == [1.0]  # "third"'s second passed while "busy" waited


async def test_a_destination_can_have_its_own_rate(clock: FakeTime) -> None:
    """A rate given with the address (a Telegram group's 20 a minute) replaces the default."""
    limiter = ChannelLimiter(RateLimit(per_address_per_second=1.0), clock=clock, sleep=clock.sleep)
    await limiter.acquire("-100", 20 / 60)
    await limiter.acquire("-100", 20 / 60)
    assert clock.slept == [pytest.approx(3.0)]
