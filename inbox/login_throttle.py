"""Slows password guessing: after `MAX_FAILURES` failed logins for one login name or from one
address within `WINDOW`, further attempts for it are refused until the window has passed.

Kept in this process's memory: each `relaydesk serve` process counts on its own, and a
restart forgets. Argon2's cost per attempt is the other half of the defence.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta

from aiohttp import web

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)
MAX_KEYS = 10_000  # bounded memory under a spray of made-up logins


class LoginThrottle:
    def __init__(self, clock: Callable[[], datetime]) -> None:
        self._clock = clock
        self._failures: dict[str, deque[datetime]] = {}

    def _recent(self, key: str) -> deque[datetime]:
        times = self._failures.get(key, deque())
        cutoff = self._clock() - WINDOW
        while times and times[0] < cutoff:
            times.popleft()
        return times

    def retry_after(self, *keys: str) -> int:
        """Seconds until an attempt for these keys is allowed again; 0 when it is now."""
        wait = timedelta(0)
        for key in keys:
            times = self._recent(key)
            if len(times) >= MAX_FAILURES:
                wait = max(wait, times[0] + WINDOW - self._clock())
        return int(wait.total_seconds()) + 1 if wait > timedelta(0) else 0

    def failed(self, *keys: str) -> None:
        if len(self._failures) >= MAX_KEYS:
            self._failures.clear()
        now = self._clock()
        for key in keys:
            times = self._recent(key)
            times.append(now)
            self._failures[key] = times

    def succeeded(self, login_key: str) -> None:
        self._failures.pop(login_key, None)


THROTTLE = web.AppKey("login_throttle", LoginThrottle)


def throttle_keys(request: web.Request, login: str) -> tuple[str, str]:
    return f"login:{login.lower()}", f"addr:{request.remote or '?'}"
