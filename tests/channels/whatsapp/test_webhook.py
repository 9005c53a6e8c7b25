"""The WhatsApp webhook end to end: handshake, signatures, media, duplicates, statuses."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from inbox.context import SERVICES
from relaydesk.app import SETTINGS, create_app
from relaydesk.settings import Settings
from storage.files import load_blob
from storage.tables import attachments
from tests.channels.whatsapp.helpers import (
    find_message,
    load,
    message_status,
    post_webhook,
    settle,
)
from tests.conftest import AUTH
from tests.fakes.graph_api import (
    VERIFY_TOKEN,
    GraphApiFake,
    running_graph_api,
    sign_webhook,
    whatsapp_env,
)


@pytest.fixture
async def graph() -> AsyncIterator[GraphApiFake]:
    async with running_graph_api() as fake:
        yield fake


@pytest.fixture
async def wa(aiohttp_client: Any, settings: Settings, graph: GraphApiFake) -> TestClient:
    configured = settings.with_(channel_env=whatsapp_env(graph))
    client: TestClient = await aiohttp_client(create_app(configured, bootstrap_admin=False))
    return client


async def stored_messages(client: TestClient) -> list[dict[str, Any]]:
    out = []
    dialogs = await (await client.get("/api/v1/dialogs", headers=AUTH)).json()
    for d in dialogs["items"]:
        detail = await (await client.get(f"/api/v1/dialogs/{d['id']}", headers=AUTH)).json()
        out.extend(detail["messages"])
    return out


async def test_handshake(wa: TestClient) -> None:
    """The verification GET echoes the challenge for the right token and is 403 otherwise."""
    query = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158"}
    ok = await wa.get("/webhooks/whatsapp", params=query)
    assert (ok.status, await ok.text()) == (200, "1158")
    bad = await wa.get("/webhooks/whatsapp", params={**query, "hub.verify_token": "nope"})
    assert bad.status == 403
    assert (await bad.json())["error"]["code"] == "forbidden"


@pytest.mark.parametrize(
    ("headers", "status"),
    [({}, 401), ({"X-Hub-Signature-256": "sha256=" + "0" * 64}, 403)],
    ids=["missing", "wrong"],
)
async def test_bad_signature_stores_nothing(
    wa: TestClient, headers: dict[str, str], status: int
) -> None:
    """A POST without a valid X-Hub-Signature-256 is refused and nothing is stored."""
    body = json.dumps(load("text")).encode()
    response = await wa.post("/webhooks/whatsapp", data=body, headers=headers)
    assert response.status == status
    assert "error" in await response.json()
    assert await stored_messages(wa) == []


async def test_malformed_body_is_a_400(wa: TestClient) -> None:
    """A correctly signed body that is not JSON gets a clear 400."""
    body = b"{not json"
    response = await wa.post(
        "/webhooks/whatsapp",
        data=body,
        headers={"X-Hub-Signature-256": sign_webhook(body, "test-app-secret")},
    )
    assert response.status == 400


async def test_media_is_fetched_and_stored(wa: TestClient, graph: GraphApiFake) -> None:
    """An image's bytes are fetched by media id and stored as the message's attachment."""
    graph.media["media-image"] = (b"\xff\xd8jpeg-bytes", "image/jpeg")
    assert (await post_webhook(wa, load("image"))).status == 200
    [message] = await stored_messages(wa)
    assert (message["kind"], message["text"]) == ("image", "the broken box")
    [file] = message["attachments"]
    assert (file["filename"], file["content_type"], file["size"]) == ("image.jpg", "image/jpeg", 12)
    async with wa.server.app[SERVICES].db.read() as tx:
        sha = (await tx.execute(attachments.select())).one().sha256
    root = wa.server.app[SETTINGS].data_dir / "attachments"
    assert load_blob(root, sha) == b"\xff\xd8jpeg-bytes"


async def test_duplicates_are_stored_once(wa: TestClient) -> None:
    """The same wamid redelivered, serialised differently, is stored once."""
    payload = load("several_messages_and_contacts")
    assert (await post_webhook(wa, payload)).status == 200
    reserialised = json.dumps(payload, indent=4, sort_keys=True).encode()
    assert (await post_webhook(wa, reserialised)).status == 200
    messages = await stored_messages(wa)
    assert sorted(m["external_id"] for m in messages) == ["wamid.MULTI1", "wamid.MULTI2"]
    dialogs = await (await wa.get("/api/v1/dialogs", headers=AUTH)).json()
    names = sorted(d["contact"]["name"] for d in dialogs["items"])
    assert names == ["Ann Lee", "Carl Diaz"]


def status_payload(name: str, wamid: str) -> dict[str, Any]:
    payload = load(name)
    payload["entry"][0]["changes"][0]["value"]["statuses"][0]["id"] = wamid
    return payload


async def test_statuses_out_of_order_never_go_back(wa: TestClient, graph: GraphApiFake) -> None:
    """read before delivered leaves the reply read; a late failure does not undo delivery."""
    assert (await post_webhook(wa, load("text"))).status == 200
    dialog_id = (await (await wa.get("/api/v1/dialogs", headers=AUTH)).json())["items"][0]["id"]
    body = await (
        await wa.post(f"/api/v1/dialogs/{dialog_id}/replies", json={"text": "hi"}, headers=AUTH)
    ).json()
    assert await settle(wa, body["id"], {"sent", "failed"}) == "sent"
    wamid = graph.delivered[0]["id"]
    for name in ("status_read", "status_delivered", "status_sent", "status_failed"):
        assert (await post_webhook(wa, status_payload(name, wamid))).status == 200
    message = await find_message(wa, body["id"])
    assert (message["status"], message["error"]) == ("read", None)


async def test_failed_status_shows_the_error(wa: TestClient, graph: GraphApiFake) -> None:
    """A failed status after sent marks the reply failed with the provider's reason."""
    assert (await post_webhook(wa, load("text"))).status == 200
    dialog_id = (await (await wa.get("/api/v1/dialogs", headers=AUTH)).json())["items"][0]["id"]
    body = await (
        await wa.post(f"/api/v1/dialogs/{dialog_id}/replies", json={"text": "hi"}, headers=AUTH)
    ).json()
    assert await settle(wa, body["id"], {"sent", "failed"}) == "sent"
    wamid = graph.delivered[0]["id"]
    assert (await post_webhook(wa, status_payload("status_failed", wamid))).status == 200
    message = await find_message(wa, body["id"])
    assert message["status"] == "failed" and "131047" in message["error"]


