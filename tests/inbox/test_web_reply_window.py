"""The dialog page shows WhatsApp's 24-hour window: free text inside it, only templates after."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from relaydesk.app import create_app
from relaydesk.settings import Settings
from tests.builders import api_message
from tests.conftest import AUTH
from tests.fakes.graph_api import GraphApiFake, running_graph_api, whatsapp_env
from tests.inbox.web_helpers import add_agent, log_in


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def graph() -> AsyncIterator[GraphApiFake]:
    async with running_graph_api() as fake:
        yield fake


async def test_window_closes_after_24_hours(
    aiohttp_client: Any, settings: Settings, graph: GraphApiFake
) -> None:
    """Inside the window the reply box takes text; 25 hours later it offers only a template,
    and the API refuses free text in the same way."""
    clock = Clock()
    app = create_app(
        settings.with_(channel_env=whatsapp_env(graph)), clock=clock, bootstrap_admin=False
    )
    client: TestClient = await aiohttp_client(app)
    await add_agent(client, "alice", "s3cret-pass")
    csrf = await log_in(client, "alice", "s3cret-pass")
    body = {**api_message("wa-1", contact="447700900001"), "channel": "whatsapp"}
    sent = await (await client.post("/api/v1/messages", json=body, headers=AUTH)).json()
    page = await (await client.get(f"/inbox/dialogs/{sent['dialog_id']}")).text()
    assert 'class="window open"' in page and "Free-text replies allowed until" in page
    assert 'data-template-only=""' in page

    clock.now += timedelta(hours=25)
    page = await (await client.get(f"/inbox/dialogs/{sent['dialog_id']}")).text()
    assert 'class="window closed"' in page and "only an approved template" in page
    assert 'data-template-only="1"' in page and 'name="template_name"' in page
    refused = await client.post(
        f"/api/v1/dialogs/{sent['dialog_id']}/replies",
        json={"text": "late"},
        headers={"X-CSRF-Token": csrf},
    )
    assert refused.status == 422
    assert (await refused.json())["error"]["code"] == "template_required"
