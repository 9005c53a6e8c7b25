"""The report endpoints: admins only, and the responses match the OpenAPI document."""

from __future__ import annotations

from datetime import UTC, datetime

import jsonschema
from aiohttp.test_utils import TestClient

from inbox.auth import hash_token
from relaydesk.app import ROUTING
from storage import Database
from storage import agents as agent_repo
from tests.builders import api_message
from tests.conftest import AUTH


async def test_responses_match_the_document(client: TestClient) -> None:
    """Summary and timeseries (by day and by hour) validate against their documented schemas."""
    await client.post(
        "/api/v1/messages", json=api_message("m1", text="Zwrot — возврат"), headers=AUTH
    )
    await client.app[ROUTING].route_all()
    doc = await (await client.get("/api/v1/openapi.json")).json()
    for path, query in (
        ("/api/v1/reports/summary", {}),
        ("/api/v1/reports/timeseries", {"interval": "day"}),
        ("/api/v1/reports/timeseries", {"interval": "hour", "tz": "Asia/Kolkata"}),
    ):
        r = await client.get(path, params=query, headers=AUTH)
        assert r.status == 200
        body = await r.json()
        content = doc["paths"][path]["get"]["responses"]["200"]["content"]
        schema = {**content["application/json"]["schema"], "components": doc["components"]}
        jsonschema.Draft202012Validator(schema).validate(body)
    assert body["heatmap"]["days"][0] == "mon" and len(body["heatmap"]["counts"][0]) == 24
    summary = await (await client.get("/api/v1/reports/summary", headers=AUTH)).json()
    assert summary["totals"]["messages_in"] == 1 and summary["totals"]["tasks_created"] == 1
    assert summary["queues"][0]["queue"] == "support"


async def test_agents_are_refused(client: TestClient, db_url: str) -> None:
    """An agent's token gets 403: the figures of every agent are for admins."""
    db = Database(db_url)
    try:
        async with db.write() as tx:
            await agent_repo.create_agent(
                tx,
                login="alice",
                name="Alice",
                role="agent",
                password_hash=None,
                token_hash=hash_token("tok-alice"),
                now=datetime.now(UTC),
            )
    finally:
        await db.dispose()
    r = await client.get("/api/v1/reports/summary", headers={"Authorization": "Bearer tok-alice"})
    assert r.status == 403 and (await r.json())["error"]["code"] == "forbidden"
    assert (await client.get("/api/v1/reports/timeseries")).status == 401
