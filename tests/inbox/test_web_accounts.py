"""Admins add agents and change roles from the agents page; the last admin stays one."""

from __future__ import annotations

import re

from aiohttp.test_utils import TestClient

from tests.inbox.web_helpers import add_agent, log_in


async def test_admin_adds_an_agent_who_can_log_in(client: TestClient) -> None:
    """A generated password is shown once and works; a taken or bad login is refused."""
    await add_agent(client, "root", "root-password", role="admin")
    csrf = await log_in(client, "root", "root-password")
    r = await client.post(
        "/admin/agents", data={"csrf": csrf, "login": "carol", "name": "Carol <C>", "role": "agent"}
    )
    assert r.status == 200
    html = await r.text()
    password = re.search(r'id="new-password">([^<]+)</pre>', html)
    assert password
    taken = await client.post(
        "/admin/agents", data={"csrf": csrf, "login": "carol", "role": "agent"}
    )
    assert taken.status == 409
    bad = await client.post(
        "/admin/agents", data={"csrf": csrf, "login": "no spaces", "role": "agent"}
    )
    assert bad.status == 422
    agents = await (await client.get("/admin/agents")).text()
    assert 'data-agent="carol"' in agents and "Carol &lt;C&gt;" in agents
    await client.post("/logout", data={"csrf": csrf})
    await log_in(client, "carol", password.group(1))


async def test_roles_change_but_the_last_admin_stays(client: TestClient) -> None:
    """An admin promotes an agent; demoting the only admin is refused."""
    await add_agent(client, "root", "root-password", role="admin")
    await add_agent(client, "bob", "bob-password")
    csrf = await log_in(client, "root", "root-password")
    last = await client.post("/admin/agents/root/role", data={"csrf": csrf, "role": "agent"})
    assert last.status == 409
    r = await client.post(
        "/admin/agents/bob/role", data={"csrf": csrf, "role": "admin"}, allow_redirects=False
    )
    assert r.status == 302
    now = await client.post(
        "/admin/agents/root/role", data={"csrf": csrf, "role": "agent"}, allow_redirects=False
    )
    assert now.status == 302
    assert (
        await client.get("/admin/agents", allow_redirects=False)
    ).status == 403  # root is an agent now


async def test_agents_cannot_manage_accounts(client: TestClient) -> None:
    """The account forms are under /admin: an agent is refused."""
    await add_agent(client, "bob", "bob-password")
    csrf = await log_in(client, "bob", "bob-password")
    r = await client.post("/admin/agents", data={"csrf": csrf, "login": "eve", "role": "admin"})
    assert r.status == 403
    r = await client.post("/admin/agents/bob/role", data={"csrf": csrf, "role": "admin"})
    assert r.status == 403
