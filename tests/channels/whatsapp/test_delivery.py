"""Delivery statuses only move forward, whatever order the provider reports them in."""

from __future__ import annotations

import pytest

from channels.base import backoff
from channels.whatsapp.signature import build_signature, handshake_challenge, is_valid_signature
from dialogs.delivery import next_status
from dialogs.model import MessageStatus as S

TABLE = [
    ("queued", S.SENT, S.SENT),
    ("sent", S.DELIVERED, S.DELIVERED),
    ("read", S.DELIVERED, None),
    ("delivered", S.READ, S.READ),
    ("queued", S.READ, S.READ),
    ("sent", S.FAILED, S.FAILED),
    ("delivered", S.FAILED, None),
    ("read", S.SENT, None),
    ("failed", S.DELIVERED, None),
]


@pytest.mark.parametrize(
    ("current", "incoming", "expected"), TABLE, ids=[f"{c}+{i}" for c, i, _ in TABLE]
)
def test_next_status(current: str, incoming: S, expected: S | None) -> None:
    """Read wins over a late delivered; failed only before delivery."""
    assert next_status(current, incoming) == expected


def test_signature_is_checked_over_the_exact_bytes() -> None:
    """A signature matches only its own body and secret, and needs the sha256= prefix."""
    body = b'{"entry": []}'
    good = build_signature(body, "s3cret")
    assert is_valid_signature(body, good, "s3cret")
    assert not is_valid_signature(body + b" ", good, "s3cret")
    assert not is_valid_signature(body, good, "other")
    assert not is_valid_signature(body, good.removeprefix("sha256="), "s3cret")
    assert not is_valid_signature(body, None, "s3cret")


def test_handshake() -> None:
    """The challenge is echoed only for mode=subscribe with the right token."""
    ok = {"hub.mode": "subscribe", "hub.verify_token": "t", "hub.challenge": "42"}
    assert handshake_challenge(ok, "t") == "42"
    assert handshake_challenge({**ok, "hub.verify_token": "x"}, "t") is None
    assert handshake_challenge({**ok, "hub.mode": "unsubscribe"}, "t") is None
    assert handshake_challenge(ok, None) is None


def test_backoff_grows_and_is_capped() -> None:
    """Backoff has full jitter under an exponential ceiling that the cap bounds."""
    assert all(0 <= backoff(1, base=1) <= 1 for _ in range(50))
    assert all(0 <= backoff(5, base=1) <= 16 for _ in range(50))
    assert all(backoff(40, base=1, cap=30) <= 30 for _ in range(50))
