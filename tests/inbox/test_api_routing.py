"""PATCH tasks, agent presence, rules GET/PUT/test: assignment follows every change at once."""

from __future__ import annotations

import asyncio
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from structlog.testing import capture_logs

from inbox.auth import hash_token
from inbox.context import ROUTING_SERVICES, SERVICES
from relaydesk.app import ROUTING
from relaydesk.settings import Settings
from storage import agents as agent_repo
from tests.builders import api_message
from tests.conftest import AUTH, BASIC_RULES, DATA, TOKEN


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    """The basic rules, copied: PUT /api/v1/rules writes the file."""
    rules = tmp_path / "rules" / "rules.yaml"
    rules.parent.mkdir()
    shutil.copyfile(BASIC_RULES, rules)
    return Settings(
        database_url=db_url, api_token=TOKEN, data_dir=tmp_path / "data", rules_path=rules
    )


def bearer(login: str) -> dict[str, str]:
    return {"Authorization": f"Bearer tok-{login}"}


async def add_agent(client: TestClient, login: str, role: str = "agent") -> None:
    svc = client.app[SERVICES]
    async with svc.db.write() as tx:
        await agent_repo.create_agent(
            tx,
            login=login,
            name=login,
            role=role,
            password_hash=None,
            token_hash=hash_token(f"tok-{login}"),
            now=svc.clock(),
        )


