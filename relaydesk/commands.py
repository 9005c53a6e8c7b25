"""What each CLI subcommand does; `relaydesk.cli` only parses arguments."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime

from relaydesk.logging import configure_logging
from relaydesk.settings import Settings


def serve(args: argparse.Namespace, settings: Settings) -> int:
    from aiohttp import web

    from relaydesk.app import create_app
    from router import RulesError

    configure_logging(settings.log_format, settings.log_level)
    try:
        app = create_app(settings)
    except (RulesError, OSError) as exc:
        print(f"relaydesk: cannot load rules: {exc}", file=sys.stderr)
        return 1
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency on Linux
        loop_factory = None
    else:
        loop_factory = uvloop.new_event_loop
    loop = loop_factory() if loop_factory else asyncio.new_event_loop()
    web.run_app(
        app,
        host=settings.host,
        port=settings.port,
        access_log=None,
        loop=loop,
        # run_app calls this once the socket listens: scripts and tests wait for this line.
        print=lambda _: print(
            f"Relaydesk serving on http://{settings.host}:{settings.port}/", flush=True
        ),
    )
    return 0


def db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    from storage import Database

    configure_logging(settings.log_format, settings.log_level)

    async def run() -> None:
        db = Database(settings.database_url)
        try:
            await db.upgrade()
        finally:
            await db.dispose()

    asyncio.run(run())
    print("database is up to date")
    return 0


def agents_add(args: argparse.Namespace, settings: Settings) -> int:
    from inbox.auth import hash_password, hash_token, new_password, new_token
    from storage import Database
    from storage import agents as agent_repo

    login = args.login.strip()
    if (
        not login
        or len(login) > 100
        or not login.replace("_", "").replace(".", "").replace("-", "").isalnum()
    ):
        print("relaydesk: a login is 1-100 letters, digits, '.', '-' or '_'", file=sys.stderr)
        return 2
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
        if not password:
            print("relaydesk: empty password on standard input", file=sys.stderr)
            return 2
        generated = False
    else:
        password, generated = new_password(), True
    token = new_token()

    async def run() -> bool:
        db = Database(settings.database_url)
        try:
            await db.upgrade()
            async with db.write() as tx:
                if await agent_repo.find_agent_by_login(tx, login) is not None:
                    return False
                await agent_repo.create_agent(
                    tx,
                    login=login,
                    name=args.name or login,
                    role="admin" if args.admin else "agent",
                    password_hash=hash_password(password),
                    token_hash=hash_token(token),
                    now=datetime.now(UTC),
                )
            return True
        finally:
            await db.dispose()

    configure_logging(settings.log_format, "warning")
    if not asyncio.run(run()):
        print(f"relaydesk: agent {login!r} already exists", file=sys.stderr)
        return 1
    print(f"created agent {login} ({'admin' if args.admin else 'agent'})")
    if generated:
        print(f"password:  {password}")
    print(f"API token: {token}")
    return 0


def agents_list(args: argparse.Namespace, settings: Settings) -> int:
    from dialogs.rulebook import Rulebook
    from storage import Database, queries
    from storage import agents as agent_repo

    async def run() -> list[tuple[str, str, str, str, float]]:
        db = Database(settings.database_url)
        try:
            await db.upgrade()
            async with db.read() as tx:
                rows = await agent_repo.list_agents(tx)
                loads = await queries.agent_loads(tx)
        finally:
            await db.dispose()
        return [(r.login, r.name, r.role, r.status, loads.get(r.login, 0.0)) for r in rows]

    configure_logging(settings.log_format, "warning")
    rows = asyncio.run(run())
    rulebook = Rulebook.from_file(settings.rules_path) if settings.rules_path.exists() else None
    print(f"{'LOGIN':<16} {'NAME':<24} {'ROLE':<6} {'STATUS':<8} {'LOAD':>5} {'CAP':>4}")
    for login, name, role, status, load in rows:
        cap = rulebook.agent_routing(login).capacity if rulebook else 0
        print(f"{login:<16} {name[:24]:<24} {role:<6} {status:<8} {load:>5g} {cap:>4}")
    return 0


def rules_check(args: argparse.Namespace, settings: Settings) -> int:
    from router import RulesError, load_rules, run_examples

    path = args.file or settings.rules_path
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        print(f"{path}: cannot read: {exc.strerror}", file=sys.stderr)
        return 1
    try:
        ruleset = load_rules(text, str(path))
    except RulesError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    for warning in ruleset.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    failures = run_examples(ruleset, datetime.now(UTC))
    for failure in failures:
        print(str(failure), file=sys.stderr)
    if failures:
        return 1
    print(f"{path}: OK ({len(ruleset.rules)} rules, {len(ruleset.examples)} tests passed)")
    return 0
