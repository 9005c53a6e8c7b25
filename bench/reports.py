"""The report summary over a month of a busy desk: 1,000,000 messages, on SQLite and PostgreSQL.

    python bench/reports.py [--messages 1000000] [--days 30] [--engines sqlite,postgresql]

Builds each database with bulk inserts (10 messages per dialog, one task per dialog plus 10%
reopened follow-ups, the shipped rules.yaml's SLA calendars), then times, in the same run:
  summary      GET /api/v1/reports/summary's work: build_summary for the whole period
  timeseries   build_timeseries by day (hourly volume counts, heat map)
  baseline     one figure the straightforward way: every task of the period fetched as
               datetimes, each first response's clock walked with router.hours (no median,
               no SLA, no groups): what a single business-hours figure costs done simply
Each figure is the median of 5 runs after one warm-up; the ratio is summary / baseline.
PostgreSQL gets VACUUM ANALYZE after the load, as autovacuum would give it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402
from sqlalchemy import create_engine, select  # noqa: E402

from dialogs.reports import ReportFilters, build_summary, build_timeseries  # noqa: E402
from dialogs.reports.period import Period  # noqa: E402
from router import business_time_between, load_rules_file  # noqa: E402
from storage import Database  # noqa: E402
from storage.tables import contacts, dialogs, messages, tasks  # noqa: E402

PG_ADMIN = os.environ.get("RELAYDESK_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
START = datetime(2026, 10, 1, tzinfo=UTC)
CHANNELS = ("email", "telegram", "whatsapp", "widget", "api")
AGENTS = tuple(f"agent{i}" for i in range(1, 11))
CHUNK = 20_000


def generate(n_messages: int, days: int, seed: int = 7) -> dict[str, list[dict[str, Any]]]:
    """Rows of a desk's month: dialogs of 10 messages, tasks with realistic timestamps."""
    rnd = random.Random(seed)
    span = days * 86400
    n_dialogs = n_messages // 10
    out: dict[str, list[dict[str, Any]]] = {"contacts": [], "dialogs": [], "tasks": []}
    out["messages"] = []
    for c in range(1, n_dialogs // 2 + 1):
        out["contacts"].append(
            {
                "id": c,
                "name": f"c{c}",
                "tags": [],
                "attrs": {},
                "reachable": True,
                "created_at": START,
            }
        )
    msg_id = 0
    for d in range(1, n_dialogs + 1):
        created = START + timedelta(seconds=rnd.random() * (span - 3 * 86400))
        channel = CHANNELS[d % len(CHANNELS)]
        out["dialogs"].append(
            {
                "id": d,
                "contact_id": (d - 1) // 2 + 1,
                "channel": channel,
                "thread_key": str(d),
                "status": "open",
                "tags": ["vip"] if d % 7 == 0 else [],
                "priority": "normal",
                "subject": "",
                "created_at": created,
                "last_message_at": created,
            }
        )
        for k in range(10):
            msg_id += 1
            out["messages"].append(
                {
                    "id": msg_id,
                    "dialog_id": d,
                    "direction": "in" if k % 2 == 0 else "out",
                    "channel": channel,
                    "external_id": str(msg_id),
                    "kind": "text",
                    "text": "hello",
                    "status": "received",
                    "automated": False,
                    "thread_hints": {},
                    "history": [],
                    "created_at": created + timedelta(seconds=k * rnd.uniform(60, 17000)),
                }
            )
        for follow_up in (False, True) if d % 10 == 0 else (False,):
            out["tasks"].append(_task(rnd, len(out["tasks"]) + 1, d, created, follow_up))
    return out


def _task(
    rnd: random.Random, task_id: int, dialog: int, created: datetime, later: bool
) -> dict[str, Any]:
    if later:
        created += timedelta(days=2, seconds=rnd.uniform(0, 3600))
    urgent = rnd.random() < 0.5  # half 24/7, half on office hours (Europe/Moscow)
    assigned = created + timedelta(seconds=rnd.uniform(5, 1800))
    responded = assigned + timedelta(seconds=rnd.uniform(60, 3 * 3600))
    closed = (
        responded + timedelta(seconds=rnd.uniform(600, 2 * 86400))
        if later or rnd.random() < 0.9
        else None
    )
    status = "done" if closed is not None else rnd.choice(("waiting", "assigned", "in_progress"))
    return {
        "id": task_id,
        "dialog_id": dialog,
        "title": "",
        "queue": "billing" if urgent else "support",
        "status": status,
        "assignee": AGENTS[task_id % len(AGENTS)] if status != "waiting" else None,
        "priority": "normal",
        "weight": 1.0,
        "tags": [],
        "sla_policy": "urgent" if urgent else "standard",
        "first_response_due": created + timedelta(minutes=15 if urgent else 60),
        "resolution_due": created + timedelta(hours=4 if urgent else 24),
        "first_response_at": responded if status != "waiting" else None,
        "breached": False,
        "created_at": created,
        "assigned_at": assigned if status != "waiting" else None,
        "updated_at": created,
        "closed_at": closed,
    }


def _chunks(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for i in range(0, len(rows), CHUNK):
        yield rows[i : i + CHUNK]


TABLES = (("contacts", contacts), ("dialogs", dialogs), ("tasks", tasks), ("messages", messages))


def load_sqlite(path: Path, data: dict[str, list[dict[str, Any]]]) -> None:
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        for name, table in TABLES:
            for chunk in _chunks(data[name]):
                conn.execute(table.insert(), chunk)
        conn.exec_driver_sql("ANALYZE")
    engine.dispose()


async def load_postgres(dsn: str, data: dict[str, list[dict[str, Any]]]) -> None:
    import orjson

    conn = await asyncpg.connect(dsn)
    try:
        for name, table in TABLES:
            columns = list(data[name][0])
            json_cols = {c.name for c in table.columns if c.type.__class__.__name__ == "JSON"}
            records = [
                tuple(orjson.dumps(r[c]).decode() if c in json_cols else r[c] for c in columns)
                for r in data[name]
            ]
            await conn.copy_records_to_table(name, records=records, columns=columns)
        # what autovacuum does after a bulk load: statistics, and the visibility map that
        # lets the volume counts read the index alone
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()


async def timed(fn: Callable[[], Awaitable[Any]], runs: int = 5) -> float:
    await fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        await fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


async def baseline(db: Database, period: Period, calendars: dict[str, Any]) -> None:
    """Fetch every task of the period as datetimes; walk each clock with router.hours."""
    async with db.read() as tx:
        rows = (
            await tx.execute(
                select(tasks.c.created_at, tasks.c.first_response_at, tasks.c.sla_policy).where(
                    tasks.c.created_at < period.end
                )
            )
        ).all()
    for created, responded, policy in rows:
        if responded is not None and period.start <= responded < period.end:
            business_time_between(calendars.get(policy), created, responded)


async def measure(engine: str, url: str, period: Period, figures: dict[str, Any]) -> None:
    ruleset = load_rules_file(ROOT / "rules.yaml")
    calendars = {n: p.calendar for n, p in ruleset.sla.items()}
    now = period.end
    db = Database(url)
    try:
        filters = ReportFilters()
        summary = await build_summary(db, ruleset, period, filters, now)
        t_summary = await timed(lambda: build_summary(db, ruleset, period, filters, now))
        t_series = await timed(lambda: build_timeseries(db, ruleset, period, filters, now, "day"))
        t_base = await timed(lambda: baseline(db, period, calendars), runs=3)
    finally:
        await db.dispose()
    totals = summary["totals"]
    load = os.getloadavg()[0]
    print(
        f"{engine:<11} summary {t_summary * 1000:7.0f} ms   timeseries {t_series * 1000:7.0f} ms"
        f"   baseline {t_base * 1000:7.0f} ms (summary = x{t_summary / t_base:.2f} baseline)"
        f"   [load average {load:.1f} on {os.cpu_count()} CPUs]"
    )
    print(
        f"{'':<11} messages in/out {totals['messages_in']}/{totals['messages_out']}, "
        f"tasks created {totals['tasks_created']}, resolved {totals['tasks_resolved']}, "
        f"first response median {totals['first_response_median_s']} s (business)"
    )
    figures[engine] = totals


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--engines", default="sqlite,postgresql")
    args = parser.parse_args()
    engines = args.engines.split(",")
    t0 = time.perf_counter()
    data = generate(args.messages, args.days)
    print(
        f"generated {len(data['messages'])} messages, {len(data['dialogs'])} dialogs, "
        f"{len(data['tasks'])} tasks over {args.days} days in {time.perf_counter() - t0:.1f} s"
    )
    period = Period(START, START + timedelta(days=args.days), ZoneInfo("UTC"))
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        if "sqlite" in engines:
            path = Path(tmp) / "reports.db"
            url = f"sqlite+aiosqlite:///{path}"
            db = Database(url)
            await db.upgrade()
            await db.dispose()
            t0 = time.perf_counter()
            load_sqlite(path, data)
            print(f"sqlite      loaded in {time.perf_counter() - t0:.1f} s")
            await measure("sqlite", url, period, figures)
        if "postgresql" in engines:
            name = "relaydesk_bench_reports"
            admin = await asyncpg.connect(PG_ADMIN)
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.execute(f'CREATE DATABASE "{name}"')
            dsn = PG_ADMIN.rpartition("/")[0] + "/" + name
            url = dsn.replace("postgresql://", "postgresql+asyncpg://", 1)
            db = Database(url)
            await db.upgrade()
            await db.dispose()
            t0 = time.perf_counter()
            await load_postgres(dsn, data)
            print(f"postgresql  loaded in {time.perf_counter() - t0:.1f} s")
            await measure("postgresql", url, period, figures)
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()
    if len(figures) == 2:
        same = figures["sqlite"] == figures["postgresql"]
        print(f"both engines give the same figures: {same}")


if __name__ == "__main__":
    asyncio.run(main())
