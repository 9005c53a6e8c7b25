"""Widget test wiring: the real app (both engines) and a visitor speaking the socket protocol."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from relaydesk.settings import Settings

IDENTITY_SECRET = "host-site-shared-secret"


class Visitor:
    """One widget connection: sends frames, waits for the frames the server pushes."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.welcome: dict[str, Any] = {}

    async def send(self, frame: dict[str, Any]) -> None:
        await self.ws.send_json(frame)

    async def next(self, *kinds: str, within: float = 10) -> dict[str, Any]:
        """The next frame (of one of `kinds`, skipping others); fails after `within` seconds."""
        while True:
            msg = await asyncio.wait_for(self.ws.receive(), within)
            assert msg.type == aiohttp.WSMsgType.TEXT, f"socket ended: {msg.type} {msg.data}"
            frame: dict[str, Any] = msg.json()
            if not kinds or frame["type"] in kinds:
                return frame

    async def say(self, client_id: str, text: str) -> dict[str, Any]:
        await self.send({"type": "message", "client_id": client_id, "text": text})
        return await self.next("ack")

    async def close(self) -> None:
        await self.ws.close()


Connect = Callable[..., Any]


def origin_of(client: TestClient) -> str:
    return f"http://{client.host}:{client.port}"


@pytest.fixture
def widget_settings(settings: Settings) -> Settings:
    return settings.with_(widget_identity_secret=IDENTITY_SECRET)


@pytest.fixture
async def wclient(aiohttp_client, widget_settings: Settings) -> TestClient:  # type: ignore[no-untyped-def]
    from relaydesk.app import create_app

    return await aiohttp_client(create_app(widget_settings, bootstrap_admin=False))


@pytest.fixture
async def connect(wclient: TestClient) -> AsyncIterator[Connect]:
    """connect(**hello) opens a socket from the server's own origin and says hello."""
    opened: list[Visitor] = []

    async def _connect(origin: str | None = None, **hello: Any) -> Visitor:
        ws = await wclient.ws_connect(
            "/widget/ws", headers={"Origin": origin or origin_of(wclient)}
        )
        visitor = Visitor(ws)
        opened.append(visitor)
        await visitor.send({"type": "hello", **hello})
        visitor.welcome = await visitor.next()
        return visitor

    yield _connect
    for v in opened:
        await v.close()
