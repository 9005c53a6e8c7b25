"""POST /api/v1/rules/replay: a draft's differences over recent history, admin only, read-only."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from inbox.context import ROUTING_SERVICES
from relaydesk.app import ROUTING
from tests.builders import api_message
from tests.conftest import AUTH, BASIC_RULES
from tests.inbox.web_helpers import add_agent, log_in

DRAFT = (
    BASIC_RULES.read_text()
    .replace(
        "  support: {team: support, strategy: least_loaded}",
        "  support: {team: support, strategy: least_loaded}\n  refunds: {team: support}",
    )
    .replace(
        "rules:\n",
        "rules:\n  - name: refunds\n    when: {text: {contains: refund}}\n    then: {task: {queue: refunds}}\n",
    )
)


async def test_replay_counts_what_a_draft_would_change(client: TestClient) -> None:
    """Two of three stored messages would go to the new queue; nothing stored changes."""
    for i, text in enumerate(["refund please", "hello", "a refund"]):
        r = await client.post(
            "/api/v1/messages", json=api_message(f"r{i}", contact=f"c{i}", text=text), headers=AUTH
        )
        assert r.status == 201
    await client.app[ROUTING].route_all()
    await client.app[ROUTING_SERVICES].dispatcher.dispatch_all()
    r = await client.post(
        "/api/v1/rules/replay", json={"rules": DRAFT, "since": "1d"}, headers=AUTH
    )
    assert r.status == 200, await r.text()
    body = await r.json()
    assert (body["examined"], body["changed"], body["truncated"]) == (3, 2, False)
    assert body["queues"]["refunds"] == {"old": 0, "new": 2, "delta": 2}
    assert {c["rule"] for c in body["changes"]} == {"refunds"}
    tasks = await (await client.get("/api/v1/tasks", headers=AUTH)).json()
    assert {t["queue"] for t in tasks["items"]} == {"support"}


async def test_replay_of_a_broken_draft_names_the_line(client: TestClient) -> None:
    """A draft that does not load is a 422 with its issues and their lines."""
    r = await client.post(
        "/api/v1/rules/replay", json={"rules": "version: 1\nqueues: [oops\n"}, headers=AUTH
    )
    assert r.status == 422
    assert (await r.json())["error"]["issues"][0]["line"] >= 1


async def test_replay_is_for_admins(client: TestClient) -> None:
    """An agent's session is refused; a bad window is a 422."""
    await add_agent(client, "bob", "bob-password")
    csrf = await log_in(client, "bob", "bob-password")
    r = await client.post("/api/v1/rules/replay", json={}, headers={"X-CSRF-Token": csrf})
    assert r.status == 403
    bad = await client.post("/api/v1/rules/replay", json={"since": "forever"}, headers=AUTH)
    assert bad.status == 422
