"""The `relaydesk` command: serve, db, agents, rules."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from relaydesk.settings import Settings, SettingsError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="relaydesk", description="Omnichannel help-desk engine: ingest, route, answer."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="run everything in one process")
    serve.add_argument("--host", default=None, help="interface to listen on (127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="port (8080)")
    serve.add_argument("--rules", type=Path, default=None, help="rules file (rules.yaml)")
    serve.add_argument("--db", default=None, help="database URL (sqlite+aiosqlite:///relaydesk.db)")

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    upgrade = db_sub.add_parser("upgrade", help="apply pending migrations")
    upgrade.add_argument("--db", default=None, help="database URL")

    agents = sub.add_parser("agents", help="agent accounts")
    agents_sub = agents.add_subparsers(dest="agents_command", required=True, metavar="ACTION")
    add = agents_sub.add_parser("add", help="create an agent account")
    add.add_argument("login")
    add.add_argument("--name", default="")
    add.add_argument("--admin", action="store_true", help="give the admin role")
    add.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    add.add_argument("--db", default=None, help="database URL")
    ls = agents_sub.add_parser("list", help="list agent accounts")
    ls.add_argument("--db", default=None, help="database URL")

    rules = sub.add_parser("rules", help="check, dry-run and replay routing rules")
    rules_sub = rules.add_subparsers(dest="rules_command", required=True, metavar="ACTION")
    check = rules_sub.add_parser("check", help="validate a rules file and run its tests:")
    check.add_argument("file", nargs="?", type=Path, default=None)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env(
            host=getattr(args, "host", None),
            port=getattr(args, "port", None),
            rules_path=getattr(args, "rules", None),
            database_url=getattr(args, "db", None),
        )
    except SettingsError as exc:
        print(f"relaydesk: {exc}", file=sys.stderr)
        return 2
    from relaydesk import commands

    handler = {
        "serve": commands.serve,
        "db": commands.db_upgrade,
        "agents": commands.agents_add
        if getattr(args, "agents_command", "") == "add"
        else commands.agents_list,
        "rules": commands.rules_check,
    }[args.command]
    return handler(args, settings)


def now() -> datetime:
    return datetime.now(UTC)


if __name__ == "__main__":
    sys.exit(main())
