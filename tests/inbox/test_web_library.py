"""Saved views per agent, and canned replies with their variables filled in."""

from __future__ import annotations

import json
import re

from aiohttp.test_utils import TestClient

from dialogs.canned import fill_canned
from tests.builders import api_message
from tests.conftest import AUTH
from tests.inbox.web_helpers import add_agent, log_in


async def test_saved_views_belong_to_their_agent(client: TestClient) -> None:
    """A saved view keeps only the list's filters and shows for its owner only."""
    await add_agent(client, "alice", "s3cret-pass")
    await add_agent(client, "bob", "bob-password")
    csrf = await log_in(client, "alice", "s3cret-pass")
    r = await client.post(
        "/inbox/views",
        data={
            "csrf": csrf,
            "name": "VIP <urgent>",
            "query": "?tag=vip&cursor=abc&evil=1&status=open",
        },
        allow_redirects=False,
    )
    assert r.status == 302 and r.headers["Location"] == "/inbox?status=open&tag=vip"
    page = await (await client.get("/inbox?status=open&tag=vip")).text()
    assert 'href="/inbox?status=open&amp;tag=vip">VIP &lt;urgent&gt;</a>' in page
    assert 'class="view-chip active"' in page
    await client.post("/logout", data={"csrf": csrf})
    await log_in(client, "bob", "bob-password")
    assert "VIP &lt;urgent&gt;" not in await (await client.get("/inbox")).text()


async def test_deleting_a_view(client: TestClient) -> None:
    """An agent deletes their own view; the form needs the CSRF token."""
    await add_agent(client, "alice", "s3cret-pass")
    csrf = await log_in(client, "alice", "s3cret-pass")
    await client.post("/inbox/views", data={"csrf": csrf, "name": "Mine", "query": "assignee=me"})
    page = await (await client.get("/inbox")).text()
    view_id = re.search(r'action="/inbox/views/(\d+)/delete"', page)
    assert view_id
    refused = await client.post(f"/inbox/views/{view_id.group(1)}/delete", data={})
    assert refused.status == 403
    await client.post(f"/inbox/views/{view_id.group(1)}/delete", data={"csrf": csrf})
    assert "/inbox/views/" not in await (await client.get("/inbox")).text()


async def test_canned_replies_fill_their_variables(client: TestClient) -> None:
    """An admin adds a canned reply; the dialog page offers it filled for that contact and agent."""
    await add_agent(client, "root", "root-password", role="admin", name="Rita Root")
    csrf = await log_in(client, "root", "root-password")
    r = await client.post(
        "/admin/canned",
        data={
            "csrf": csrf,
            "title": "Greeting",
            "body": "Hi {{contact.name}}, {{agent.name}} here. {{nope.x}}",
        },
        allow_redirects=False,
    )
    assert r.status == 302
    again = await client.post(
        "/admin/canned",
        data={"csrf": csrf, "title": "Greeting", "body": "x"},
        allow_redirects=False,
    )
    assert again.headers["Location"] == "/admin/canned?error=exists"
    sent = await (
        await client.post(
            "/api/v1/messages", json=api_message("c1", name="Ann </script>"), headers=AUTH
        )
    ).json()
    page = await (await client.get(f"/inbox/dialogs/{sent['dialog_id']}")).text()
    data = re.search(r'<script type="application/json" id="canned-data">(.*?)</script>', page, re.S)
    assert data
    assert json.loads(data.group(1)) == ["Hi Ann </script>, Rita Root here. {{nope.x}}"]


async def test_agents_cannot_manage_canned_replies(client: TestClient) -> None:
    """Canned replies are the admins' to change."""
    await add_agent(client, "bob", "bob-password")
    csrf = await log_in(client, "bob", "bob-password")
    r = await client.post("/admin/canned", data={"csrf": csrf, "title": "t", "body": "b"})
    assert r.status == 403


def test_fill_canned_leaves_unknown_variables() -> None:
    """Known variables are replaced, spaces inside braces allowed; unknown ones stay visible."""
    assert (
        fill_canned(
            "{{ contact.name }}/{{dialog.id}}/{{x.y}}", {"contact.name": "A", "dialog.id": "7"}
        )
        == "A/7/{{x.y}}"
    )
