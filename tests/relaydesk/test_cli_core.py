"""`relaydesk agents`, `relaydesk db upgrade`, settings errors and `serve` refusing bad rules."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from relaydesk.cli import main
from tests.conftest import BASIC_RULES, ROOT


@pytest.fixture
def env_db(db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """The test database as RELAYDESK_DATABASE_URL, run from an empty directory."""
    monkeypatch.setenv("RELAYDESK_DATABASE_URL", db_url)
    monkeypatch.setenv("RELAYDESK_RULES", str(BASIC_RULES))
    monkeypatch.chdir(tmp_path)
    return db_url


def run_cli(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "relaydesk.cli", *args],
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_agent_added_from_stdin_is_listed(
    env_db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`agents add --password-stdin` creates the account and `agents list` shows it."""
    monkeypatch.setattr(sys, "stdin", io.StringIO("s3cret-password\n"))
    assert main(["agents", "add", "alice", "--name", "Alice A", "--password-stdin"]) == 0
    added = capsys.readouterr().out
    assert "created agent alice (agent)" in added and "password:" not in added
    assert main(["agents", "list"]) == 0
    [row] = [line for line in capsys.readouterr().out.splitlines() if line.startswith("alice")]
    assert row.split()[:5] == ["alice", "Alice", "A", "agent", "offline"]
    assert row.split()[-1] == "3"  # capacity from the rules file


def test_duplicate_login_exits_1(
    env_db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Adding a login that exists exits 1 and says so."""
    assert main(["agents", "add", "bob"]) == 0
    assert "password:" in capsys.readouterr().out  # generated when not given
    assert main(["agents", "add", "bob"]) == 1
    assert "agent 'bob' already exists" in capsys.readouterr().err


def test_db_upgrade_twice_is_fine(env_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Migrating an up-to-date database again is a no-op that succeeds."""
    assert main(["db", "upgrade"]) == 0
    assert main(["db", "upgrade"]) == 0
    assert capsys.readouterr().out.count("database is up to date") == 2


def test_bad_database_url_exits_2(tmp_path: Path) -> None:
    """A database URL of an unsupported kind exits 2 with a message naming the accepted ones."""
    done = run_cli("db", "upgrade", env={"RELAYDESK_DATABASE_URL": "mysql://x/y"}, cwd=tmp_path)
    assert done.returncode == 2
    assert (
        "database URL must start with sqlite+aiosqlite:// or postgresql+asyncpg://" in done.stderr
    )
    assert "Traceback" not in done.stderr


def test_serve_refuses_invalid_rules_naming_the_line(tmp_path: Path) -> None:
    """`serve` with an invalid rules file exits 1 before listening and names file and line."""
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        BASIC_RULES.read_text().replace("queue: support}", "queue: suport}"), encoding="utf-8"
    )
    done = run_cli(
        "serve",
        "--port",
        "1",
        "--rules",
        str(rules),
        env={"RELAYDESK_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"},
        cwd=tmp_path,
    )
    assert done.returncode == 1
    assert f"{rules}:12: rules[0].then.task.queue: unknown queue 'suport'" in done.stderr
    assert "Relaydesk serving" not in done.stdout
