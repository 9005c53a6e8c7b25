"""`relaydesk rules check` and `relaydesk rules test`, run in-process."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from relaydesk.cli import main
from storage import Database
from storage.assignment import save_rr_state
from tests.builders import add_agent
from tests.conftest import BASIC_RULES, ROOT

SHIPPED = ROOT / "rules.yaml"
AT = "2026-03-04T10:00:00+03:00"


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No stray relaydesk.db in the repository and no database URL from the environment."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RELAYDESK_DATABASE_URL", raising=False)
    monkeypatch.delenv("RELAYDESK_RULES", raising=False)


def no_db(tmp_path: Path) -> list[str]:
    return ["--db", f"sqlite+aiosqlite:///{tmp_path / 'absent.db'}"]


def test_check_passes_on_the_shipped_rules(capsys: pytest.CaptureFixture[str]) -> None:
    """The shipped rules.yaml is valid and its examples pass."""
    assert main(["rules", "check", str(SHIPPED)]) == 0
    assert "OK" in capsys.readouterr().out


def test_check_names_file_and_line_of_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A broken file exits 1 with `file:line: path: message` on stderr."""
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        BASIC_RULES.read_text().replace("capacity: 3", "capasity: 3"), encoding="utf-8"
    )
    assert main(["rules", "check", str(broken)]) == 1
    err = capsys.readouterr().err
    assert f"{broken}:4: agents.alice" in err and "capasity" in err


def test_check_fails_on_a_failing_example(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A `tests:` example whose expectation does not hold makes check exit 1."""
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        BASIC_RULES.read_text()
        + "tests:\n  - name: wrong queue\n    message: {channel: api, text: hi}\n"
        "    expect: {no_task: true}\n",
        encoding="utf-8",
    )
    assert main(["rules", "check", str(rules)]) == 1
    assert "example 'wrong queue': expected no task" in capsys.readouterr().err


def test_refund_names_billing_queue_and_rule(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A refund message is planned in billing by the 'refunds' rule, with SLA due times."""
    args = ["rules", "test", str(SHIPPED), "--channel", "email", "--text", "I want a refund"]
    assert main([*args, "--at", AT, *no_db(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert (
        "task:       queue billing: 'Refund: I want a refund' (sla urgent; rule 'refunds')" in out
    )
    assert "MATCH #3 'refunds'" in out
    assert "first response due 2026-03-04T10:15+03:00" in out
    assert "no database" in out and "candidates: admin (capacity 10, en, ru)" in out


def test_json_output_parses(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--json prints one JSON document with the decision, the rules and the task outlook."""
    args = ["rules", "test", str(SHIPPED), "--channel", "telegram", "--text", "Хочу возврат"]
    assert main([*args, "--follow-up", "--at", AT, "--json", *no_db(tmp_path)]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["rules"] == ["language tags", "refunds"]
    assert body["message"]["first_message"] is False
    [task] = body["tasks"]
    assert task["queue"] == "billing" and task["first_response_due"] == "2026-03-04T10:15:00+03:00"
    assert body["database"]["reachable"] is False


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--channel", "telgram"], "unknown channel 'telgram' (did you mean 'telegram'?)"),
        (["--channel", "email", "--kind", "fax"], "unknown kind 'fax'"),
        (["--channel", "email", "--at", "2026-03-04T10:00"], "needs a UTC offset"),
        (["--channel", "email", "--contact-attr", "plan"], "must be KEY=VALUE"),
    ],
    ids=["channel", "kind", "naive-at", "attr"],
)
def test_bad_arguments_exit_2(
    extra: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Bad values exit 2 with a message that says what is wrong."""
    assert main(["rules", "test", str(SHIPPED), "--text", "hi", *extra]) == 2
    assert message in capsys.readouterr().err


def test_missing_required_channel_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    """argparse's own errors (a missing --channel) also exit 2."""
    assert main(["rules", "test", str(SHIPPED), "--text", "hi"]) == 2
    assert "--channel" in capsys.readouterr().err


def test_invalid_rules_file_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`rules test` on an invalid file exits 1 naming the line."""
    broken = tmp_path / "broken.yaml"
    broken.write_text("version: 1\nrules:\n  - name: x\n    then: {tag: [}\n", encoding="utf-8")
    assert main(["rules", "test", str(broken), "--channel", "email", "--text", "x"]) == 1
    assert f"{broken}:4:" in capsys.readouterr().err


async def _agents(url: str, statuses: dict[str, str]) -> None:
    db = Database(url)
    try:
        now = datetime.now(UTC)
        async with db.write() as tx:
            for login, status in statuses.items():
                await add_agent(tx, login, status, now)
    finally:
        await db.dispose()


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ({"alice": "online", "bob": "offline"}, "-> alice (load 0/3, least loaded)"),
        ({"alice": "offline", "bob": "away"}, "-> waits in queue: alice offline, bob offline"),
        ({"alice": "offline"}, "-> waits in queue: alice offline, bob has no account"),
    ],
    ids=["alice-free", "nobody-online", "bob-missing"],
)
def test_assignment_uses_live_presence(
    db_url: str, statuses: dict[str, str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """With a database, the dry run says who takes the task now, or why it waits."""
    asyncio.run(_agents(db_url, statuses))
    args = ["rules", "test", str(BASIC_RULES), "--channel", "api", "--text", "hello"]
    assert main([*args, "--db", db_url]) == 0
    out = capsys.readouterr().out
    assert expected in out
    assert "presence and load from" in out


RR_RULES = """\
version: 1
agents: {alice: {capacity: 3}, bob: {capacity: 3}, carol: {capacity: 3}}
teams: {billing: [alice, bob, carol]}
queues: {billing: {team: billing, strategy: round_robin}}
rules:
  - name: all to billing
    then: {task: {queue: billing}}
"""


async def _rotation(url: str, last: str) -> None:
    db = Database(url)
    try:
        await db.run_write(save_rr_state, {"billing": last}, datetime.now(UTC))
    finally:
        await db.dispose()


def test_round_robin_continues_after_the_stored_agent(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The dry run reads the queue's stored rotation: bob took the last task, carol is next."""
    rules = tmp_path / "rr.yaml"
    rules.write_text(RR_RULES)
    asyncio.run(_agents(db_url, {"alice": "online", "bob": "online", "carol": "online"}))
    asyncio.run(_rotation(db_url, "bob"))
    args = ["rules", "test", str(rules), "--channel", "api", "--text", "hi", "--db", db_url]
    assert main(args) == 0
    assert "-> carol (load 0/3, round robin)" in capsys.readouterr().out
