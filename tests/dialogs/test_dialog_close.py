"""A dialog closes when its last task is done, and the customer's next message reopens it."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from relaydesk.app import ROUTING
from tests.builders import api_message
from tests.conftest import AUTH


async def post(client: TestClient, external_id: str, text: str = "hello") -> dict[str, Any]:
    r = await client.post(
        "/api/v1/messages", json=api_message(external_id, contact="ann", text=text), headers=AUTH
    )
    assert r.status == 201, await r.text()
    await client.app[ROUTING].route_all()
    return dict(await r.json())


async def dialog(client: TestClient, dialog_id: int) -> dict[str, Any]:
    return dict(await (await client.get(f"/api/v1/dialogs/{dialog_id}", headers=AUTH)).json())


async def finish(client: TestClient, task_id: int, status: str = "done") -> None:
    r = await client.patch(f"/api/v1/tasks/{task_id}", json={"status": status}, headers=AUTH)
    assert r.status == 200, await r.text()


async def test_last_task_done_closes_the_dialog_and_a_reply_reopens_it(
    client: TestClient,
) -> None:
    """Done on the only task closes the dialog; the customer's next message reopens the same
    dialog (within the window) with a new task."""
    sent = await post(client, "m1")
    [task] = (await dialog(client, sent["dialog_id"]))["tasks"]
    await finish(client, task["id"])
    closed = await dialog(client, sent["dialog_id"])
    assert closed["status"] == "closed"

    again = await post(client, "m2", "one more question")
    assert again["dialog_id"] == sent["dialog_id"]
    reopened = await dialog(client, sent["dialog_id"])
    assert reopened["status"] == "open"
    open_tasks = [t for t in reopened["tasks"] if t["status"] not in ("done", "cancelled")]
    assert len(open_tasks) == 1 and open_tasks[0]["id"] != task["id"]


async def test_a_dialog_with_work_left_stays_open(client: TestClient) -> None:
    """With a second task still open, finishing the first leaves the dialog open; cancelling
    the second closes it."""
    sent = await post(client, "m1", "two things")
    r = await client.post(
        "/api/v1/tasks", json={"message_id": sent["id"], "queue": "support"}, headers=AUTH
    )
    assert r.status == 201, await r.text()
    first, second = sorted(t["id"] for t in (await dialog(client, sent["dialog_id"]))["tasks"])
    await finish(client, first)
    assert (await dialog(client, sent["dialog_id"]))["status"] == "open"
    await finish(client, second, "cancelled")
    assert (await dialog(client, sent["dialog_id"]))["status"] == "closed"
