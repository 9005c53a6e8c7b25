"""Ingest throughput and acknowledge latency: Relaydesk beside two baselines, in one run.

    python bench/ingest.py [--messages 20000] [--concurrency 50] [--engines sqlite,postgresql]

For each target a fresh server process is started, then a separate load process sends
N POST /api/v1/messages bodies over C keep-alive connections and reports messages/s and
p50/p99 latency from send to acknowledgement. Targets:
  bare        aiohttp handler that reads the body and answers (the HTTP ceiling here)
  insert      one durable SQLite insert per request, group-committed (the storage ceiling)
  relaydesk   `relaydesk serve` on SQLite, and on PostgreSQL with 1 and 2 processes
Ratios are against `insert`, measured in the same run on the same machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from servers import bench_env, free_port, relaydesk_servers, start, stop  # noqa: E402

TOKEN = "bench-token"
PG_ADMIN = os.environ.get("RELAYDESK_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


# ---- baseline servers ----------------------------------------------------------------------------


def serve_baseline(kind: str, port: int, db_path: str) -> None:
    import aiosqlite
    import orjson
    import uvloop
    from aiohttp import web

    sys.path.insert(0, str(ROOT))
    from dialogs.batching import GroupCommitter

    async def bare(request: web.Request) -> web.Response:
        orjson.loads(await request.read())
        return web.json_response({"ok": True}, status=201)

    app = web.Application()
    if kind == "bare":
        app.router.add_post("/api/v1/messages", bare)
    else:
        state: dict[str, object] = {}

        async def commit(rows: list[tuple[str, bytes]]) -> list[int]:
            db = state["db"]
            await db.executemany(  # type: ignore[attr-defined]
                "INSERT OR IGNORE INTO messages (external_id, body) VALUES (?, ?)", rows
            )
            await db.commit()  # type: ignore[attr-defined]
            return [1] * len(rows)

        committer: GroupCommitter[tuple[str, bytes], int] = GroupCommitter(commit)

        async def ctx(app: web.Application):  # type: ignore[no-untyped-def]
            db = await aiosqlite.connect(db_path)
            await db.execute("PRAGMA journal_mode=WAL")
            await db.execute("PRAGMA synchronous=FULL")
            await db.execute(
                "CREATE TABLE IF NOT EXISTS messages (id INTEGER PRIMARY KEY, "
                "external_id TEXT UNIQUE, body BLOB)"
            )
            state["db"] = db
            committer.start()
            yield
            await committer.stop()
            await db.close()

        async def insert(request: web.Request) -> web.Response:
            raw = await request.read()
            body = orjson.loads(raw)
            await committer.submit((body["external_id"], raw))
            return web.json_response({"ok": True}, status=201)

        app.cleanup_ctx.append(ctx)
        app.router.add_post("/api/v1/messages", insert)
    web.run_app(
        app,
        host="127.0.0.1",
        port=port,
        access_log=None,
        loop=uvloop.new_event_loop(),
        print=lambda _: print("Relaydesk serving on", flush=True),
    )


# ---- load generator ----------------------------------------------------------------------------


def run_load(urls: list[str], total: int, concurrency: int, run_id: str) -> None:
    import aiohttp
    import uvloop

    async def main() -> dict[str, float]:
        latencies: list[float] = []
        errors = 0
        counter = iter(range(total))
        connector = aiohttp.TCPConnector(limit=concurrency)
        headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
        async with aiohttp.ClientSession(connector=connector) as session:

            async def worker(w: int) -> None:
                nonlocal errors
                url = urls[w % len(urls)] + "/api/v1/messages"
                for i in counter:
                    body = json.dumps(
                        {
                            "channel": "api",
                            "external_id": f"{run_id}-{i}",
                            "contact": {"id": f"c-{i % 1000}", "name": f"Contact {i % 1000}"},
                            "text": f"Message number {i}: where is my order?",
                        }
                    )
                    t0 = time.perf_counter()
                    async with session.post(url, data=body, headers=headers) as r:
                        await r.read()
                        if r.status not in (200, 201):
                            errors += 1
                    latencies.append(time.perf_counter() - t0)

            start = time.perf_counter()
            await asyncio.gather(*(worker(w) for w in range(concurrency)))
            elapsed = time.perf_counter() - start
        latencies.sort()
        q = statistics.quantiles(latencies, n=100)
        return {
            "rate": total / elapsed,
            "p50_ms": q[49] * 1000,
            "p99_ms": q[98] * 1000,
            "errors": errors,
            "seconds": elapsed,
        }

    print(json.dumps(uvloop.run(main())), flush=True)


# ---- orchestration -----------------------------------------------------------------------------


def load(urls: list[str], total: int, concurrency: int, warmup: int) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--load", ",".join(urls)]
    subprocess.run([*cmd, str(warmup), str(concurrency), "warm"], check=True, capture_output=True)
    out = subprocess.run(
        [*cmd, str(total), str(concurrency), "run"], check=True, capture_output=True, text=True
    ).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def recreate_pg(name: str) -> str:
    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(PG_ADMIN)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
        await conn.close()

    asyncio.run(run())
    return PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://") + f"/{name}"


def relaydesk_targets(engines: list[str], work: Path) -> list[tuple[str, str, int, dict[str, str]]]:
    """(label, database URL, processes, extra environment) for each Relaydesk target."""
    ingest_only = {"RELAYDESK_WORKERS": "ingest"}
    targets = []
    if "sqlite" in engines:
        sqlite = f"sqlite+aiosqlite:///{work}/rd"
        targets.append(("relaydesk sqlite, ingest only", f"{sqlite}0.db", 1, ingest_only))
        targets.append(("relaydesk sqlite, ingest+route", f"{sqlite}1.db", 1, {}))
    if "postgresql" in engines:
        pg = recreate_pg
        targets.append(("relaydesk pg, 1 proc, ingest only", pg("rd_bench0"), 1, ingest_only))
        targets.append(("relaydesk pg, 1 proc, ingest+route", pg("rd_bench1"), 1, {}))
        targets.append(("relaydesk pg, 2 procs, ingest+route", pg("rd_bench2"), 2, {}))
    return targets


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument(
        "--serve-baseline", nargs=3, metavar=("KIND", "PORT", "DB"), help=argparse.SUPPRESS
    )
    parser.add_argument(
        "--load", nargs=4, metavar=("URLS", "N", "C", "RUN"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.serve_baseline:
        kind, port, db = args.serve_baseline
        serve_baseline(kind, int(port), db)
        return
    if args.load:
        urls, n, c, run_id = args.load
        run_load(urls.split(","), int(n), int(c), run_id)
        return

    work = Path(tempfile.mkdtemp(prefix="relaydesk-bench-"))
    env = bench_env(work, TOKEN)
    warmup = min(2000, args.messages // 5)
    results: list[tuple[str, dict[str, float]]] = []
    try:
        for kind in ("bare", "insert"):
            port = free_port()
            proc = start(
                [
                    sys.executable,
                    __file__,
                    "--serve-baseline",
                    kind,
                    str(port),
                    str(work / f"{kind}.db"),
                ],
                env,
                work,
            )
            try:
                results.append(
                    (
                        f"baseline: {kind}",
                        load([f"http://127.0.0.1:{port}"], args.messages, args.concurrency, warmup),
                    )
                )
            finally:
                stop([proc])
        for label, url, processes, extra in relaydesk_targets(args.engines.split(","), work):
            rules = ROOT / "rules.yaml"
            with relaydesk_servers(url, rules, {**env, **extra}, work, processes) as urls:
                results.append((label, load(urls, args.messages, args.concurrency, warmup)))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    base = dict(results)["baseline: insert"]["rate"]
    print(
        f"\n{args.messages} messages, {args.concurrency} connections, load from another process\n"
    )
    print(
        f"{'target':<36} {'msgs/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'vs insert':>10} {'errors':>7}"
    )
    for label, r in results:
        print(
            f"{label:<36} {r['rate']:>8.0f} {r['p50_ms']:>8.1f} {r['p99_ms']:>8.1f} "
            f"{r['rate'] / base:>9.0%} {int(r['errors']):>7}"
        )


if __name__ == "__main__":
    sqlite3.threadsafety  # noqa: B018 - the baselines need a thread-safe sqlite3 build
    main()
