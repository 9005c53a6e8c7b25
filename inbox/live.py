"""Live updates: the domain event stream as Server-Sent Events (GET /api/v1/events)."""

from __future__ import annotations

import asyncio
import contextlib

import orjson
from aiohttp import web

from dialogs.events import BUS_CLOSED
from inbox.context import SERVICES

HEARTBEAT_SECONDS = 15.0


async def stream_events(request: web.Request) -> web.StreamResponse:
    bus = request.config_dict[SERVICES].bus
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
    )
    with bus.subscription() as queue:
        await response.prepare(request)
        await response.write(b": connected\n\n")
        while True:
            try:
                event = await asyncio.wait_for(queue.get(), HEARTBEAT_SECONDS)
            except TimeoutError:
                await response.write(b": heartbeat\n\n")
                continue
            if event is BUS_CLOSED:  # the server is shutting down: end the response
                break
            with contextlib.suppress(ConnectionResetError):
                await response.write(
                    b"event: "
                    + str(event.get("type", "event")).encode()
                    + b"\ndata: "
                    + orjson.dumps(event)
                    + b"\n\n"
                )
    return response
