"""A desk for the dialogs tests: storage, ingest, routing and dispatch on one database, with a
clock the test sets."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, text

from dialogs.dispatch import Dispatcher
from dialogs.events import EventBus, decode_events
from dialogs.ingest import Ingestor
from dialogs.routing import RoutingWorker
from dialogs.rulebook import Rulebook
from storage import Database
from storage.notify import EventRelay
from storage.tables import tasks
from tests.builders import add_agent, inbound
from tests.conftest import DATA

ASSIGN_RULES = DATA / "rules" / "assign.yaml"
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Desk:
    db: Database
    clock: Clock
    ingestor: Ingestor
    routing: RoutingWorker
    dispatcher: Dispatcher
    bus: EventBus
    relay: EventRelay
    rulebook: Rulebook

    async def post(self, external_id: str, *, contact: str, text: str = "hello") -> None:
        await self.ingestor.ingest(inbound(external_id, contact=contact, text=text))
        await self.routing.route_all()

    async def agent(self, login: str, status: str = "online") -> None:
        async with self.db.write() as tx:
            await add_agent(tx, login, status, self.clock())

    async def tasks(self) -> list[tuple[int, str, str | None, bool]]:
        async with self.db.read() as tx:
            rows = await tx.execute(
                select(tasks.c.id, tasks.c.status, tasks.c.assignee, tasks.c.breached).order_by(
                    tasks.c.id
                )
            )
            return [tuple(r) for r in rows]  # type: ignore[misc]


async def make_desk(db: Database, tmp_path: Path, rules: Path = ASSIGN_RULES) -> Desk:
    clock = Clock()
    bus = EventBus()
    relay = EventRelay(db, lambda payload: bus.deliver(decode_events(payload)))
    await relay.start()
    rulebook = Rulebook.from_file(rules)
    ingestor = Ingestor(
        db, relay, files_root=tmp_path / "f", reopen_window=timedelta(days=1), clock=clock
    )
    ingestor.start()
    routing = RoutingWorker(db, relay, rulebook, clock=clock)
    dispatcher = Dispatcher(
        db, relay, rulebook, clock=clock, assignment_timeout=timedelta(minutes=15)
    )
    return Desk(db, clock, ingestor, routing, dispatcher, bus, relay, rulebook)


async def until_a_session_waits_for_an_advisory_lock(db: Database) -> None:
    """Return once some PostgreSQL session waits for an advisory lock (pg_locks: not granted):
    the routing and dispatch locks are the only ones."""
    waiting = text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
    async with asyncio.timeout(10):
        while True:
            async with db.read() as tx:
                if (await tx.execute(waiting)).scalar_one():
                    return
            await asyncio.sleep(0.01)
