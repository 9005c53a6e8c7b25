"""Routing's CPU per message, step by step, in one process: the steady figure behind the
ingest -> assigned throughput of bench/pipeline.py.

    python bench/routing_cpu.py [--messages 3000] [--batch 60] [--runs 5] [--engine sqlite]

Ingests `--messages` messages from new contacts in batches of `--batch` (concurrently, as
the HTTP API does), then routes and assigns each batch through RoutingWorker with the
Dispatcher, under bench/pipeline.py's rules (ten online agents, one queue). Prints, per
step of a routing transaction, the CPU time of the thread that ran it per message: the
median over `--runs` runs, each on a fresh database, with the lowest and highest. CPU time
of one thread varies far less than throughput on a shared machine: a change to routing
shows here as a few per cent where pipeline.py's rates spread over 20 points.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

# imported after the path set-up above, so the script runs from any directory
from ingest import recreate_pg
from pipeline import AGENTS, RULES

import dialogs.dispatch as dispatch_module
import dialogs.routing as routing_module
from dialogs.dispatch import Dispatcher
from dialogs.ingest import Ingestor
from dialogs.routing import RoutingWorker, _BatchPlan
from dialogs.rulebook import Rulebook
from relaydesk.gc_tuning import tune_gc
from relaydesk.logging import configure_logging
from storage import Database
from storage import agents as agent_repo
from storage.notify import EventRelay
from tests.builders import inbound

TEXTS = ["Where is my order?", "I want a refund", "Хочу возврат", "Dzień dobry"]
# (where it is looked up, its name, how the table calls it), in the order a batch runs them
STEPS: list[tuple[Any, str, str]] = [
    (RoutingWorker, "_route_batch_sync", "routing transaction (all)"),
    (routing_module, "claim_unrouted", "claim"),
    (routing_module, "_facts", "facts"),
    (routing_module, "decide", "decide"),
    (_BatchPlan, "add", "record decision, plan task"),
    (routing_module, "save_decisions", "insert decisions"),
    (dispatch_module.Dispatcher, "assign_in", "assign (all)"),
    (dispatch_module, "load_agents", "  agents' loads"),
    (dispatch_module, "load_waiting", "  waiting tasks"),
    (dispatch_module, "plan_dispatch", "  plan and explain"),
    (dispatch_module, "apply_assignments", "  assign stored tasks"),
    (routing_module, "create_tasks", "insert tasks"),
    (routing_module, "finish_routing", "mark routed"),
    (routing_module, "encode_batches", "encode events"),
    (RoutingWorker, "committed", "after commit (event loop)"),
]


def timed(spent: collections.Counter[str]) -> None:
    """Wrap every step so that it adds its thread's CPU time to `spent`."""

    def wrap(owner: Any, name: str, label: str) -> None:
        step: Callable[..., Any] = getattr(owner, name)

        def run(*args: Any, **kwargs: Any) -> Any:
            started = time.thread_time()
            try:
                return step(*args, **kwargs)
            finally:
                spent[label] += time.thread_time() - started

        setattr(owner, name, run)

    for owner, name, label in STEPS:
        wrap(owner, name, label)


async def one_run(url: str, work: Path, messages: int, batch: int) -> None:
    rules = work / "rules.yaml"
    rules.write_text(RULES, encoding="utf-8")
    db = Database(url)
    await db.upgrade()
    relay = EventRelay(db, lambda payload: None)
    await relay.start()
    rulebook = Rulebook.from_file(rules)

    def clock() -> datetime:
        return datetime.now(UTC)

    ingestor = Ingestor(
        db, relay, files_root=work / "files", reopen_window=timedelta(days=1), clock=clock
    )
    ingestor.start()
    dispatcher = Dispatcher(
        db, relay, rulebook, clock=clock, assignment_timeout=timedelta(minutes=15)
    )
    routing = RoutingWorker(db, relay, rulebook, clock=clock, dispatcher=dispatcher)
    async with db.write() as tx:
        for login in AGENTS:
            await agent_repo.create_agent(
                tx,
                login=login,
                name=login,
                role="agent",
                password_hash=None,
                token_hash=None,
                now=clock(),
            )
            await agent_repo.set_agent_status(tx, login, "online", clock())
    tune_gc()
    try:
        for start in range(0, messages, batch):
            await asyncio.gather(
                *(
                    ingestor.ingest(inbound(f"m{i}", contact=f"c{i}", text=TEXTS[i % 4]))
                    for i in range(start, min(messages, start + batch))
                )
            )
            await routing.route_all()
    finally:
        await ingestor.stop()
        await relay.stop()
        await db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--batch", type=int, default=60)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    configure_logging("json", "warning")
    spent: collections.Counter[str] = collections.Counter()
    timed(spent)
    per_run: dict[str, list[float]] = collections.defaultdict(list)
    for n in range(args.runs):
        spent.clear()
        with tempfile.TemporaryDirectory(prefix="relaydesk-routing-cpu-") as tmp:
            work = Path(tmp)
            url = (
                f"sqlite+aiosqlite:///{work}/bench.db"
                if args.engine == "sqlite"
                else recreate_pg(f"rd_routing_cpu{n}")
            )
            asyncio.run(one_run(url, work, args.messages, args.batch))
        for _, _, label in STEPS:
            per_run[label].append(spent[label] * 1e6 / args.messages)
    print(
        f"\n{args.messages} messages in batches of {args.batch} on {args.engine}, "
        f"median of {args.runs} run(s) (lowest-highest)\n"
    )
    print(f"{'step':<30} {'CPU us/message':>16}")
    for _, _, label in STEPS:
        runs = per_run[label]
        print(f"{label:<30} {statistics.median(runs):>8.1f} ({min(runs):.1f}-{max(runs):.1f})")


if __name__ == "__main__":
    main()
