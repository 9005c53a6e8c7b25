"""How the routing worker batches: it lets ingest in flight land first, for a bounded time,
and goes on while its batches come full."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import func, select

from dialogs.routing import RoutingWorker
from storage import Database
from storage.routing import lock_routing
from storage.tables import messages
from tests.builders import inbound
from tests.conftest import DATA
from tests.dialogs.desk import Desk, make_desk, until_a_session_waits_for_an_advisory_lock
from tests.statements import statements

AUTO_REPLY_RULES = DATA / "rules" / "auto_reply.yaml"
UNROUTED = "routed_at IS NULL AND direction = 'in'"  # in a batch's claim of the oldest unrouted


def worker(desk: Desk, **kwargs: object) -> RoutingWorker:
    return RoutingWorker(desk.db, desk.relay, desk.rulebook, clock=desk.clock, **kwargs)  # type: ignore[arg-type]


async def unrouted(desk: Desk) -> int:
    async with desk.db.read() as tx:
        query = select(func.count()).where(messages.c.routed_at.is_(None))
        return int((await tx.execute(query)).scalar_one())


def claims(seen: list[tuple[str, object]]) -> list[str]:
    """The claims among the SELECTs `statements` saw."""
    return [statement for statement, _ in seen if UNROUTED in statement]


def engine_of(desk: Desk):  # type: ignore[no-untyped-def]
    return desk.db._sync_writer or desk.db.writer.sync_engine  # where routing writes


async def test_a_run_lets_the_ingest_in_flight_land_and_routes_it_in_the_same_batch(
    desk: Desk,
) -> None:
    in_flight = asyncio.Event()  # set: no ingest commit is in flight any more
    routing = worker(desk, ingest_quiet=in_flight.wait)
    for i in range(2):
        await desk.ingestor.ingest(inbound(f"m{i}", contact=f"c{i}"))
    with statements(engine_of(desk), "SELECT") as seen:
        run = asyncio.create_task(routing.work())
        await desk.ingestor.ingest(inbound("m2", contact="c2"))  # lands while the run waits
        in_flight.set()
        await asyncio.wait_for(run, 10)
    assert len(claims(seen)) == 1 and await unrouted(desk) == 0


async def test_the_wait_for_ingest_is_bounded(desk: Desk) -> None:
    routing = worker(desk, ingest_quiet=asyncio.Event().wait)  # ingest never goes quiet
    routing.defer = 0.05
    await desk.ingestor.ingest(inbound("m0", contact="c0"))
    await asyncio.wait_for(routing.work(), 10)
    assert await unrouted(desk) == 0


async def test_full_batches_go_on_and_a_partial_one_ends_the_run(desk: Desk) -> None:
    """Batches of 2 over 5 messages: 2, 2, 1, and no fourth look for more; what is stored
    after a partial batch comes with its own wake."""
    routing = worker(desk, batch_size=2)
    for i in range(5):
        await desk.ingestor.ingest(inbound(f"m{i}", contact=f"c{i}"))
    with statements(engine_of(desk), "SELECT") as seen:
        await asyncio.wait_for(routing.work(), 10)
    assert len(claims(seen)) == 3 and await unrouted(desk) == 0


async def test_the_auto_replies_sent_are_read_only_when_a_rule_asks_for_one(
    desk: Desk, db: Database, tmp_path: Path
) -> None:
    """The look-up of the dialogs that already had their automatic reply is made for a batch
    with a decision that asks for one, not for every batch."""
    lookup = "SELECT DISTINCT messages.dialog_id"
    for i in range(3):
        await desk.ingestor.ingest(inbound(f"m{i}", contact=f"c{i}"))
    with statements(engine_of(desk), lookup) as without:
        await worker(desk).work()
    replying = await make_desk(db, tmp_path / "replying", AUTO_REPLY_RULES)
    try:
        await replying.ingestor.ingest(inbound("m9", contact="c9"))
        with statements(engine_of(replying), lookup) as with_reply:
            await worker(replying).work()
    finally:
        await replying.ingestor.stop()
        await replying.relay.stop()
    assert (len(without), len(with_reply)) == (0, 1)


async def test_processes_route_one_batch_at_a_time(pg_url: str, tmp_path: Path) -> None:
    """While another process routes a batch, a batch waits for it to commit rather than
    routing beside it, then takes what arrived meanwhile too: one batch for both messages."""
    db, other = Database(pg_url), Database(pg_url)
    desk = await make_desk(db, tmp_path)
    try:
        await desk.ingestor.ingest(inbound("m0", contact="c0"))
        with statements(engine_of(desk), "SELECT") as seen:
            async with other.write() as batch_elsewhere:
                await batch_elsewhere.run_sync(lock_routing)
                run = asyncio.create_task(desk.routing.route_all())
                await until_a_session_waits_for_an_advisory_lock(other)
                await desk.ingestor.ingest(inbound("m1", contact="c1"))
                assert not run.done() and await unrouted(desk) == 2
            assert await asyncio.wait_for(run, 10) == 2
        assert len(claims(seen)) == 2  # the batch of both, then the empty one that ends the run
        assert await unrouted(desk) == 0
    finally:
        await desk.ingestor.stop()
        await desk.relay.stop()
        await other.dispose()
        await db.dispose()
