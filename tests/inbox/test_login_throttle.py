"""Password guessing is slowed: five failures lock the login and the address for a while."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp.test_utils import TestClient

from inbox.login_throttle import WINDOW
from relaydesk.app import create_app
from relaydesk.settings import Settings
from tests.inbox.web_helpers import add_agent, csrf_in


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


async def attempt(client: TestClient, login: str, password: str) -> Any:
    form = await client.get("/login")
    return await client.post(
        "/login",
        data={"login": login, "password": password, "csrf": csrf_in(await form.text())},
        allow_redirects=False,
    )


async def test_five_failures_lock_until_the_window_passes(
    aiohttp_client: Any, settings: Settings
) -> None:
    """After five wrong passwords even the right one is refused (429, Retry-After); later it works."""
    clock = Clock()
    client: TestClient = await aiohttp_client(
        create_app(settings, clock=clock, bootstrap_admin=False)
    )
    await add_agent(client, "alice", "s3cret-pass")
    for _ in range(5):
        assert (await attempt(client, "alice", "guess")).status == 401
    locked = await attempt(client, "alice", "s3cret-pass")
    assert locked.status == 429
    assert 0 < int(locked.headers["Retry-After"]) <= WINDOW.total_seconds() + 1
    assert "Too many failed attempts" in await locked.text()
    clock.now += WINDOW + timedelta(seconds=1)
    assert (await attempt(client, "alice", "s3cret-pass")).status == 302
