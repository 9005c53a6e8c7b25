"""The outbox through the replies API, against a local Graph API server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from relaydesk.app import create_app
from relaydesk.settings import Settings
from tests.channels.whatsapp.helpers import find_message, load, post_webhook, settle
from tests.conftest import AUTH
from tests.fakes.graph_api import Failure, GraphApiFake, running_graph_api, whatsapp_env

FINAL = {"sent", "failed"}


class Clock:
    """Real time, moved forward on demand."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


@pytest.fixture
async def graph() -> AsyncIterator[GraphApiFake]:
    async with running_graph_api() as fake:
        yield fake


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def wa(
    aiohttp_client: Any, settings: Settings, graph: GraphApiFake, clock: Clock
) -> TestClient:
    configured = settings.with_(
        channel_env=whatsapp_env(graph), outbox_retry_base=0.01, outbox_max_attempts=5
    )
    client: TestClient = await aiohttp_client(
        create_app(configured, bootstrap_admin=False, clock=clock)
    )
    return client


async def whatsapp_dialog(client: TestClient) -> int:
    response = await post_webhook(client, load("text"))
    assert response.status == 200
    dialogs = await (await client.get("/api/v1/dialogs?channel=whatsapp", headers=AUTH)).json()
    return int(dialogs["items"][0]["id"])


async def reply(client: TestClient, dialog_id: int, body: dict[str, Any]) -> Any:
    return await client.post(f"/api/v1/dialogs/{dialog_id}/replies", json=body, headers=AUTH)


async def test_reply_is_queued_at_once_then_sent(wa: TestClient, graph: GraphApiFake) -> None:
    """A reply answers 201 with status queued, then goes out once and reads sent with a wamid."""
    dialog_id = await whatsapp_dialog(wa)
    response = await reply(wa, dialog_id, {"text": "We are on it"})
    assert response.status == 201
    body = await response.json()
    assert (body["direction"], body["status"], body["author"]) == ("out", "queued", "api")
    assert await settle(wa, body["id"], FINAL) == "sent"
    assert len(graph.delivered) == 1
    sent = graph.delivered[0]
    assert (sent["to"], sent["text"]["body"]) == ("447700900001", "We are on it")
    assert (await find_message(wa, body["id"]))["external_id"] == sent["id"]


async def test_429_then_500_then_200_delivers_exactly_once(
    wa: TestClient, graph: GraphApiFake
) -> None:
    """A reply sent while the provider answers 429, then 500, then 200 is delivered exactly once."""
    dialog_id = await whatsapp_dialog(wa)
    graph.fail_next(Failure(429, 130429, "Rate limit hit"), Failure(500))
    body = await (await reply(wa, dialog_id, {"text": "retry me"})).json()
    assert await settle(wa, body["id"], FINAL) == "sent"
    assert graph.attempts == 3
    assert [d["text"]["body"] for d in graph.delivered] == ["retry me"]


async def test_final_provider_error_shows_on_the_message(
    wa: TestClient, graph: GraphApiFake
) -> None:
    """A non-retryable provider error (131047) fails the reply with a clear message, no retry."""
    dialog_id = await whatsapp_dialog(wa)
    graph.fail_next(Failure(400, 131047, "Re-engagement message"))
    body = await (await reply(wa, dialog_id, {"text": "too late"})).json()
    assert await settle(wa, body["id"], FINAL) == "failed"
    message = await find_message(wa, body["id"])
    assert "template" in message["error"] and "131047" in message["error"]
    assert graph.attempts == 1


async def test_retries_stop_after_the_attempts_cap(wa: TestClient, graph: GraphApiFake) -> None:
    """A provider that keeps failing makes the reply fail visibly after the last attempt."""
    dialog_id = await whatsapp_dialog(wa)
    graph.fail_next(*[Failure(503) for _ in range(5)])
    body = await (await reply(wa, dialog_id, {"text": "doomed"})).json()
    assert await settle(wa, body["id"], FINAL) == "failed"
    message = await find_message(wa, body["id"])
    assert "gave up after 5 attempts" in message["error"]
    assert graph.attempts == 5 and not graph.delivered


