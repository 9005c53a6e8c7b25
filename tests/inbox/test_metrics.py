"""GET /metrics: this process's counters, shared state read from the database, latencies."""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp.test_utils import TestClient
from prometheus_client.parser import text_string_to_metric_families

from relaydesk.app import ROUTING
from storage import Database
from storage import agents as agent_repo
from storage.tables import tasks
from tests.builders import api_message
from tests.channels.whatsapp.helpers import settle
from tests.conftest import AUTH

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(client: TestClient) -> Samples:
    r = await client.get("/metrics", headers=AUTH)
    assert r.status == 200
    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    samples: Samples = {}
    for family in text_string_to_metric_families(await r.text()):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_counters_and_queue_lengths_follow_the_work(client: TestClient, db_url: str) -> None:
    """Ingested, duplicate, routed and created counts rise by what was done; queue lengths and
    the outbox backlog are what the database holds, whoever wrote it."""
    before = await scrape(client)
    for i in range(3):
        r = await client.post(
            "/api/v1/messages", json=api_message(f"x{i}", contact=f"c{i}"), headers=AUTH
        )
        assert r.status == 201
    assert (
        await client.post("/api/v1/messages", json=api_message("x0", contact="c0"), headers=AUTH)
    ).status == 200
    await client.app[ROUTING].route_all()
    after = await scrape(client)

    def rise(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert rise("relaydesk_messages_ingested_total", channel="api") == 3
    assert rise("relaydesk_messages_duplicate_total", channel="api") == 1
    assert rise("relaydesk_routing_decisions_total") == 3
    # in however many batches the routing worker took them
    assert 1 <= rise("relaydesk_routing_batch_messages_count") <= 3
    assert rise("relaydesk_routing_batch_messages_sum") == 3
    assert rise("relaydesk_tasks_created_total", queue="support") == 3
    assert value(after, "relaydesk_queue_tasks", queue="support", status="waiting") == 3
    assert value(after, "relaydesk_messages_unrouted") == 0

    other = Database(db_url)  # another process's write: read back from the database
    try:
        async with other.write() as tx:
            await tx.execute(tasks.update().where(tasks.c.id == 1).values(status="done"))
    finally:
        await other.dispose()
    assert (
        value(await scrape(client), "relaydesk_queue_tasks", queue="support", status="waiting") == 2
    )


async def test_failed_replies_and_the_outbox(client: TestClient) -> None:
    """A reply that cannot be sent counts as failed, and the outbox shows it."""
    before = await scrape(client)
    posted = await (
        await client.post("/api/v1/messages", json=api_message("m1"), headers=AUTH)
    ).json()
    r = await client.post(
        f"/api/v1/dialogs/{posted['dialog_id']}/replies",
        json={"text": "Cześć, привет"},
        headers=AUTH,
    )
    assert r.status == 201
    assert await settle(client, (await r.json())["id"], {"failed"}) == "failed"
    after = await scrape(client)
    failed = value(after, "relaydesk_replies_failed_total", channel="api")
    assert failed - value(before, "relaydesk_replies_failed_total", channel="api") == 1
    assert value(after, "relaydesk_outbox_messages", status="failed") == 1
    assert value(after, "relaydesk_outbox_messages", status="pending") == 0


async def test_request_latencies_by_route(client: TestClient) -> None:
    """Each answered request is observed under its route pattern and status."""
    await client.get("/api/v1/dialogs/12345", headers=AUTH)
    samples = await scrape(client)
    count = value(
        samples,
        "relaydesk_http_request_duration_seconds_count",
        method="GET",
        route="/api/v1/dialogs/{id}",
        status="404",
    )
    assert count >= 1


async def test_scraping_needs_the_token_or_an_admin(client: TestClient, db_url: str) -> None:
    """No token, a wrong one or a plain agent's: 401 JSON; an admin's token works."""
    assert (await client.get("/metrics")).status == 401
    r = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert r.status == 401 and (await r.json())["error"]["code"] == "unauthorized"
    from inbox.auth import hash_token

    db = Database(db_url)
    try:
        async with db.write() as tx:
            for login, role in (("agent1", "agent"), ("boss", "admin")):
                await agent_repo.create_agent(
                    tx,
                    login=login,
                    name=login,
                    role=role,
                    password_hash=None,
                    token_hash=hash_token(f"tok-{login}"),
                    now=datetime.now(UTC),
                )
    finally:
        await db.dispose()
    assert (
        await client.get("/metrics", headers={"Authorization": "Bearer tok-agent1"})
    ).status == 401
    assert (
        await client.get("/metrics", headers={"Authorization": "Bearer tok-boss"})
    ).status == 200
