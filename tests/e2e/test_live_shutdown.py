"""A server going down ends the agents' live event streams instead of waiting on them."""

from __future__ import annotations

import time
from pathlib import Path

import aiohttp

from tests.conftest import AUTH
from tests.e2e.server import ServerProcess


async def test_sigterm_ends_open_event_streams(tmp_path: Path) -> None:
    """SIGTERM with an inbox's event stream open: the stream ends and the process exits
    promptly (before, it waited for the stream's next heartbeat write to fail, up to 15 s)."""
    server = ServerProcess(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", tmp_path)
    await server.start()
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{server.url}/api/v1/events", headers=AUTH) as stream,
    ):
        assert await stream.content.readline() == b": connected\n"
        started = time.monotonic()
        assert await server.stop() == 0
        assert time.monotonic() - started < 5
        assert await stream.content.read() == b"\n"  # the rest of the stream, then its end
