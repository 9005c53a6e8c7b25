"""GET /api/v1/events: every event, in order, one frame each; bursts share a write."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from aiohttp import StreamReader
from aiohttp.test_utils import TestClient

import inbox.live
from inbox.context import SERVICES
from tests.conftest import AUTH


async def frames(content: StreamReader, n: int) -> list[tuple[str, dict[str, Any]]]:
    """The next `n` events on the stream, as (event name, data)."""
    out: list[tuple[str, dict[str, Any]]] = []
    name = ""
    while len(out) < n:
        line = await asyncio.wait_for(content.readline(), 10)
        if line.startswith(b"event: "):
            name = line[7:].strip().decode()
        elif line.startswith(b"data: "):
            out.append((name, orjson.loads(line[6:])))
    return out


async def test_a_burst_arrives_whole_and_in_order(client: TestClient) -> None:
    """More events than one write carries, delivered at once: each arrives as its own frame
    with its type as the event name, none lost, none doubled, in delivery order."""
    bus = client.app[SERVICES].bus
    burst = [
        {"type": "task_changed" if i % 2 else "dialog_updated", "dialog_id": i}
        for i in range(inbox.live.MAX_EVENTS_PER_WRITE * 2 + 7)
    ]
    async with client.get("/api/v1/events", headers=AUTH) as stream:
        assert await stream.content.readline() == b": connected\n"
        bus.deliver(burst)
        got = await frames(stream.content, len(burst))
        later = {"type": "agent_changed", "login": "ann"}
        bus.deliver([later])  # the stream waits for the next one, and sends it too
        assert await frames(stream.content, 1) == [("agent_changed", later)]
    assert got == [(e["type"], e) for e in burst]


async def test_events_queued_before_shutdown_are_sent_then_the_stream_ends(
    client: TestClient,
) -> None:
    bus = client.app[SERVICES].bus
    async with client.get("/api/v1/events", headers=AUTH) as stream:
        assert await stream.content.readline() == b": connected\n"
        bus.deliver([{"type": "dialog_updated", "dialog_id": 1}])
        bus.close()
        rest = await asyncio.wait_for(stream.content.read(), 10)
    assert rest == b'\nevent: dialog_updated\ndata: {"type":"dialog_updated","dialog_id":1}\n\n'


async def test_a_quiet_stream_sends_heartbeats(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inbox.live, "HEARTBEAT_SECONDS", 0.05)
    async with client.get("/api/v1/events", headers=AUTH) as stream:
        assert await stream.content.readline() == b": connected\n"
        assert await asyncio.wait_for(stream.content.readline(), 10) == b"\n"
        assert await asyncio.wait_for(stream.content.readline(), 10) == b": heartbeat\n"


async def test_a_client_that_leaves_is_unsubscribed_without_an_error(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Once the client has gone, the stream drops its subscription and ends, without an
    error in the log."""
    monkeypatch.setattr(inbox.live, "HEARTBEAT_SECONDS", 0.05)
    bus = client.app[SERVICES].bus
    left = asyncio.Event()
    subscribe = bus.subscription

    @contextlib.contextmanager
    def observed() -> Iterator[asyncio.Queue[dict[str, Any]]]:
        try:
            with subscribe() as queue:
                yield queue
        finally:
            left.set()

    monkeypatch.setattr(bus, "subscription", observed)
    async with client.get("/api/v1/events", headers=AUTH) as stream:
        assert await stream.content.readline() == b": connected\n"
    await asyncio.wait_for(left.wait(), 10)
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