async def call(client: TestClient, method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
    kwargs.setdefault("headers", AUTH)
    r = await client.request(method, path, **kwargs)
    assert r.status == status, await r.text()
    return await r.json()


async def settle(client: TestClient) -> None:
    await client.app[ROUTING].route_all()
    await client.app[ROUTING_SERVICES].dispatcher.dispatch_all()


async def tasks_by_status(client: TestClient) -> dict[str, list[dict[str, Any]]]:
    items = (await call(client, "GET", "/api/v1/tasks?limit=200"))["items"]
    out: dict[str, list[dict[str, Any]]] = {}
    for t in sorted(items, key=lambda t: t["id"]):
        out.setdefault(t["status"], []).append(t)
    return out


async def online(client: TestClient, *logins: str) -> None:
    for login in logins:
        await call(client, "PUT", f"/api/v1/agents/{login}/status", json={"status": "online"})


async def next_assignment(client: TestClient, action: Any) -> dict[str, Any]:
    """Run `action` and return the first task_changed event that assigns a task."""
    with client.app[SERVICES].bus.subscription() as events:
        await action
        while True:
            event = await asyncio.wait_for(events.get(), 10)
            if event["type"] == "task_changed" and event["status"] == "assigned":
                return event


async def test_two_hundred_messages_five_agents(
    aiohttp_client: Any, db_url: str, tmp_path: Path
) -> None:
    """200 messages ingested concurrently, 5 agents of capacity 3: 15 assigned, 185 waiting."""
    from relaydesk.app import create_app

    settings = Settings(
        database_url=db_url,
        api_token=TOKEN,
        data_dir=tmp_path / "d",
        rules_path=DATA / "rules" / "five_agents.yaml",
    )
    client = await aiohttp_client(create_app(settings, bootstrap_admin=False))
    for i in range(1, 6):
        await add_agent(client, f"a{i}")
    await online(client, *(f"a{i}" for i in range(1, 6)))
    posted = await asyncio.gather(
        *(
            client.post(
                "/api/v1/messages", json=api_message(f"m{i}", contact=f"c{i}"), headers=AUTH
            )
            for i in range(200)
        )
    )
    assert {r.status for r in posted} == {201}
    await settle(client)
    by_status = await tasks_by_status(client)
    assert len(by_status["assigned"]) == 15 and len(by_status["waiting"]) == 185
    agents = (await call(client, "GET", "/api/v1/agents"))["items"]
    assert [a["load"] for a in agents] == [3.0] * 5


async def test_closing_a_task_assigns_the_oldest_waiting_one(client: TestClient) -> None:
    """Marking a task done frees capacity and the oldest waiting task is assigned at once."""
    await add_agent(client, "bob")
    await online(client, "bob")  # bob: capacity 2; alice has no account
    for i in range(4):
        await call(
            client, "POST", "/api/v1/messages", 201, json=api_message(f"m{i}", contact=f"c{i}")
        )
    await settle(client)
    before = await tasks_by_status(client)
    assert [t["assignee"] for t in before["assigned"]] == ["bob", "bob"]
    done = before["assigned"][0]["id"]
    event = await next_assignment(
        client, call(client, "PATCH", f"/api/v1/tasks/{done}", json={"status": "done"})
    )
    assert event["task_id"] == before["waiting"][0]["id"] and event["assignee"] == "bob"
    closed = await call(client, "GET", f"/api/v1/tasks/{done}")
    assert closed["status"] == "done" and closed["closed_at"] is not None


async def test_agent_coming_online_takes_waiting_tasks(client: TestClient) -> None:
    """A task waits while nobody is online and is assigned when an agent comes online."""
    await add_agent(client, "bob")
    await call(client, "POST", "/api/v1/messages", 201, json=api_message("m1"))
    await settle(client)
    assert "assigned" not in await tasks_by_status(client)
    event = await next_assignment(client, online(client, "bob"))
    assert event["assignee"] == "bob"
    [task] = (await tasks_by_status(client))["assigned"]
    assert task["decision"]["assignment"]["reason"].startswith("least_loaded in support: bob")


async def test_capacity_raised_by_put_rules(client: TestClient) -> None:
    """PUT /api/v1/rules raising bob's capacity assigns a waiting task without more ado."""
    await add_agent(client, "bob")
    await online(client, "bob")
    for i in range(3):
        await call(
            client, "POST", "/api/v1/messages", 201, json=api_message(f"m{i}", contact=f"c{i}")
        )
    await settle(client)
    assert len((await tasks_by_status(client))["waiting"]) == 1
    text = BASIC_RULES.read_text().replace("bob: {capacity: 2", "bob: {capacity: 3")
    event = await next_assignment(client, call(client, "PUT", "/api/v1/rules", json={"text": text}))
    assert event["assignee"] == "bob"
    assert "waiting" not in await tasks_by_status(client)
    rules = await call(client, "GET", "/api/v1/rules")
    assert rules["text"] == text and Path(rules["file"]).read_text() == text  # noqa: ASYNC240


async def test_broken_rules_are_refused_with_the_line(client: TestClient) -> None:
    """A PUT with a bad key is a 422 naming its line; the old rules stay and keep routing."""
    old = await call(client, "GET", "/api/v1/rules")
    broken = old["text"].replace("capacity: 3", "capasity: 3")
    body = await call(
        client,
        "PUT",
        "/api/v1/rules",
        422,
        data=broken.encode(),
        headers={**AUTH, "Content-Type": "text/yaml"},
    )
    assert body["error"]["code"] == "invalid_rules"
    issues = body["error"]["issues"]
    assert {i["line"] for i in issues} == {4}
    assert any("capasity" in i["message"] for i in issues)
    assert ":4:" in body["error"]["message"]
    assert await call(client, "GET", "/api/v1/rules") == old
    assert Path(old["file"]).read_text() == old["text"]  # noqa: ASYNC240
    await call(client, "POST", "/api/v1/messages", 201, json=api_message("after"))
    await settle(client)
    [task] = (await tasks_by_status(client))["waiting"]
    assert task["queue"] == "support" and task["decision"]["rules_version"] == old["version"]


async def test_rules_file_edited_on_disk_is_reloaded(client: TestClient) -> None:
    """Saving the rules file swaps the rules in; a broken save is logged and changes nothing."""
    svc = client.app[ROUTING_SERVICES]
    watcher, path = svc.watcher, svc.rulebook.path
    assert watcher is not None and path is not None
    await asyncio.wait_for(watcher.ready.wait(), 10)
    old_version = svc.rulebook.current.version
    with capture_logs() as logs:
        watcher.handled.clear()
        path.write_text(BASIC_RULES.read_text().replace("capacity: 3", "capacity: [3"))
        await asyncio.wait_for(watcher.handled.wait(), 10)
        assert svc.rulebook.current.version == old_version
        watcher.handled.clear()
        path.write_text(BASIC_RULES.read_text().replace("capacity: 3", "capacity: 4"))
        await asyncio.wait_for(watcher.handled.wait(), 10)
    [failed] = [e for e in logs if e["event"] == "rules_reload_failed"]
    assert failed["error"].startswith(f"{path}:4:")
    assert svc.rulebook.current.agents["alice"].capacity == 4
    assert any(e["event"] == "rules_file_reloaded" for e in logs)


async def test_rules_file_saved_by_rename_is_reloaded(client: TestClient) -> None:
    """Editors that write a temporary file and rename it over the rules are seen too; a
    deleted file is logged and the rules in force stay."""
    svc = client.app[ROUTING_SERVICES]
    watcher, path = svc.watcher, svc.rulebook.path
    assert watcher is not None and path is not None
    await asyncio.wait_for(watcher.ready.wait(), 10)
    temp = path.parent / ".rules.yaml.swp"
    with capture_logs() as logs:
        watcher.handled.clear()
        temp.write_text(BASIC_RULES.read_text().replace("capacity: 3", "capacity: 7"))
        temp.rename(path)
        await asyncio.wait_for(watcher.handled.wait(), 10)
        assert svc.rulebook.current.agents["alice"].capacity == 7
        watcher.handled.clear()
        path.unlink()
        await asyncio.wait_for(watcher.handled.wait(), 10)
    assert svc.rulebook.current.agents["alice"].capacity == 7
    said = [e["event"] for e in logs if e["event"].startswith("rules_file_")]
    failed = [e for e in logs if e["event"] == "rules_reload_failed"]
    assert said == ["rules_file_reloaded"] and len(failed) == 1
    assert "No such file" in failed[0]["error"]


async def test_put_rules_is_for_admins(client: TestClient) -> None:
    """An agent's token cannot change the rules; it can read them."""
    await add_agent(client, "bob")
    body = await call(
        client, "PUT", "/api/v1/rules", 403, headers=bearer("bob"), json={"text": "x"}
    )
    assert body["error"]["code"] == "forbidden"
    assert (await call(client, "GET", "/api/v1/rules", headers=bearer("bob")))["version"]


@pytest.mark.parametrize(
    ("patch", "status", "code"),
    [
        ({}, 422, "invalid"),
        ({"status": "pending"}, 422, "invalid"),
        ({"assignee": "nobody"}, 422, "unknown_agent"),
        ({"status": "waiting", "assignee": "bob"}, 422, "invalid"),
        ({"status": "in_progress"}, 422, "invalid"),
        ({"priority": "critical"}, 422, "invalid"),
        ({"on_hold": "yes"}, 422, "invalid"),
    ],
    ids=[
        "empty",
        "unknown-status",
        "unknown-agent",
        "waiting-with-assignee",
        "in-progress-unassigned",
        "bad-priority",
        "bad-hold",
    ],
)
async def test_patch_validation(
    client: TestClient, patch: dict[str, Any], status: int, code: str
) -> None:
    """Bad PATCH bodies are JSON errors and change nothing."""
    await add_agent(client, "bob")
    await call(client, "POST", "/api/v1/messages", 201, json=api_message("m1"))
    await settle(client)
    [task] = (await tasks_by_status(client))["waiting"]
    body = await call(client, "PATCH", f"/api/v1/tasks/{task['id']}", status, json=patch)
    assert body["error"]["code"] == code
    assert await call(client, "GET", f"/api/v1/tasks/{task['id']}") == task


async def test_patch_unknown_and_closed_tasks(client: TestClient) -> None:
    """Unknown tasks are 404; a closed task cannot be changed (409)."""
    await call(client, "PATCH", "/api/v1/tasks/999", 404, json={"status": "done"})
    await call(client, "POST", "/api/v1/messages", 201, json=api_message("m1"))
    await settle(client)
    [task] = (await tasks_by_status(client))["waiting"]
    await call(client, "PATCH", f"/api/v1/tasks/{task['id']}", json={"status": "cancelled"})
    body = await call(
        client, "PATCH", f"/api/v1/tasks/{task['id']}", 409, json={"status": "waiting"}
    )
    assert body["error"]["code"] == "task_closed"


async def test_agents_act_for_themselves_only(client: TestClient) -> None:
    """An agent sets their own presence and takes waiting tasks; not others' presence or tasks."""
    await add_agent(client, "alice")
    await add_agent(client, "bob")
    await call(
        client,
        "PUT",
        "/api/v1/agents/alice/status",
        403,
        headers=bearer("bob"),
        json={"status": "online"},
    )
    await call(client, "PUT", "/api/v1/agents/ghost/status", 404, json={"status": "online"})
    await call(client, "PUT", "/api/v1/agents/bob/status", 422, json={"status": "busy"})
    await call(client, "POST", "/api/v1/messages", 201, json=api_message("m1"))
    await settle(client)
    [task] = (await tasks_by_status(client))["waiting"]
    url = f"/api/v1/tasks/{task['id']}"
    await call(client, "PATCH", url, 403, headers=bearer("bob"), json={"assignee": "alice"})
    taken = await call(client, "PATCH", url, headers=bearer("bob"), json={"assignee": "bob"})
    assert taken["status"] == "assigned" and taken["assignee"] == "bob"
    assert taken["decision"]["assignment"]["reason"] == "assigned by hand to bob by bob"
    await call(client, "PATCH", url, 403, headers=bearer("alice"), json={"status": "done"})
    mine = await call(client, "PATCH", url, headers=bearer("bob"), json={"status": "in_progress"})
    assert mine["status"] == "in_progress"
    assert (
        await call(
            client,
            "PUT",
            "/api/v1/agents/bob/status",
            headers=bearer("bob"),
            json={"status": "away"},
        )
    ) == {"login": "bob", "status": "away"}


async def test_rules_test_says_who_would_take_it(client: TestClient) -> None:
    """The dry run names the agent who would get the task now, or why it would wait."""
    body = {"channel": "telegram", "text": "hello"}
    waits = await call(client, "POST", "/api/v1/rules/test", json=body)
    assert waits["tasks"][0]["agent"] is None and waits["tasks"][0]["outcome"] == "waits in queue"
    assert "waits in queue" in waits["explain"]
    await add_agent(client, "bob")
    await online(client, "bob")
    takes = await call(client, "POST", "/api/v1/rules/test", json=body)
    assert (
        takes["tasks"][0]["agent"] == "bob" and takes["decision"]["tasks"][0]["queue"] == "support"
    )
    draft = {**body, "rules": "version: 1\nrules: [{name: x, then: {task: {queue: nope}}}]\n"}
    bad = await call(client, "POST", "/api/v1/rules/test", 422, json=draft)
    assert bad["error"]["code"] == "invalid_rules" and bad["error"]["issues"][0]["line"] == 2


async def test_unanswered_task_returns_by_timer(
    aiohttp_client: Any, db_url: str, tmp_path: Path
) -> None:
    """With a short no-reply timeout the timer (no sweep) hands the task to the other agent."""
    from relaydesk.app import create_app

    settings = Settings(
        database_url=db_url,
        api_token=TOKEN,
        data_dir=tmp_path / "d",
        rules_path=BASIC_RULES,
        assignment_timeout=timedelta(seconds=0.3),
    )
    client = await aiohttp_client(create_app(settings, bootstrap_admin=False))
    for login in ("alice", "bob"):
        await add_agent(client, login)
    await online(client, "alice", "bob")
    await call(client, "POST", "/api/v1/messages", 201, json=api_message("m1"))
    with client.app[SERVICES].bus.subscription() as events:
        await settle(client)
        owners = []
        while len(owners) < 2:
            event = await asyncio.wait_for(events.get(), 10)
            if event["type"] == "task_changed" and event["status"] == "assigned":
                owners.append(event["assignee"])
    assert owners[0] != owners[1]
    [task] = (await tasks_by_status(client))["assigned"]
    assert task["decision"]["assignment"]["returned_from"] == owners[0]


async def test_saving_the_shipped_rules_writes_the_working_directory(
    aiohttp_client: Any, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no ./rules.yaml the shipped rules are in force; saving them creates ./rules.yaml
    and leaves the shipped file as it was."""
    from relaydesk.app import PACKAGED_RULES, create_app

    monkeypatch.chdir(tmp_path)
    shipped = PACKAGED_RULES.read_text(encoding="utf-8")
    app = create_app(settings.with_(rules_path=Path("rules.yaml")), bootstrap_admin=False)
    client = await aiohttp_client(app)
    assert (await call(client, "GET", "/api/v1/rules"))["text"] == shipped
    edited = shipped.replace("capacity: 10 ", "capacity: 12 ")
    assert edited != shipped
    await call(client, "PUT", "/api/v1/rules", json={"text": edited})
    assert (tmp_path / "rules.yaml").read_text(encoding="utf-8") == edited
    assert PACKAGED_RULES.read_text(encoding="utf-8") == shipped
