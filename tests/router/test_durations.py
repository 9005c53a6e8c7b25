"""Durations as rules.yaml writes them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from router import format_duration, parse_duration

GOOD = [
    ("15m", timedelta(minutes=15)),
    ("1h", timedelta(hours=1)),
    ("1d", timedelta(days=1)),
    ("1h30m", timedelta(hours=1, minutes=30)),
    ("2d4h", timedelta(days=2, hours=4)),
    ("90s", timedelta(seconds=90)),
]


@pytest.mark.parametrize(("text", "expected"), GOOD, ids=[g[0] for g in GOOD])
def test_parse_duration_reads_units(text: str, expected: timedelta) -> None:
    """Each unit combination parses to the matching timedelta."""
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "15", "1x", "1m1h", "0m", "-5m", "1.5h"], ids=repr)
def test_parse_duration_rejects_malformed(text: str) -> None:
    """Missing units, wrong order, zero and fractions are refused with a ValueError."""
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


@pytest.mark.parametrize(("text", "expected"), GOOD, ids=[g[0] for g in GOOD])
def test_format_duration_round_trips(text: str, expected: timedelta) -> None:
    """Formatting a parsed duration and parsing it again gives the same value."""
    assert parse_duration(format_duration(expected)) == expected
