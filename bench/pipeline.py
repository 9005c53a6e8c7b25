"""Ingest -> assigned through the HTTP API, beside ingest-only, in one run.

    python bench/pipeline.py [--messages 5000] [--concurrency 50] [--engines sqlite,postgresql]
                             [--rounds 1]

Every message comes from a new contact, so each makes a dialog, a task and an assignment.
Ten online agents with room for everything take the tasks. A separate load process posts
the messages and, on the live event stream (/api/v1/events), notes when each message's
task is assigned. Reported per target: messages/s from the first post to the last
assignment, and p50/p99 of post -> assigned. The ingest-only target is the same server
(or servers) with RELAYDESK_WORKERS=ingest, measured from post to acknowledgement; each
ingest -> assigned target is compared with the ingest-only one of as many processes. Server
CPU ms/msg is the CPU time the server processes used from the first post to the last
acknowledgement or assignment (not the read-back of assignment times after it), per
message: on a shared machine it varies far less than the rates do. CPU ratio is
ingest-only's CPU per message over this target's, per round then the median: the server is
bound to one core by the GIL, so the rate ratio follows it, with more noise. Msgs/batch is
the mean number of messages per routing transaction (the servers' /metrics): routing costs
more per message in small batches.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ingest import TOKEN, recreate_pg
from servers import bench_env, cpu_seconds, relaydesk_servers

AGENTS = [f"agent{i:02d}" for i in range(10)]
RULES = f"""version: 1
agents:
{chr(10).join(f"  {a}: {{capacity: 100000}}" for a in AGENTS)}
teams:
  support: [{", ".join(AGENTS)}]
queues:
  support: {{team: support, strategy: least_loaded}}
rules:
  - name: refunds
    when: {{text: {{matches: "(?i)refund|возврат|zwrot"}}}}
    then: {{tag: refund, priority: high, task: {{queue: support, title: "Refund"}}}}
  - name: everything else
    then: {{task: {{queue: support}}}}
