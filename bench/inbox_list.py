"""Inbox list and search latency over a large history, on SQLite and PostgreSQL.

    python bench/inbox_list.py [--dialogs 100000] [--messages-per-dialog 10] [--runs 40]
                               [--engines sqlite,postgresql]

Fills a fresh, migrated database (contacts, one dialog each, N messages per dialog, one task
per dialog over 4 queues and 20 agents, a tenth overdue), starts `relaydesk serve` on it
(a process of its own), and times HTTP requests as the inbox makes them:
  GET /api/v1/dialogs?<filter>   the first page (50) of each filter the list page offers
  GET /api/v1/dialogs?q=<words>  full-text search (FTS5 / PostgreSQL text search)
  GET /inbox/rows?<filter>       the list page's rows (adds unread counts and open tasks)
p50/p95 per request, and p95 as a ratio of the baseline: the cheapest possible first page,
`SELECT … ORDER BY last_message_at DESC LIMIT 50` on the same database, timed in this run.
Targets (DESIGN scale, issue 6): p95 < 50 ms for a filtered first page, < 200 ms for search.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import socket
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
import asyncpg
from sqlalchemy import text

from inbox.auth import hash_password
from relaydesk.logging import configure_logging
from storage import Database
from storage.db import SyncTx
from storage.tables import agents, contact_identities, contacts, dialogs, messages, tasks

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = os.environ.get("RELAYDESK_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
TOKEN = "bench-token"
CHANNELS = ("email", "telegram", "whatsapp", "widget", "api")
QUEUES = ("support", "billing", "sales", "tech")
WORDS = [
    "hello",
    "order",
    "delivery",
    "account",
    "password",
    "invoice",
    "payment",
    "card",
    "refund",
    "login",
    "error",
    "app",
    "заказ",
    "доставка",
    "оплата",
    "возврат",
    "пароль",
    "счёт",
    "карта",
    "ошибка",
    "приложение",
    "вход",
    "здравствуйте",
    "please",
    "thanks",
    "today",
    "yesterday",
    "week",
    "month",
    "status",
    "number",
    "broken",
    "missing",
    "late",
    "again",
]
RARE = "zwrotowy"  # in one message of a thousand
BATCH = 20_000

LIST_QUERIES = (
    ("open", "status=open"),
    ("channel", "status=open&channel=telegram"),
    ("assignee", "status=open&assignee=agent7"),
    ("queue", "status=open&queue=billing"),
    ("tag", "tag=vip"),
    ("overdue", "overdue=true"),
    ("page 2", None),  # filled in: the cursor of the first page
)
SEARCH_QUERIES = (
    ("common word", "q=refund"),
    ("two words", "q=card%20payment"),
    ("prefix", "q=deliv"),
    ("cyrillic", "q=возврат"),
    ("rare word", f"q={RARE}"),
    ("search+filter", "q=refund&channel=email&status=open"),
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fill(tx: SyncTx, first: int, count: int, per_dialog: int, now: datetime, seed: int) -> None:
    """Dialogs first..first+count-1 with their contact, identity, messages and task."""
    rnd = random.Random(seed + first)
    contact_rows, identity_rows, dialog_rows, message_rows, task_rows = [], [], [], [], []
    for i in range(first, first + count):
        channel = CHANNELS[i % len(CHANNELS)]
        last = now - timedelta(seconds=rnd.randint(0, 90 * 86400))
        contact_rows.append(
            {"id": i, "name": f"Contact {i}", "tags": [], "attrs": {}, "created_at": last}
        )
        identity_rows.append(
            {"contact_id": i, "channel": channel, "address": f"addr-{i}", "created_at": last}
        )
        dialog_rows.append(
            {
                "id": i,
                "contact_id": i,
                "channel": channel,
                "thread_key": "",
                "status": "open" if i % 3 else "closed",
                "tags": ["vip"] if i % 50 == 0 else [],
                "priority": "normal",
                "subject": "",
                "created_at": last - timedelta(hours=1),
                "last_message_at": last,
            }
        )
        for k in range(per_dialog):
            words = rnd.sample(WORDS, 8)
            if rnd.random() < 0.001:
                words.append(RARE)
            message_rows.append(
                {
                    "dialog_id": i,
                    "direction": "in" if k % 2 == 0 else "out",
                    "channel": channel,
                    "external_id": f"m-{i}-{k}",
                    "kind": "text",
                    "text": " ".join(words),
                    "status": "received" if k % 2 == 0 else "sent",
                    "thread_hints": {},
                    "history": [],
                    "created_at": last - timedelta(minutes=per_dialog - k),
                    "routed_at": last,
                }
            )
        open_task = i % 3 != 0
        task_rows.append(
            {
                "dialog_id": i,
                "title": "",
                "queue": QUEUES[i % len(QUEUES)],
                "status": ("assigned" if i % 2 else "waiting") if open_task else "done",
                "assignee": f"agent{i % 20}" if open_task and i % 2 else None,
                "priority": "normal",
                "tags": [],
                "first_response_due": last + timedelta(hours=-1 if i % 10 == 0 else 1),
                "breached": open_task and i % 10 == 0,
                "resolution_due": last + timedelta(days=1),
                "created_at": last,
                "updated_at": last,
            }
        )
    for table, rows in (
        (contacts, contact_rows),
        (contact_identities, identity_rows),
        (dialogs, dialog_rows),
        (messages, message_rows),
        (tasks, task_rows),
    ):
        tx.execute(table.insert(), rows)


async def build(url: str, n_dialogs: int, per_dialog: int) -> None:
    db = Database(url)
    await db.upgrade()
    now = datetime.now(UTC)
    step = max(1, BATCH // per_dialog)
    started = time.perf_counter()
    for first in range(1, n_dialogs + 1, step):
        await db.run_write(fill, first, min(step, n_dialogs + 1 - first), per_dialog, now, 1)
        done = min(first + step - 1, n_dialogs)
        print(f"  {done:,} dialogs, {done * per_dialog:,} messages", end="\r", flush=True)
    async with db.write() as tx:
        await tx.execute(
            agents.insert(),
            [
                {
                    "login": f"agent{i}",
                    "name": "",
                    "role": "admin" if i == 0 else "agent",
                    "password_hash": hash_password("bench-password") if i == 0 else None,
                    "status": "offline",
                    "created_at": now,
                }
                for i in range(20)
            ],
        )
        if db.is_sqlite:
            await tx.execute(text("ANALYZE"))
    if not db.is_sqlite:
        async with db.writer.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM ANALYZE"))
    print(f"\n  filled in {time.perf_counter() - started:.0f} s")
    await db.dispose()


async def timed(session: aiohttp.ClientSession, url: str, runs: int, **kw: Any) -> list[float]:
    out = []
    for i in range(runs + 3):
        t0 = time.perf_counter()
        async with session.get(url, **kw) as r:
            await r.read()
            assert r.status == 200, (url, r.status)
        if i >= 3:  # warm-up
            out.append((time.perf_counter() - t0) * 1000)
    return out


async def baseline(url: str, runs: int) -> list[float]:
    db = Database(url)
    sql = text("SELECT * FROM dialogs ORDER BY last_message_at DESC, id DESC LIMIT 50")
    out = []
    async with db.read() as tx:
        for i in range(runs + 3):
            t0 = time.perf_counter()
            (await tx.execute(sql)).all()
            if i >= 3:
                out.append((time.perf_counter() - t0) * 1000)
    await db.dispose()
    return out


def p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


async def start_server(url: str, data_dir: Path) -> tuple[asyncio.subprocess.Process, int]:
    """`relaydesk serve` in its own process, so the load client does not share its GIL."""
    port = free_port()
    env = {
        **os.environ,
        "RELAYDESK_DATABASE_URL": url,
        "RELAYDESK_API_TOKEN": TOKEN,
        "RELAYDESK_DATA_DIR": str(data_dir),
        "RELAYDESK_LOG_LEVEL": "warning",
        "RELAYDESK_SECRET_KEY": "bench-secret",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "relaydesk.cli",
        "serve",
        "--port",
        str(port),
        "--rules",
        str(ROOT / "rules.yaml"),
        cwd=data_dir.parent,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert proc.stdout is not None
    while b"Relaydesk serving on" not in (line := await proc.stdout.readline()):
        if not line:
            raise RuntimeError("the server exited before it was ready")
    asyncio.get_running_loop().create_task(proc.stdout.read())  # drain
    return proc, port


async def measure(url: str, data_dir: Path, runs: int) -> None:
    await asyncio.to_thread(data_dir.mkdir, parents=True, exist_ok=True)
    proc, port = await start_server(url, data_dir)
    base = f"http://127.0.0.1:{port}"
    auth = {"Authorization": f"Bearer {TOKEN}"}
    try:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
            floor = p(await baseline(url, runs), 95)
            print(f"  {'baseline: raw first page':<34} p95 {floor:7.1f} ms")
            async with session.get(f"{base}/api/v1/dialogs?status=open", headers=auth) as r:
                cursor = (await r.json())["next_cursor"]
            rows: list[tuple[str, str, str]] = []
            for name, query in LIST_QUERIES:
                rows.append(("list", name, query or f"status=open&cursor={cursor}"))
            for name, query in SEARCH_QUERIES:
                rows.append(("search", name, query))
            for kind, name, query in rows:
                times = await timed(session, f"{base}/api/v1/dialogs?{query}", runs, headers=auth)
                report(kind, name, times, floor)
            await log_in(session, base)
            for name, query in LIST_QUERIES[:6]:
                times = await timed(session, f"{base}/inbox/rows?{query}", runs)
                report("page", name, times, floor)
    finally:
        proc.terminate()
        await proc.wait()


def report(kind: str, name: str, times: list[float], floor: float) -> None:
    p50, p95 = statistics.median(times), p(times, 95)
    target = 200.0 if kind == "search" else 50.0
    verdict = "ok" if p95 < target else "OVER"
    print(
        f"  {kind + ' ' + name:<34} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  "
        f"x{p95 / floor:6.1f} baseline  (target {target:.0f} ms: {verdict})"
    )


async def log_in(session: aiohttp.ClientSession, base: str) -> None:
    async with session.get(f"{base}/login") as r:
        token = re.search(r'name="csrf" value="([^"]+)"', await r.text())
    assert token is not None
    form = {"login": "agent0", "password": "bench-password", "csrf": token.group(1)}
    async with session.post(f"{base}/login", data=form, allow_redirects=False) as r:
        assert r.status == 302, r.status


async def run_engine(engine: str, args: argparse.Namespace, tmp: Path) -> None:
    print(f"\n{engine}: {args.dialogs:,} dialogs, {args.dialogs * args.per_dialog:,} messages")
    if engine == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp / 'bench.db'}"
    else:
        name = f"relaydesk_bench_inbox_{os.getpid()}"
        conn = await asyncpg.connect(PG_ADMIN)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
        await conn.close()
        url = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
        url = f"{url}/{name}"
    try:
        await build(url, args.dialogs, args.per_dialog)
        await measure(url, tmp / f"data-{engine}", args.runs)
    finally:
        if engine != "sqlite":
            conn = await asyncpg.connect(PG_ADMIN)
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dialogs", type=int, default=100_000)
    parser.add_argument("--messages-per-dialog", dest="per_dialog", type=int, default=10)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--engines", default="sqlite,postgresql")
    args = parser.parse_args()
    configure_logging("console", "warning")
    with tempfile.TemporaryDirectory() as tmp:
        for engine in args.engines.split(","):
            asyncio.run(run_engine(engine.strip(), args, Path(tmp)))


if __name__ == "__main__":
    main()
