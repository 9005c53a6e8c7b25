"""POST /api/v1/messages: acknowledged when durable, idempotent, and strict about input."""

from __future__ import annotations

import asyncio
import base64
import io

import orjson
import pytest
from aiohttp.test_utils import TestClient

from tests.builders import api_message
from tests.conftest import AUTH


async def dialog_count(client: TestClient) -> int:
    r = await client.get("/api/v1/dialogs?limit=200", headers=AUTH)
    return len((await r.json())["items"])


async def test_new_message_is_201_and_redelivery_200(client: TestClient) -> None:
    """The first post creates the message (201); the same external id again returns it (200)."""
    r1 = await client.post("/api/v1/messages", json=api_message("m1"), headers=AUTH)
    r2 = await client.post("/api/v1/messages", json=api_message("m1"), headers=AUTH)
    b1, b2 = await r1.json(), await r2.json()
    assert (r1.status, r2.status) == (201, 200)
    assert b1["duplicate"] is False and b2 == {**b1, "duplicate": True}


async def test_message_shows_in_dialog_with_attachment(client: TestClient) -> None:
    """A posted message, with its base64 attachment, is in the dialog detail."""
    body = api_message(
        "m1",
        text="Счёт во вложении",
        attachments=[
            {
                "filename": "invoice.pdf",
                "content_type": "application/pdf",
                "data_base64": base64.b64encode(b"%PDF-1.7 test").decode(),
            }
        ],
    )
    accepted = await (await client.post("/api/v1/messages", json=body, headers=AUTH)).json()
    dialog = await (
        await client.get(f"/api/v1/dialogs/{accepted['dialog_id']}", headers=AUTH)
    ).json()
    [message] = dialog["messages"]
    assert message["text"] == "Счёт во вложении" and message["direction"] == "in"
    assert message["attachments"][0]["filename"] == "invoice.pdf"
    assert message["attachments"][0]["size"] == len(b"%PDF-1.7 test")
    assert dialog["contact"]["identities"] == [{"channel": "api", "address": "c-1"}]


async def test_twenty_concurrent_clients_one_message(client: TestClient) -> None:
    """20 concurrent posts of one external id: one 201, nineteen 200, one stored message."""
    responses = await asyncio.gather(
        *(
            client.post("/api/v1/messages", json=api_message("same"), headers=AUTH)
            for _ in range(20)
        )
    )
    assert sorted(r.status for r in responses) == [200] * 19 + [201]
    ids = {(await r.json())["id"] for r in responses}
    assert len(ids) == 1
    dialog = await (await client.get("/api/v1/dialogs", headers=AUTH)).json()
    detail = await (
        await client.get(f"/api/v1/dialogs/{dialog['items'][0]['id']}", headers=AUTH)
    ).json()
    assert len(detail["messages"]) == 1


BAD_BODIES = [
    pytest.param(b"{not json", 400, "malformed_json", id="malformed-json"),
    pytest.param(b"[1, 2]", 422, "invalid", id="not-an-object"),
    pytest.param(
        b'{"external_id": "x", "contact": {"id": "c"}, "text": 5}', 422, "invalid", id="wrong-type"
    ),
    pytest.param(b'{"external_id": "x", "text": "hi"}', 422, "invalid", id="missing-contact"),
    pytest.param(
        b'{"channel": "fax", "external_id": "x", "contact": {"id": "c"}}',
        422,
        "invalid",
        id="unknown-channel",
    ),
    pytest.param(
        b'{"external_id": "", "contact": {"id": "c"}}', 422, "invalid", id="empty-external-id"
    ),
    pytest.param(
        b'{"external_id": "x", "contact": {"id": "c"}, "surprise": 1}',
        422,
        "invalid",
        id="unknown-field",
    ),
    pytest.param(
        b'{"external_id": "x", "contact": {"id": "c"}, "attachments": '
        b'[{"filename": "a", "data_base64": "@@@"}]}',
        422,
        "invalid",
        id="bad-base64",
    ),
]


@pytest.mark.parametrize(("body", "status", "code"), BAD_BODIES)
async def test_bad_input_is_a_json_4xx_and_stores_nothing(
    client: TestClient, body: bytes, status: int, code: str
) -> None:
    """Bad bodies get a JSON error naming the problem; nothing is stored; serving goes on."""
    r = await client.post(
        "/api/v1/messages", data=body, headers={**AUTH, "Content-Type": "application/json"}
    )
    payload = await r.json()
    assert r.status == status and payload["error"]["code"] == code and payload["error"]["message"]
    assert await dialog_count(client) == 0
    ok = await client.post("/api/v1/messages", json=api_message("after"), headers=AUTH)
    assert ok.status == 201


async def test_ten_megabyte_body_is_413(client: TestClient) -> None:
    """A 10 MB body is refused with 413 and a JSON error; nothing is stored."""
    huge = orjson.dumps(api_message("big", text="x" * (10 * 1024 * 1024)))
    r = await client.post(
        "/api/v1/messages",
        data=io.BytesIO(huge),
        headers={**AUTH, "Content-Type": "application/json"},
    )
    assert r.status == 413
    assert (await r.json())["error"]["code"] == "payload_too_large"
    assert await dialog_count(client) == 0


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": "Basic dGVzdDp0ZXN0"},
        {"Authorization": "Bearer "},
    ],
    ids=["none", "wrong", "basic", "empty"],
)
async def test_missing_or_wrong_token_is_401(client: TestClient, headers: dict[str, str]) -> None:
    """Without the right bearer token: 401 with a JSON error, and nothing stored."""
    r = await client.post("/api/v1/messages", json=api_message("m1"), headers=headers)
    assert r.status == 401 and (await r.json())["error"]["code"] == "unauthorized"
    assert await dialog_count(client) == 0


async def test_agent_token_authenticates(client: TestClient) -> None:
    """An agent's own API token works like the static one."""
    from inbox.auth import hash_token
    from inbox.context import SERVICES
    from storage import agents as agent_repo

    svc = client.app[SERVICES]
    async with svc.db.write() as tx:
        await agent_repo.create_agent(
            tx,
            login="alice",
            name="Alice",
            role="agent",
            password_hash=None,
            token_hash=hash_token("rd_alice"),
            now=svc.clock(),
        )
    r = await client.get("/api/v1/agents", headers={"Authorization": "Bearer rd_alice"})
    assert r.status == 200
    assert [a["login"] for a in (await r.json())["items"]] == ["alice"]


async def test_unknown_api_path_is_json_404(client: TestClient) -> None:
    """Unknown API paths answer with a JSON 404, not an HTML page."""
    r = await client.get("/api/v1/nope", headers=AUTH)
    assert r.status == 404 and (await r.json())["error"]["code"] == "not_found"


async def test_wrong_method_is_json_405(client: TestClient) -> None:
    """A wrong method on a known path answers with a JSON 405."""
    r = await client.delete("/api/v1/messages", headers=AUTH)
    assert r.status == 405 and (await r.json())["error"]["code"] == "method_not_allowed"
