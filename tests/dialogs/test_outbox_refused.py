"""The outbox against a Graph API whose port refuses connections until it comes back."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from aiohttp.test_utils import TestClient
from structlog.testing import capture_logs
from structlog.typing import EventDict

from relaydesk.app import create_app
from relaydesk.settings import Settings
from tests.channels.whatsapp.helpers import settle
from tests.dialogs.test_outbox import FINAL, reply, whatsapp_dialog
from tests.fakes.graph_api import GraphApiFake, running_graph_api, whatsapp_env


def free_port() -> int:
    """A loopback port nothing listens on (yet): connecting to it is refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_reply_sent_while_refused_is_delivered_once_the_provider_is_back(
    aiohttp_client: Any, settings: Settings
) -> None:
    """A refused send is retried with backoff and delivered exactly once when the port opens."""
    port = free_port()
    env = whatsapp_env(GraphApiFake(url=f"http://127.0.0.1:{port}"))
    configured = settings.with_(channel_env=env, outbox_retry_base=0.05, outbox_max_attempts=10)
    wa: TestClient[Any, Any] = await aiohttp_client(create_app(configured, bootstrap_admin=False))
    dialog_id = await whatsapp_dialog(wa)
    retried = asyncio.Event()

    def on_retry(_logger: Any, _method: str, event: EventDict) -> EventDict:
        if event.get("event") == "reply_send_retried":
            retried.set()
        return event

    with capture_logs(processors=[on_retry]) as logs:
        body = await (await reply(wa, dialog_id, {"text": "are you there?"})).json()
        await asyncio.wait_for(retried.wait(), 10)  # one send already failed: nothing listens
        async with running_graph_api(port=port) as graph:
            assert await settle(wa, body["id"], FINAL) == "sent"
    [first, *_] = [e for e in logs if e["event"] == "reply_send_retried"]
    assert (first["message_id"], first["code"]) == (body["id"], "network")
    assert graph.attempts == 1  # the refused attempts never reached it; the one that did, won
    assert [d["text"]["body"] for d in graph.delivered] == ["are you there?"]
