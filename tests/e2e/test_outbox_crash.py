"""A server killed with kill -9 while replies sit in its outbox delivers each exactly once."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from tests.channels.whatsapp.helpers import load
from tests.conftest import AUTH
from tests.e2e.server import ServerProcess
from tests.fakes.graph_api import APP_SECRET, running_graph_api, sign_webhook, whatsapp_env

pytestmark = pytest.mark.slow
REPLIES = 100


async def test_kill_9_with_100_replies_queued_delivers_all_once(
    db_url: str, tmp_path: Path
) -> None:
    """100 replies queued behind a hung provider survive kill -9 and go out once after restart."""
    async with running_graph_api() as graph, aiohttp.ClientSession() as http:
        env = {**whatsapp_env(graph), "RELAYDESK_OUTBOX_LEASE_SECONDS": "2"}
        first = ServerProcess(db_url, tmp_path / "run", env=env)
        await first.start()
        try:
            body = b"%s" % __import__("json").dumps(load("text")).encode()
            signed = {"X-Hub-Signature-256": sign_webhook(body, APP_SECRET)}
            async with http.post(f"{first.url}/webhooks/whatsapp", data=body, headers=signed) as r:
                assert r.status == 200
            async with http.get(f"{first.url}/api/v1/dialogs", headers=AUTH) as r:
                dialog_id = (await r.json())["items"][0]["id"]
            # The provider hangs, so every reply is still in the outbox when the server dies.
            graph.stall()
            for i in range(REPLIES):
                async with http.post(
                    f"{first.url}/api/v1/dialogs/{dialog_id}/replies",
                    json={"text": f"reply {i}"},
                    headers=AUTH,
                ) as r:
                    assert r.status == 201
        finally:
            first.kill()
            assert first.proc is not None
            await first.proc.wait()
        assert graph.delivered == []
        assert graph.attempts > 0  # the sender was at work when it died
        graph.resume()
        second = ServerProcess(db_url, tmp_path / "run", env=env)
        await second.start()
        try:
            await graph.wait_delivered(REPLIES, within=60)
        finally:
            await second.stop()
        texts = sorted(d["text"]["body"] for d in graph.delivered)  # counted after it stopped
        assert texts == sorted(f"reply {i}" for i in range(REPLIES))