async def test_status_before_the_send_commits_is_redelivered(
    wa: TestClient, graph: GraphApiFake
) -> None:
    """A status that outruns our send (its wamid not stored yet) gets 503, not lost; Meta's
    redelivery after the send has committed applies it."""
    assert (await post_webhook(wa, load("text"))).status == 200
    dialog_id = (await (await wa.get("/api/v1/dialogs", headers=AUTH)).json())["items"][0]["id"]
    early: list[int] = []

    async def status_while_sending(wamid: str) -> None:
        response = await post_webhook(wa, status_payload("status_delivered", wamid))
        early.append(response.status)

    graph.before_answer = status_while_sending
    body = await (
        await wa.post(f"/api/v1/dialogs/{dialog_id}/replies", json={"text": "hi"}, headers=AUTH)
    ).json()
    assert await settle(wa, body["id"], {"sent", "failed"}) == "sent"
    assert early == [503]
    wamid = graph.delivered[0]["id"]
    assert (await post_webhook(wa, status_payload("status_delivered", wamid))).status == 200
    assert await message_status(wa, body["id"]) == "delivered"


async def test_status_of_a_message_we_never_sent_is_acknowledged(wa: TestClient) -> None:
    """With nothing in flight, an unknown wamid (sent by another tool) is answered 200 and
    changes nothing, so Meta does not retry it forever."""
    response = await post_webhook(wa, status_payload("status_read", "wamid.ELSEWHERE"))
    assert response.status == 200
    assert await stored_messages(wa) == []
