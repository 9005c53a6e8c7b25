"""The inbox pages render what is stored, escaped, with unread counts and working filters."""

from __future__ import annotations

import base64
from typing import Any

from aiohttp.test_utils import TestClient

from inbox.context import ROUTING_SERVICES
from relaydesk.app import ROUTING
from tests.builders import api_message
from tests.conftest import AUTH
from tests.inbox.web_helpers import add_agent, log_in

HOSTILE = "<script>alert(1)</script>"
HOSTILE_IMG = '<img src=x onerror="alert(2)">'


async def ingest(client: TestClient, body: dict[str, Any]) -> dict[str, Any]:
    r = await client.post("/api/v1/messages", json=body, headers=AUTH)
    assert r.status == 201, await r.text()
    return dict(await r.json())


async def settle(client: TestClient) -> None:
    await client.app[ROUTING].route_all()
    await client.app[ROUTING_SERVICES].dispatcher.dispatch_all()


async def test_hostile_content_renders_as_text(client: TestClient) -> None:
    """Names, subjects, texts, tags and filenames with markup reach every page escaped."""
    await add_agent(client, "alice", "s3cret-pass")
    csrf = await log_in(client, "alice", "s3cret-pass")
    sent = await ingest(
        client,
        {
            **api_message("x1", contact="evil", text=HOSTILE_IMG, name=HOSTILE),
            "subject": HOSTILE,
            "tags": ['"><b>tag</b>'],
            "attachments": [
                {
                    "filename": '<svg onload="alert(3)">.html',
                    "content_type": "text/html",
                    "data_base64": base64.b64encode(b"<script>alert(4)</script>").decode(),
                }
            ],
        },
    )
    await settle(client)
    note = await client.post(
        f"/api/v1/dialogs/{sent['dialog_id']}/notes",
        json={"text": "</textarea><script>alert(5)</script>"},
        headers={"X-CSRF-Token": csrf},
    )
    assert note.status == 201
    pages = ["/inbox", f"/inbox/dialogs/{sent['dialog_id']}", "/inbox/rows?status=open"]
    pages += [f"/inbox/dialogs/{sent['dialog_id']}/timeline"]
    for path in pages:
        html = await (await client.get(path)).text()
        assert "<script>alert" not in html, path
        assert "<img src=x" not in html and "<svg" not in html and "<b>tag" not in html, path
    dialog = await (await client.get(f"/inbox/dialogs/{sent['dialog_id']}")).text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dialog
    assert "&lt;img src=x onerror=" in dialog
    assert "&lt;svg onload=" in dialog


async def test_uploaded_html_downloads_instead_of_rendering(client: TestClient) -> None:
    """An attachment that is HTML is served as a download, sandboxed and not sniffable."""
    await add_agent(client, "alice", "s3cret-pass")
    await log_in(client, "alice", "s3cret-pass")
    body = base64.b64encode(b"<script>alert(1)</script>").decode()
    sent = await ingest(
        client,
        {
            **api_message("a1"),
            "attachments": [
                {"filename": "page.html", "content_type": "text/html", "data_base64": body}
            ],
        },
    )
    dialog = await (await client.get(f"/api/v1/dialogs/{sent['dialog_id']}")).json()
    attachment_id = dialog["messages"][0]["attachments"][0]["id"]
    r = await client.get(f"/inbox/attachments/{attachment_id}")
    assert r.status == 200
    assert r.headers["Content-Type"].startswith("application/octet-stream")
    assert r.headers["Content-Disposition"].startswith("attachment;")
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert await r.read() == b"<script>alert(1)</script>"
    assert (await client.get("/inbox/attachments/999999")).status == 404


async def test_unread_counts_clear_when_the_dialog_is_opened(client: TestClient) -> None:
    """New inbound messages count as unread for each agent until that agent opens the dialog."""
    await add_agent(client, "alice", "s3cret-pass")
    await log_in(client, "alice", "s3cret-pass")
    sent = await ingest(client, api_message("u1", contact="c1"))
    await ingest(client, api_message("u2", contact="c1"))
    rows = await (await client.get("/inbox/rows")).text()
    assert 'class="badge unread-count" title="unread">2<' in rows
    await client.get(f"/inbox/dialogs/{sent['dialog_id']}")
    rows = await (await client.get("/inbox/rows")).text()
    assert "unread-count" not in rows
    await ingest(client, api_message("u3", contact="c1"))
    rows = await (await client.get("/inbox/rows")).text()
    assert 'title="unread">1<' in rows


async def test_dialog_page_shows_the_contacts_other_channels(client: TestClient) -> None:
    """The conversation holds every dialog of the contact, marked with its channel."""
    await add_agent(client, "alice", "s3cret-pass")
    await log_in(client, "alice", "s3cret-pass")
    first = await ingest(client, api_message("w1", contact="same", text="from the api"))
    r = await client.get(f"/inbox/dialogs/{first['dialog_id']}")
    html = await r.text()
    assert "from the api" in html and 'id="reply-form"' in html
    assert "reply-window" not in html  # the api channel has no reply window


async def test_filters_by_queue_assignee_and_overdue(client: TestClient) -> None:
    """Queue, assignee and overdue narrow the list; the API takes the same filters."""
    await add_agent(client, "alice", "s3cret-pass")
    await log_in(client, "alice", "s3cret-pass")
    r = await client.put("/api/v1/agents/alice/status", json={"status": "online"}, headers=AUTH)
    assert r.status == 200
    sent = await ingest(client, api_message("f1", contact="c1"))
    await settle(client)
    mine = await (await client.get("/inbox/rows?assignee=me")).text()
    assert f'data-dialog="{sent["dialog_id"]}"' in mine
    assert "No dialogs match" in await (await client.get("/inbox/rows?queue=billing")).text()
    assert (
        f'data-dialog="{sent["dialog_id"]}"'
        in await (await client.get("/inbox/rows?queue=support")).text()
    )
    api = await (
        await client.get("/api/v1/dialogs?queue=support&overdue=false", headers=AUTH)
    ).json()
    assert [d["id"] for d in api["items"]] == [sent["dialog_id"]]
    overdue = await (await client.get("/api/v1/dialogs?overdue=true", headers=AUTH)).json()
    assert overdue["items"] == []  # the basic rules set no SLA: nothing is due
    bad = await client.get("/api/v1/dialogs?overdue=maybe", headers=AUTH)
    assert bad.status == 422


async def test_tasks_show_why_they_were_routed(client: TestClient) -> None:
    """The dialog's tasks carry the routing explanation: the rule that fired, the reason."""
    await add_agent(client, "alice", "s3cret-pass")
    await log_in(client, "alice", "s3cret-pass")
    sent = await ingest(client, api_message("t1"))
    await settle(client)
    html = await (await client.get(f"/inbox/dialogs/{sent['dialog_id']}/tasks")).text()
    assert "Why is this mine?" in html
    assert "<code>everything</code>" in html
    assert 'data-field="status"' in html


async def test_agents_page_shows_load_and_queues(client: TestClient) -> None:
    """The admin sees each agent's capacity and load, and each queue's waiting tasks."""
    await add_agent(client, "root", "root-password", role="admin")
    await add_agent(client, "alice", "s3cret-pass")
    await log_in(client, "root", "root-password")
    await ingest(client, api_message("q1"))
    await settle(client)  # nobody online: the task waits
    html = await (await client.get("/admin/agents")).text()
    assert 'data-agent="alice"' in html and "/ 3" in html
    row = html[html.index('data-queue="support"') :]
    assert '<td class="num">1</td>' in row[: row.index("</tr>")]
