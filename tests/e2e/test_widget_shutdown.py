"""A server going down closes the widget's sockets at once, telling widgets to come back."""

from __future__ import annotations

import time
from pathlib import Path

import aiohttp

from tests.e2e.server import ServerProcess


async def test_sigterm_closes_open_widget_sockets_with_service_restart(tmp_path: Path) -> None:
    """SIGTERM with a visitor connected: the process exits promptly and the socket is closed
    with 1012 (service restart), so the widget reconnects and resumes elsewhere."""
    server = ServerProcess(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", tmp_path)
    await server.start()
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(
            server.url.replace("http", "ws") + "/widget/ws", origin=server.url
        )
        await ws.send_json({"type": "hello"})
        assert (await ws.receive_json())["type"] == "welcome"
        started = time.monotonic()
        assert await server.stop() == 0
        assert time.monotonic() - started < 10  # aiohttp would wait 60 s on an open socket
        closing = await ws.receive()
        assert closing.type == aiohttp.WSMsgType.CLOSE and closing.data == 1012