"""
HEADERS = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}


def run_load(
    urls: list[str], total: int, concurrency: int, run_id: str, wait: bool, pids: list[int]
) -> None:
    """The load process: post, and (when `wait`) follow assignments on the event stream.
    Reads the servers' CPU time (`pids`) at the start and once the last message is
    acknowledged or assigned, before it reads the assignment times back."""
    import aiohttp
    import uvloop

    async def main() -> dict[str, float]:
        posted: dict[int, float] = {}  # dialog id -> wall clock at post (tasks carry wall time)
        acked: dict[int, float] = {}
        counter = iter(range(total))
        texts = ["Where is my order?", "I want a refund", "Хочу возврат", "Dzień dobry"]
        timeout = aiohttp.ClientTimeout(total=None, sock_read=None)
        async with aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=concurrency + 2), timeout=timeout
        ) as session:
            stream = await session.get(f"{urls[0]}/api/v1/events", headers=HEADERS)
            assigned = 0
            all_assigned = asyncio.Event()

            async def follow() -> None:
                """Count assignments as the stream reports them (reading it costs the server
                nothing more); the times are read from the tasks once, at the end."""
                nonlocal assigned
                async for line in stream.content:
                    if line.startswith(b"data:") and b'"status":"assigned"' in line:
                        assigned += line.count(b'"status":"assigned"')
                        if assigned >= total:
                            all_assigned.set()

            follower = asyncio.create_task(follow())

            async def worker(w: int) -> None:
                url = urls[w % len(urls)] + "/api/v1/messages"
                for i in counter:
                    body = json.dumps(
                        {
                            "channel": "api",
                            "external_id": f"{run_id}-{i}",
                            "contact": {"id": f"{run_id}-c{i}", "name": f"Contact {i}"},
                            "text": f"{texts[i % 4]} #{i}",
                        }
                    )
                    t0 = time.time()
                    async with session.post(url, data=body, headers=HEADERS) as r:
                        dialog_id = (await r.json())["dialog_id"]
                    posted[dialog_id] = t0
                    acked[dialog_id] = time.time()

            cpu_before = cpu_seconds(pids)
            start_at = time.time()
            await asyncio.gather(*(worker(w) for w in range(concurrency)))
            done = acked
            if wait:
                # A slow reader may miss events: if the count stalls, the tasks say what is left.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(all_assigned.wait(), 60)
            cpu = cpu_seconds(pids) - cpu_before
            if wait:
                done = await assigned_times(session, urls[0])
                while len(done) < total:
                    await asyncio.sleep(0.5)  # only after missed events: poll what is stored
                    done = await assigned_times(session, urls[0])
            follower.cancel()
            stream.close()
            batch = await mean_batch(session, urls)
        elapsed = max(done.values()) - start_at
        latencies = sorted(done[d] - posted[d] for d in posted)
        q = statistics.quantiles(latencies, n=100)
        return {
            "rate": total / elapsed,
            "p50_ms": q[49] * 1000,
            "p99_ms": q[98] * 1000,
            "cpu_ms": cpu * 1000 / total,
            "batch": batch,
        }

    print(json.dumps(uvloop.run(main())), flush=True)


async def mean_batch(session: Any, urls: list[str]) -> float:
    """Messages per routing transaction over the servers (their /metrics); 0 when none
    routed."""
    total = count = 0.0
    for base in urls:
        async with session.get(f"{base}/metrics", headers=HEADERS) as r:
            for line in (await r.text()).splitlines():
                if line.startswith("relaydesk_routing_batch_messages_sum "):
                    total += float(line.split()[1])
                elif line.startswith("relaydesk_routing_batch_messages_count "):
                    count += float(line.split()[1])
    return total / count if count else 0.0


async def assigned_times(session: Any, base: str) -> dict[int, float]:
    """Dialog id -> when its task was assigned (server wall clock), over every page."""
    from datetime import datetime

    out: dict[int, float] = {}
    path = "/api/v1/tasks?status=assigned&limit=200"
    while True:
        async with session.get(base + path, headers=HEADERS) as r:
            page = await r.json()
        for task in page["items"]:
            out[task["dialog_id"]] = datetime.fromisoformat(task["assigned_at"]).timestamp()
        if page["next_cursor"] is None:
            return out
        path = f"/api/v1/tasks?status=assigned&limit=200&cursor={page['next_cursor']}"


def prepare_agents(url: str, env: dict[str, str], work: Path) -> None:
    for login in AGENTS:
        subprocess.run(
            [sys.executable, "-m", "relaydesk.cli", "agents", "add", login, "--db", url],
            env=env,
            cwd=work,
            check=True,
            capture_output=True,
        )


def set_online(base: str) -> None:
    import urllib.request

    for login in AGENTS:
        request = urllib.request.Request(
            f"{base}/api/v1/agents/{login}/status",
            method="PUT",
            headers=HEADERS,
            data=json.dumps({"status": "online"}).encode(),
        )
        urllib.request.urlopen(request, timeout=10).read()


def measure(
    label: str,
    url: str,
    processes: int,
    env: dict[str, str],
    work: Path,
    args: argparse.Namespace,
    *,
    ingest_only: bool,
) -> tuple[str, dict[str, float]]:
    rules = work / "pipeline-rules.yaml"
    rules.write_text(RULES, encoding="utf-8")
    extra = {"RELAYDESK_WORKERS": "ingest"} if ingest_only else {}
    prepare_agents(url, env, work)
    pids: list[int] = []
    with relaydesk_servers(url, rules, {**env, **extra}, work, processes, pids) as urls:
        if not ingest_only:
            set_online(urls[0])
        cmd = [
            sys.executable,
            __file__,
            "--load",
            ",".join(urls),
            str(args.messages),
            str(args.concurrency),
            f"run{time.time_ns()}",
            "ack" if ingest_only else "assigned",
            ",".join(map(str, pids)),
        ]
        done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{label}: the load process failed:\n{done.stderr[-3000:]}")
    return label, dict(json.loads(done.stdout.strip().splitlines()[-1]))


def run_round(engines: list[str], args: argparse.Namespace, n: int) -> list[tuple[str, Any]]:
    """Every target once, each on a fresh database."""
    work = Path(tempfile.mkdtemp(prefix="relaydesk-pipeline-"))
    env = bench_env(work, TOKEN)
    results = []
    try:
        if "sqlite" in engines:
            db = f"sqlite+aiosqlite:///{work}/p"
            for i, (label, only) in enumerate(
                [("sqlite: ingest only (ack)", True), ("sqlite: ingest -> assigned", False)]
            ):
                url = f"{db}{n}-{i}.db"
                results.append(measure(label, url, 1, env, work, args, ingest_only=only))
        if "postgresql" in engines:
            for i, (label, procs, only) in enumerate(
                [
                    ("pg 1 proc: ingest only (ack)", 1, True),
                    ("pg 1 proc: ingest -> assigned", 1, False),
                    ("pg 2 procs: ingest only (ack)", 2, True),
                    ("pg 2 procs: ingest -> assigned", 2, False),
                ]
            ):
                url = recreate_pg(f"rd_pipe{i}")
                results.append(measure(label, url, procs, env, work, args, ingest_only=only))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return results


def run_all(engines: list[str], args: argparse.Namespace) -> list[tuple[str, dict[str, float]]]:
    """`args.rounds` interleaved rounds; per target the median of each figure. The ratio to
    ingest-only is taken within each round (against that round's ingest-only run of the
    same engine), then its median: rates drift between rounds on a shared machine."""
    by_label: dict[str, list[dict[str, float]]] = {}
    for n in range(args.rounds):
        base = base_cpu = 0.0
        for label, figures in run_round(engines, args, n):
            if "ingest only" in label:
                base, base_cpu = figures["rate"], figures["cpu_ms"]
            else:
                figures["ratio"] = figures["rate"] / base
                figures["cpu_ratio"] = base_cpu / figures["cpu_ms"]
            by_label.setdefault(label, []).append(figures)
    results = []
    for label, runs in by_label.items():
        figures = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        if "ratio" in figures:  # how far the rounds spread: the noise a reader should know
            figures["ratio_min"] = min(r["ratio"] for r in runs)
            figures["ratio_max"] = max(r["ratio"] for r in runs)
        results.append((label, figures))
    return results


def print_table(results: list[tuple[str, dict[str, float]]], args: argparse.Namespace) -> None:
    print(
        f"\n{args.messages} messages from new contacts, {args.concurrency} connections, "
        f"median of {args.rounds} round(s); vs ingest only: the median of each round's ratio"
        " (lowest-highest round)\n"
    )
    print(
        f"{'target':<34} {'msgs/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'vs ingest only':>16}"
        f" {'server CPU ms/msg':>18} {'CPU ratio':>10} {'msgs/batch':>11}"
    )
    for label, r in results:
        ratio = ""
        if "ratio" in r:
            ratio = f"{r['ratio']:.0%} ({r['ratio_min']:.0%}-{r['ratio_max']:.0%})"
        batch = f"{r['batch']:.1f}" if r["batch"] else ""
        cpu_ratio = f"{r['cpu_ratio']:.0%}" if "cpu_ratio" in r else ""
        print(
            f"{label:<34} {r['rate']:>8.0f} {r['p50_ms']:>8.1f} {r['p99_ms']:>8.1f} {ratio:>16}"
            f" {r['cpu_ms']:>18.2f} {cpu_ratio:>10} {batch:>11}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--rounds", type=int, default=1, help="median over interleaved rounds")
    parser.add_argument("--load", nargs=6, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load:
        urls, n, c, run_id, mode, pids = args.load
        run_load(
            urls.split(","),
            int(n),
            int(c),
            run_id,
            mode == "assigned",
            [int(p) for p in pids.split(",")],
        )
        return
    print_table(run_all(args.engines.split(","), args), args)


if __name__ == "__main__":
    main()
