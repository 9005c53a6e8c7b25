"""Widget messages over WebSockets beside POST /api/v1/messages, in one run.

    python bench/widget.py [--messages 5000] [--concurrency 50] [--runs 3]

For each kind a fresh `relaydesk serve` process (SQLite, RELAYDESK_WORKERS=ingest, so only
the ingest path runs; the widget's rate limits raised out of the way) is started, then a
separate load process sends N messages from C concurrent senders and reports messages/s and
p50/p99 latency from send to acknowledgement:
  api     POST /api/v1/messages over C keep-alive connections, C contacts
  widget  C visitors, one WebSocket each, each sending its messages one after the other and
          waiting for the `ack` (stored and committed) before the next, as the widget does
The ratio is widget over api from the same run; each figure is the median of the runs, and
the runs of the two kinds alternate so that both see the same load on the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
API_TOKEN = "bench-token"
TEXT = "Message number {i}: where is my order?"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def relaydesk(db: Path) -> Iterator[str]:
    port = free_port()
    env = {
        "PATH": "/usr/bin:/bin",
        "RELAYDESK_API_TOKEN": API_TOKEN,
        "RELAYDESK_WORKERS": "ingest",
        "RELAYDESK_LOG_LEVEL": "warning",
        "RELAYDESK_WIDGET_ORIGINS": "*",
        "RELAYDESK_WIDGET_VISITOR_RATE": "1000000",
        "RELAYDESK_WIDGET_IP_RATE": "1000000",
    }
    cmd = [sys.executable, "-m", "relaydesk.cli", "serve", "--port", str(port)]
    cmd += ["--db", f"sqlite+aiosqlite:///{db}", "--rules", str(ROOT / "rules.yaml")]
    proc = subprocess.Popen(
        cmd, env=env, cwd=db.parent, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if "serving on" in line.lower():
                break
        else:
            raise RuntimeError("relaydesk serve exited before it was ready")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)


def summary(latencies: list[float], total: int, elapsed: float, errors: int) -> dict[str, float]:
    q = statistics.quantiles(sorted(latencies), n=100)
    return {
        "rate": total / elapsed,
        "p50_ms": q[49] * 1000,
        "p99_ms": q[98] * 1000,
        "errors": errors,
    }


async def load_api(url: str, total: int, concurrency: int, run_id: str) -> dict[str, float]:
    import aiohttp

    bodies = iter(
        json.dumps(
            {
                "channel": "api",
                "external_id": f"{run_id}-{i}",
                "contact": {"id": f"c-{i % concurrency}", "name": "Bench"},
                "text": TEXT.format(i=i),
            }
        )
        for i in range(total)
    )
    headers = {"Authorization": f"Bearer {API_TOKEN}", "Content-Type": "application/json"}
    latencies: list[float] = []
    errors = 0
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as s:

        async def worker() -> None:
            nonlocal errors
            for body in bodies:
                t0 = time.perf_counter()
                async with s.post(url + "/api/v1/messages", data=body, headers=headers) as r:
                    await r.read()
                    errors += r.status not in (200, 201)
                latencies.append(time.perf_counter() - t0)

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    return summary(latencies, total, elapsed, errors)


async def load_widget(url: str, total: int, concurrency: int, run_id: str) -> dict[str, float]:
    import aiohttp

    latencies: list[float] = []
    errors = 0
    per_visitor = [total // concurrency + (v < total % concurrency) for v in range(concurrency)]
    async with aiohttp.ClientSession() as s:
        sockets = []
        for _ in range(concurrency):  # connected before the clock starts
            ws = await s.ws_connect(url.replace("http", "ws") + "/widget/ws", origin=url)
            await ws.send_json({"type": "hello"})
            assert (await ws.receive_json())["type"] == "welcome"
            sockets.append(ws)

        async def visitor(v: int, ws: aiohttp.ClientWebSocketResponse) -> None:
            nonlocal errors
            for i in range(per_visitor[v]):
                cid = f"c_{run_id}-{v:04d}-{i:06d}"
                frame = {"type": "message", "client_id": cid, "text": TEXT}
                t0 = time.perf_counter()
                await ws.send_json(frame)
                while True:
                    reply = await ws.receive_json()
                    if reply["type"] in ("ack", "error"):
                        break
                errors += reply["type"] != "ack"
                latencies.append(time.perf_counter() - t0)

        start = time.perf_counter()
        await asyncio.gather(*(visitor(v, ws) for v, ws in enumerate(sockets)))
        elapsed = time.perf_counter() - start
        for ws in sockets:
            await ws.close()
    return summary(latencies, total, elapsed, errors)


def run_load(url: str, kind: str, total: int, concurrency: int, run_id: str) -> None:
    import uvloop

    load = load_api if kind == "api" else load_widget
    print(json.dumps(uvloop.run(load(url, total, concurrency, run_id))), flush=True)


def measure(kind: str, total: int, concurrency: int, run: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp, relaydesk(Path(tmp) / "bench.db") as url:
        out = subprocess.run(
            [sys.executable, __file__, "--load", url, kind, str(total), str(concurrency), str(run)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return result


def median(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    runs: dict[str, list[dict[str, float]]] = {"api": [], "widget": []}
    for r in range(args.runs):  # interleaved, so both kinds see the same machine load
        for kind in runs:
            runs[kind].append(measure(kind, args.messages, args.concurrency, r))
    results: dict[str, dict[str, Any]] = {kind: median(done) for kind, done in runs.items()}
    print(f"{args.messages} messages, {args.concurrency} concurrent senders, median of {args.runs}")
    print(f"{'kind':8} {'msg/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'vs api':>7}")
    base = results["api"]["rate"]
    for kind, r in results.items():
        print(
            f"{kind:8} {r['rate']:9.0f} {r['p50_ms']:8.1f} {r['p99_ms']:8.1f} "
            f"{r['errors']:7.0f} {r['rate'] / base:7.2f}"
        )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--load":
        url, kind, total, concurrency, run_id = sys.argv[2:7]
        run_load(url, kind, int(total), int(concurrency), run_id)
    else:
        main()
