"""`relaydesk rules replay` over messages ingested and routed by the real application."""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from relaydesk import commands_replay
from relaydesk.app import ROUTING
from relaydesk.cli import main
from storage import Database
from storage.tables import metadata
from tests.builders import api_message
from tests.conftest import AUTH, BASIC_RULES

# basic.yaml with refunds moved to a billing queue of their own.
REFUNDS_TO_BILLING = """\
version: 1
agents:
  alice: {capacity: 3, skills: [en]}
  bob: {capacity: 2, skills: [en, ru]}
teams:
  support: [alice, bob]
  billing: [bob]
queues:
  support: {team: support, strategy: least_loaded}
  billing: {team: billing}
rules:
  - name: refunds
    when: {text: {contains: refund}}
    then: {task: {queue: billing}}
  - name: everything
    then: {task: {queue: support}}
"""

TEXTS = ["hello", "I want a REFUND\nnow", "where is my order", "refund please", "thanks"]


async def ingest(client: TestClient) -> list[int]:
    """Store and route one message per contact; returns the message ids."""
    ids = []
    for i, text in enumerate(TEXTS):
        r = await client.post(
            "/api/v1/messages", json=api_message(f"m{i}", contact=f"c{i}", text=text), headers=AUTH
        )
        assert r.status == 201
        ids.append((await r.json())["id"])
    await client.app[ROUTING].route_all()  # whatever the background worker has not routed yet
    return ids


async def fingerprint(url: str) -> dict[str, str]:
    """A checksum of every table's rows, in id order."""
    db = Database(url)
    try:
        out = {}
        async with db.read() as tx:
            for table in metadata.sorted_tables:
                rows = (await tx.execute(select(table).order_by(*table.primary_key.columns))).all()
                count = (await tx.execute(select(func.count()).select_from(table))).scalar_one()
                digest = hashlib.sha256(repr([tuple(r) for r in rows]).encode()).hexdigest()
                out[table.name] = f"{count}:{digest}"
        return out
    finally:
        await db.dispose()


async def replay(capsys: pytest.CaptureFixture[str], *args: str) -> int:
    capsys.readouterr()  # drop the application's own log lines so far
    return await asyncio.to_thread(main, ["rules", "replay", *args])


def json_out(capsys: pytest.CaptureFixture[str]) -> Any:
    """The JSON document the command printed (one line), among any log lines of the app."""
    [line] = [line for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    return json.loads(line)


@pytest.fixture
def new_rules(tmp_path: Path) -> Path:
    path = tmp_path / "new.yaml"
    path.write_text(REFUNDS_TO_BILLING, encoding="utf-8")
    return path


async def test_replay_lists_moved_refunds_and_changes_nothing(
    client: TestClient, db_url: str, new_rules: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Only the refund messages are listed, counts per queue add up, and no row changes."""
    ids = await ingest(client)
    before = await fingerprint(db_url)
    assert before["decisions"].startswith("5:") and before["tasks"].startswith("5:")
    assert await replay(capsys, str(new_rules), "--db", db_url) == 0
    out = capsys.readouterr().out
    listed = [line.split()[1] for line in out.splitlines() if line.startswith("message ")]
    assert listed == [str(ids[1]), str(ids[3])]
    assert '"I want a REFUND\\nnow"' in out  # escaped, on one line
    assert "queue support -> billing" in out and "[now decided by 'refunds']" in out
    assert "examined 5 inbound messages" in out and "\n2 would be routed differently" in out
    assert "  billing        0        2       +2" in out
    assert "  support        5        3       -2" in out
    assert await fingerprint(db_url) == before


async def test_replay_json_and_unchanged_rules(
    client: TestClient, db_url: str, new_rules: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--json carries the changes and counts; the rules in force change nothing."""
    await ingest(client)
    assert await replay(capsys, str(BASIC_RULES), "--db", db_url, "--json") == 0
    same = json_out(capsys)
    assert same["examined"] == 5 and same["changed"] == 0 and same["changes"] == []
    assert await replay(capsys, str(new_rules), "--db", db_url, "--json", "--limit", "1") == 0
    body: dict[str, Any] = json_out(capsys)
    assert body["changed"] == 2 and len(body["changes"]) == 1 and body["unlisted"] == 1
    assert body["changes"][0]["old"]["queues"] == ["support"]
    assert body["changes"][0]["new"]["queues"] == ["billing"]
    assert body["queues"] == {
        "billing": {"old": 0, "new": 2, "delta": 2},
        "support": {"old": 5, "new": 3, "delta": -2},
    }


async def test_replay_reports_progress_on_stderr(
    client: TestClient,
    db_url: str,
    new_rules: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Long runs report progress on stderr, keeping stdout for the result."""
    monkeypatch.setattr(commands_replay, "PROGRESS_EVERY", 2)
    await ingest(client)
    assert await replay(capsys, str(new_rules), "--db", db_url) == 0
    captured = capsys.readouterr()
    assert "replay: 4 messages read" in captured.err and "replay:" not in captured.out


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        (["--since", "a week"], 2, "bad duration"),
        (["--limit", "-1"], 2, "--limit"),
    ],
    ids=["since", "limit"],
)
def test_replay_bad_arguments(
    new_rules: Path, args: list[str], status: int, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Bad --since or --limit exit 2 with a clear message."""
    assert main(["rules", "replay", str(new_rules), *args]) == status
    assert message in capsys.readouterr().err


def test_replay_without_a_database_exits_1(
    new_rules: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A missing SQLite file is reported, not created."""
    missing = tmp_path / "none.db"
    assert main(["rules", "replay", str(new_rules), "--db", f"sqlite+aiosqlite:///{missing}"]) == 1
    assert "no database file" in capsys.readouterr().err
    assert not missing.exists()


TAG_ROUTED = """\
version: 1
agents: {alice: {capacity: 3}}
teams: {support: [alice], billing: [alice]}
queues: {support: {team: support}, billing: {team: billing}}
rules:
  - name: mark refunds
    when: {text: {contains: refund}}
    then: {tag: refund}
  - name: refund dialogs
    when: {tag: refund}
    then: {task: {queue: billing}}
  - name: everything
    then: {task: {queue: support}}
"""


async def test_replay_sees_the_tags_each_message_saw(
    aiohttp_client: Any, settings: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A dialog's first message was routed before a later one tagged the dialog: replaying the
    same rules changes nothing, because each decision kept the tags its rules saw."""
    from relaydesk.app import create_app

    rules = tmp_path / "tags.yaml"
    rules.write_text(TAG_ROUTED, encoding="utf-8")
    client = await aiohttp_client(
        create_app(settings.with_(rules_path=rules), bootstrap_admin=False)
    )
    for i, text in enumerate(["hello", "refund please"]):
        body = api_message(f"t{i}", contact="same", text=text)
        assert (await client.post("/api/v1/messages", json=body, headers=AUTH)).status == 201
        await client.app[ROUTING].route_all()
    assert await replay(capsys, str(rules), "--db", settings.database_url, "--json") == 0
    result = json_out(capsys)
    assert (result["examined"], result["changed"]) == (2, 0)
