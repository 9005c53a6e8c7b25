"""Durations as written in rules.yaml: ``15m``, ``1h``, ``1d``, ``1h30m``, ``90s``."""

from __future__ import annotations

import re
from datetime import timedelta

_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")


def parse_duration(text: str) -> timedelta:
    """Parse ``1d2h30m15s`` (any subset, in that order) into a timedelta; raise ValueError."""
    if not isinstance(text, str):
        raise ValueError(f"duration must be a string like 30m, 1h or 1h30m, got {text!r}")
    match = _DURATION.fullmatch(text.strip())
    if not text.strip() or match is None:
        raise ValueError(
            f"bad duration {text!r}: use a number with a unit d, h, m or s, e.g. 15m, 1h, 1d, 1h30m"
        )
    days, hours, minutes, seconds = (int(part) if part else 0 for part in match.groups())
    total = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    if total <= timedelta(0):
        raise ValueError(f"duration {text!r} must be longer than zero")
    return total


def format_duration(value: timedelta) -> str:
    """Render a timedelta the way rules.yaml writes it: ``1h30m``; ``0s`` for zero."""
    seconds = int(value.total_seconds())
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    parts = []
    for unit, size in _UNITS.items():
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return sign + ("".join(parts) or "0s")
