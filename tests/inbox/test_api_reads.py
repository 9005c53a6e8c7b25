"""GET dialogs, tasks and agents: filters, cursor pagination, shapes."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from relaydesk.app import ROUTING
from tests.builders import api_message
from tests.conftest import AUTH


async def post(client: TestClient, body: dict[str, Any]) -> dict[str, Any]:
    r = await client.post("/api/v1/messages", json=body, headers=AUTH)
    assert r.status == 201
    return dict(await r.json())


async def get(client: TestClient, path: str, status: int = 200) -> Any:
    r = await client.get(path, headers=AUTH)
    assert r.status == status, await r.text()
    return await r.json()


async def test_pages_cover_every_dialog_once(client: TestClient) -> None:
    """Following next_cursor visits every dialog exactly once, newest activity first."""
    for i in range(23):
        await post(client, api_message(f"m{i}", contact=f"c{i}"))
    seen: list[int] = []
    path = "/api/v1/dialogs?limit=5"
    while True:
        page = await get(client, path)
        seen += [d["id"] for d in page["items"]]
        if page["next_cursor"] is None:
            break
        path = f"/api/v1/dialogs?limit=5&cursor={page['next_cursor']}"
    assert len(seen) == 23 and len(set(seen)) == 23
    assert seen == sorted(seen, reverse=True)  # same-instant ties break by id


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("channel=widget", ["w"]),
        ("tag=vip", ["vip"]),
        ("q=refund", ["vip"]),
        ("q=REFUND", ["vip"]),
        ("status=open", ["a", "vip", "w"]),
        ("status=closed", []),
        ("q=100%25", ["a"]),
    ],
    ids=[
        "channel",
        "tag",
        "text",
        "text-any-case",
        "status-open",
        "status-closed",
        "text-literal-percent",
    ],
)
async def test_dialog_filters(client: TestClient, query: str, expected: list[str]) -> None:
    """Each filter narrows the list to the dialogs that match it."""
    await post(client, api_message("1", contact="a", text="it works 100% of the time"))
    await post(client, api_message("2", contact="vip", text="I want a refund", tags=["vip"]))
    await post(client, {**api_message("3", contact="w"), "channel": "widget"})
    page = await get(client, f"/api/v1/dialogs?{query}")
    got = sorted(d["contact"]["identities"][0]["address"] for d in page["items"])
    assert got == expected


@pytest.mark.parametrize(
    "query",
    ["status=maybe", "channel=fax", "limit=0", "limit=abc", "cursor=%%%", "cursor=WzFd"],
    ids=["status", "channel", "limit-zero", "limit-text", "cursor-garbage", "cursor-foreign"],
)
async def test_bad_query_is_422(client: TestClient, query: str) -> None:
    """Invalid filters or cursors are a JSON 422, never a 500."""
    body = await get(client, f"/api/v1/dialogs?{query}", status=422)
    assert body["error"]["code"] == "invalid"


async def test_dialog_detail_has_messages_and_task_with_decision(client: TestClient) -> None:
    """After routing, the dialog shows its messages and its one task with the rule that made it."""
    first = await post(client, api_message("m1", text="first"))
    await post(client, api_message("m2", text="second"))
    await client.app[ROUTING].route_all()
    dialog = await get(client, f"/api/v1/dialogs/{first['dialog_id']}")
    assert [m["text"] for m in dialog["messages"]] == ["first", "second"]
    [task] = dialog["tasks"]
    assert task["queue"] == "support" and task["status"] == "waiting"
    assert task["decision"]["rules"] == ["everything"]
    assert task["decision"]["rules_version"]
    detail = await get(client, f"/api/v1/tasks/{task['id']}")
    assert detail == task


async def test_follow_up_joins_the_open_task(client: TestClient) -> None:
    """A follow-up message in a dialog joins its open task instead of making another."""
    for i in range(3):
        await post(client, api_message(f"m{i}"))
        await client.app[ROUTING].route_all()
    tasks = await get(client, "/api/v1/tasks")
    assert len(tasks["items"]) == 1


async def test_task_filters_and_pages(client: TestClient) -> None:
    """Tasks filter by queue and status and page with next_cursor."""
    for i in range(7):
        await post(client, api_message(f"m{i}", contact=f"c{i}"))
    await client.app[ROUTING].route_all()
    first = await get(client, "/api/v1/tasks?limit=4&status=waiting&queue=support")
    second = await get(client, f"/api/v1/tasks?limit=4&cursor={first['next_cursor']}")
    ids = [t["id"] for t in first["items"] + second["items"]]
    assert len(ids) == 7 == len(set(ids)) and second["next_cursor"] is None
    assert (await get(client, "/api/v1/tasks?queue=billing"))["items"] == []


async def test_missing_ids_are_404(client: TestClient) -> None:
    """Unknown or non-numeric ids are JSON 404s."""
    for path in ("/api/v1/dialogs/999", "/api/v1/dialogs/abc", "/api/v1/tasks/999"):
        assert (await get(client, path, status=404))["error"]["code"] == "not_found"


async def test_agents_show_profile_from_rules(client: TestClient) -> None:
    """Agents list capacity, skills and teams from rules.yaml beside their account."""
    from inbox.context import SERVICES
    from storage import agents as agent_repo

    svc = client.app[SERVICES]
    async with svc.db.write() as tx:
        for login in ("bob", "zed"):
            await agent_repo.create_agent(
                tx,
                login=login,
                name=login.title(),
                role="agent",
                password_hash=None,
                token_hash=None,
                now=svc.clock(),
            )
    items = (await get(client, "/api/v1/agents"))["items"]
    assert items == [
        {
            "login": "bob",
            "name": "Bob",
            "role": "agent",
            "status": "offline",
            "capacity": 2,
            "load": 0.0,
            "skills": ["en", "ru"],
            "teams": ["support"],
        },
        {
            "login": "zed",
            "name": "Zed",
            "role": "agent",
            "status": "offline",
            "capacity": 0,
            "load": 0.0,
            "skills": [],
            "teams": [],
        },
    ]


async def test_healthz(client: TestClient) -> None:
    """/healthz answers ok without a token once the database answers."""
    r = await client.get("/healthz")
    assert r.status == 200 and await r.json() == {"status": "ok"}
