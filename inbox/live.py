"""Live updates: the domain event stream as Server-Sent Events (GET /api/v1/events)."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from aiohttp import web

from dialogs.events import BUS_CLOSED
from inbox.context import SERVICES

HEARTBEAT_SECONDS = 15.0
# Events already queued are sent together, in one write of at most this many: one write
# (and one system call) per burst rather than per event, as a busy desk's events come in
# bursts (a routing batch reports dozens at once).
MAX_EVENTS_PER_WRITE = 256


async def stream_events(request: web.Request) -> web.StreamResponse:
    bus = request.config_dict[SERVICES].bus
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
    )
    with bus.subscription() as queue:
        await response.prepare(request)
        try:
            await response.write(b": connected\n\n")
            while True:
                try:
                    events = await _next_events(queue)
                except TimeoutError:
                    await response.write(b": heartbeat\n\n")
                    continue
                chunk, closed = _frames(events)
                if chunk:
                    await response.write(chunk)
                if closed:  # the server is shutting down: end the response
                    break
        except ConnectionResetError:  # the client went away: nothing more to send
            pass
    return response


async def _next_events(queue: asyncio.Queue[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events queued now (at most MAX_EVENTS_PER_WRITE); if none, waits for the next
    one, or raises TimeoutError after HEARTBEAT_SECONDS."""
    events = []
    if queue.empty():
        async with asyncio.timeout(HEARTBEAT_SECONDS):
            events.append(await queue.get())
    while len(events) < MAX_EVENTS_PER_WRITE and not queue.empty():
        events.append(queue.get_nowait())
    return events


def _frames(events: list[dict[str, Any]]) -> tuple[bytes, bool]:
    """`events` as SSE frames, up to BUS_CLOSED if it is among them, and whether it was."""
    frames: list[bytes] = []
    for event in events:
        if event is BUS_CLOSED:
            return b"".join(frames), True
        kind = str(event.get("type", "event")).encode()
        frames.append(b"event: " + kind + b"\ndata: " + orjson.dumps(event) + b"\n\n")
    return b"".join(frames), False
