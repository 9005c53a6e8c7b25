"""What each CLI subcommand does; `relaydesk.cli` only parses arguments."""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

from relaydesk.gc_tuning import tune_gc
from relaydesk.logging import configure_logging
from relaydesk.settings import Settings

# The shipped default, used when the configured rules file is the default and is absent.
PACKAGED_RULES = Path(__file__).resolve().parent.parent / "rules.yaml"


def rules_file(settings: Settings, given: Path | None) -> Path:
    """The rules file a command reads: the one given, else the configured one (or the shipped)."""
    if given is not None:
        return given
    path = settings.rules_path
    if not path.exists() and path == Path("rules.yaml") and PACKAGED_RULES.exists():
        return PACKAGED_RULES
    return path


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
    app.on_startup.append(_tune_gc)
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


async def _tune_gc(_app: object) -> None:
    tune_gc()


def db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    from storage import Database

    configure_logging(settings.log_format, settings.log_level)

    async def run() -> None:
        db = Database(settings.database_url)
        try:
            await db.upgrade()
        finally:
            await db.dispose()

    try:
        asyncio.run(run())
    except OSError as exc:
        return _unreachable(settings, exc)
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
    try:
        created = asyncio.run(run())
    except OSError as exc:
        return _unreachable(settings, exc)
    if not created:
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
    try:
        rows = asyncio.run(run())
    except OSError as exc:
        return _unreachable(settings, exc)
    from router import RulesError

    path = rules_file(settings, None)
    try:
        rulebook = Rulebook.from_file(path) if path.exists() else None
    except RulesError as exc:
        print(f"warning: capacities unknown, the rules are invalid:\n{exc}", file=sys.stderr)
        rulebook = None
    print(f"{'LOGIN':<16} {'NAME':<24} {'ROLE':<6} {'STATUS':<8} {'LOAD':>5} {'CAP':>4}")
    for login, name, role, status, load in rows:
        cap = rulebook.agent_routing(login).capacity if rulebook else 0
        print(f"{login:<16} {name[:24]:<24} {role:<6} {status:<8} {load:>5g} {cap:>4}")
    return 0


def _unreachable(settings: Settings, exc: OSError) -> int:
    print(
        f"relaydesk: cannot reach the database {masked_url(settings.database_url)}: {exc}",
        file=sys.stderr,
    )
    return 1


def masked_url(url: str) -> str:
    """The URL with any password replaced by ***."""
    return re.sub(r"(//[^:/@]+):[^@/]*@", r"\1:***@", url)