async def test_reply_outside_24_hours_needs_a_template(
    wa: TestClient, graph: GraphApiFake, clock: Clock
) -> None:
    """Past 24 hours from the customer's last message free text is a 422; a template goes out."""
    dialog_id = await whatsapp_dialog(wa)
    clock.offset += timedelta(hours=25)
    refused = await reply(wa, dialog_id, {"text": "hello again"})
    assert refused.status == 422
    assert (await refused.json())["error"]["code"] == "template_required"
    template = {"name": "order_update", "language": "en_US", "parameters": ["42"]}
    body = await (await reply(wa, dialog_id, {"template": template})).json()
    assert await settle(wa, body["id"], FINAL) == "sent"
    sent = graph.delivered[0]["template"]
    assert sent["name"] == "order_update" and sent["language"] == {"code": "en_US"}
    assert sent["components"][0]["parameters"] == [{"type": "text", "text": "42"}]


async def test_attachment_is_uploaded_and_sent_as_media(
    wa: TestClient, graph: GraphApiFake
) -> None:
    """A reply with a PDF uploads it and sends a document message with the text as caption."""
    dialog_id = await whatsapp_dialog(wa)
    files = [
        {"filename": "label.pdf", "content_type": "application/pdf", "data_base64": "JVBERi0="}
    ]
    body = await (await reply(wa, dialog_id, {"text": "your label", "attachments": files})).json()
    assert body["attachments"][0]["size"] == 5
    assert await settle(wa, body["id"], FINAL) == "sent"
    assert graph.uploads == [("application/pdf", b"%PDF-")]
    document = graph.delivered[0]["document"]
    assert (document["caption"], document["filename"]) == ("your label", "label.pdf")


async def test_reply_counts_as_first_response_and_notes_are_not_sent(
    wa: TestClient, graph: GraphApiFake
) -> None:
    """A note is stored and never sent; a reply sets first_response_at of the open tasks."""
    dialog_id = await whatsapp_dialog(wa)
    note = await wa.post(f"/api/v1/dialogs/{dialog_id}/notes", json={"text": "VIP"}, headers=AUTH)
    assert note.status == 201
    assert (await note.json())["direction"] == "note"
    body = await (await reply(wa, dialog_id, {"text": "hi"})).json()
    assert await settle(wa, body["id"], FINAL) == "sent"
    assert len(graph.delivered) == 1
    from inbox.context import SERVICES
    from storage.tables import tasks

    async with wa.server.app[SERVICES].db.read() as tx:
        rows = (await tx.execute(tasks.select().where(tasks.c.dialog_id == dialog_id))).all()
    assert rows and all(r.first_response_at is not None for r in rows)


async def test_bad_requests_get_clear_errors(wa: TestClient) -> None:
    """Unknown dialogs are 404, empty or malformed replies 422/400."""
    assert (await reply(wa, 999999, {"text": "x"})).status == 404
    dialog_id = await whatsapp_dialog(wa)
    assert (await reply(wa, dialog_id, {"text": "  "})).status == 422
    assert (await reply(wa, dialog_id, {"text": "x", "bogus": 1})).status == 422
    raw = await wa.post(f"/api/v1/dialogs/{dialog_id}/replies", data=b"{", headers=AUTH)
    assert raw.status == 400
    assert (await wa.post(f"/api/v1/dialogs/{dialog_id}/replies", json={"text": "x"})).status == 401


async def test_unconfigured_and_api_channels_fail_visibly(client: TestClient) -> None:
    """Replies on a channel with no sender fail at once with an error naming the reason."""
    posted = await client.post(
        "/api/v1/messages",
        json={"channel": "api", "external_id": "m1", "contact": {"id": "c1"}, "text": "hi"},
        headers=AUTH,
    )
    dialog_id = (await posted.json())["dialog_id"]
    body = await (await reply(client, dialog_id, {"text": "hello"})).json()
    assert await settle(client, body["id"], FINAL) == "failed"
    assert (await find_message(client, body["id"]))["error"] == (
        "the api channel has no outbound sender"
    )
    posted = await client.post(
        "/api/v1/messages",
        json={"channel": "telegram", "external_id": "t1", "contact": {"id": "77"}, "text": "hi"},
        headers=AUTH,
    )
    dialog_id = (await posted.json())["dialog_id"]
    body = await (await reply(client, dialog_id, {"text": "hello"})).json()
    assert await settle(client, body["id"], FINAL) == "failed"
    assert (await find_message(client, body["id"]))["error"] == (
        "channel 'telegram' is not configured"
    )
