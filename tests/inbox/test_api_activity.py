"""POST /api/v1/dialogs/{id}/activity reaches every live subscriber, on both engines."""

from __future__ import annotations

import asyncio

from aiohttp.test_utils import TestClient

from inbox.context import SERVICES
from tests.conftest import AUTH


async def test_activity_is_streamed_not_stored(client: TestClient) -> None:
    """A typing notice arrives on the event bus with who and where; bad states are 422."""
    with client.app[SERVICES].bus.subscription() as events:
        r = await client.post("/api/v1/dialogs/7/activity", json={"state": "typing"}, headers=AUTH)
        assert r.status == 204
        event = await asyncio.wait_for(events.get(), 10)
    assert event == {"type": "agent_activity", "dialog_id": 7, "login": "api", "state": "typing"}
    bad = await client.post("/api/v1/dialogs/7/activity", json={"state": "dancing"}, headers=AUTH)
    assert bad.status == 422
    anonymous = await client.post("/api/v1/dialogs/7/activity", json={"state": "typing"})
    assert anonymous.status == 401
