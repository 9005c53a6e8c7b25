"""The `relaydesk` command: serve, db, agents, rules, report."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from relaydesk.commands_report import add_report_parser
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
    _add_rules_test(rules_sub)
    _add_rules_replay(rules_sub)
    add_report_parser(sub)
    return parser


def _add_rules_test(rules_sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    test = rules_sub.add_parser("test", help="dry-run one message through the rules")
    test.add_argument("file", nargs="?", type=Path, default=None, help="rules file")
    test.add_argument("--channel", required=True, help="channel kind: email, telegram, ...")
    test.add_argument("--text", default="", help="message text")
    test.add_argument("--kind", default="text", help="message kind (text, photo, ...)")
    test.add_argument("--tag", action="append", default=[], help="a tag the dialog has")
    test.add_argument("--contact-tag", action="append", default=[], help="a contact tag")
    test.add_argument(
        "--contact-attr", action="append", default=[], metavar="KEY=VALUE", help="an attribute"
    )
    test.add_argument("--contact-name", default="")
    test.add_argument("--automated", action="store_true", help="the sender is automated")
    order = test.add_mutually_exclusive_group()
    order.add_argument("--first", dest="first", action="store_true", default=True)
    order.add_argument("--follow-up", dest="first", action="store_false")
    test.add_argument("--at", default=None, help="ISO date-time with offset (default: now)")
    test.add_argument("--db", default=None, help="database URL for agents' presence and load")
    test.add_argument("--json", action="store_true", help="print JSON")


def _add_rules_replay(rules_sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    replay = rules_sub.add_parser(
        "replay", help="re-decide stored inbound messages under a new rules file (read-only)"
    )
    replay.add_argument("new_file", type=Path, metavar="NEW_FILE")
    replay.add_argument("--since", default="7d", help="how far back: 7d, 12h, 30m (7d)")
    replay.add_argument("--db", default=None, help="database URL")
    replay.add_argument(
        "--limit", type=int, default=None, help="list at most N changed messages (all counted)"
    )
    replay.add_argument("--json", action="store_true", help="print JSON")


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help, or bad arguments (argparse has printed why)
        return exc.code if isinstance(exc.code, int) else 2
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
    return _handler(args)(args, settings)


def _handler(args: argparse.Namespace) -> Callable[[argparse.Namespace, Settings], int]:
    from relaydesk import commands

    if args.command == "rules":
        if args.rules_command == "replay":
            from relaydesk.commands_replay import rules_replay

            return rules_replay
        from relaydesk import commands_rules

        return (
            commands_rules.rules_test
            if args.rules_command == "test"
            else commands_rules.rules_check
        )
    if args.command == "report":
        from relaydesk.commands_report import report

        return report
    if args.command == "agents":
        return commands.agents_add if args.agents_command == "add" else commands.agents_list
    return commands.serve if args.command == "serve" else commands.db_upgrade


def now() -> datetime:
    return datetime.now(UTC)


if __name__ == "__main__":
    sys.exit(main())
