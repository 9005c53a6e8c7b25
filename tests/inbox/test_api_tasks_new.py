"""POST /api/v1/tasks: a task made by hand from a message waits in its queue and is assigned."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from inbox.context import ROUTING_SERVICES
from relaydesk.app import ROUTING
from tests.builders import api_message
from tests.conftest import AUTH
from tests.inbox.web_helpers import add_agent


async def test_task_from_a_message_is_queued_then_assigned(client: TestClient) -> None:
    """The new task carries the message's dialog, a title and who made it; an online agent gets it."""
    await add_agent(client, "alice", "s3cret-pass")
    sent = await (
        await client.post(
            "/api/v1/messages",
            json=api_message("m1", text="Card declined\nplease help"),
            headers=AUTH,
        )
    ).json()
    await client.app[ROUTING].route_all()
    r = await client.post(
        "/api/v1/tasks", json={"message_id": sent["id"], "queue": "support"}, headers=AUTH
    )
    assert r.status == 201, await r.text()
    task = await r.json()
    assert (task["dialog_id"], task["title"], task["status"]) == (
        sent["dialog_id"],
        "Card declined",
        "waiting",
    )
    assert (
        task["decision"]["assignment"]["reason"] == f"made by hand by api from message {sent['id']}"
    )
    await client.put("/api/v1/agents/alice/status", json={"status": "online"}, headers=AUTH)
    await client.app[ROUTING_SERVICES].dispatcher.dispatch_all()
    tasks = await (await client.get("/api/v1/tasks?assignee=alice", headers=AUTH)).json()
    assert task["id"] in [t["id"] for t in tasks["items"]]


async def test_bad_task_requests_are_clear_errors(client: TestClient) -> None:
    """Unknown queue: 422; unknown message: 404; nothing is created."""
    sent = await (
        await client.post("/api/v1/messages", json=api_message("m1"), headers=AUTH)
    ).json()
    await client.app[ROUTING].route_all()
    before = await (await client.get("/api/v1/tasks", headers=AUTH)).json()
    r = await client.post(
        "/api/v1/tasks", json={"message_id": sent["id"], "queue": "nope"}, headers=AUTH
    )
    assert r.status == 422 and (await r.json())["error"]["code"] == "unknown_queue"
    r = await client.post(
        "/api/v1/tasks", json={"message_id": 999999, "queue": "support"}, headers=AUTH
    )
    assert r.status == 404
    r = await client.post("/api/v1/tasks", json={"queue": "support"}, headers=AUTH)
    assert r.status == 422
    tasks = await (await client.get("/api/v1/tasks", headers=AUTH)).json()
    assert tasks["items"] == before["items"]
