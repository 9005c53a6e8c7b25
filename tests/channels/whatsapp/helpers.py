"""Shared steps for WhatsApp tests: load a recorded payload, post it signed, await statuses."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from inbox.context import SERVICES
from tests.fakes.graph_api import APP_SECRET, sign_webhook

DATA = Path(__file__).resolve().parents[2] / "data" / "whatsapp"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / f"{name}.json").read_text())
    return data


async def post_webhook(client: TestClient, payload: dict[str, Any] | bytes) -> Any:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return await client.post(
        "/webhooks/whatsapp",
        data=body,
        headers={
            "X-Hub-Signature-256": sign_webhook(body, APP_SECRET),
            "Content-Type": "application/json",
        },
    )


async def settle(
    client: TestClient, message_id: int, statuses: set[str], within: float = 15
) -> str:
    """Wait on the live event bus until message `message_id` reaches one of `statuses`."""
    bus = client.server.app[SERVICES].bus
    with bus.subscription() as queue:
        current = await message_status(client, message_id)
        async with asyncio.timeout(within):
            while current not in statuses:
                event = await queue.get()
                if event.get("type") == "message_updated" and event["message_id"] == message_id:
                    current = event["status"]
    return current


async def message_status(client: TestClient, message_id: int) -> str:
    return str((await find_message(client, message_id))["status"])


async def find_message(client: TestClient, message_id: int) -> dict[str, Any]:
    from tests.conftest import AUTH

    dialogs = await (await client.get("/api/v1/dialogs", headers=AUTH)).json()
    for d in dialogs["items"]:
        detail = await (await client.get(f"/api/v1/dialogs/{d['id']}", headers=AUTH)).json()
        for m in detail["messages"]:
            if m["id"] == message_id:
                return dict(m)
    raise AssertionError(f"message {message_id} not found")
