"""Dispatcher: queue order, capacity, presence, round-robin state, SLA timers, no-reply returns."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update
from structlog.testing import capture_logs

from dialogs.routing import RoutingWorker
from dialogs.tasks import Actor, TaskEdit, TaskEditor
from storage import Database
from storage.assignment import lock_dispatch
from storage.tables import agents, tasks
from tests.builders import inbound
from tests.conftest import DATA
from tests.dialogs.desk import T0, Desk, make_desk, until_a_session_waits_for_an_advisory_lock
from tests.statements import statements


async def test_urgent_first_then_oldest(desk: Desk) -> None:
    """With one free slot an urgent task beats older normal ones; then age decides."""
    await desk.agent("alice")
    await desk.agent("bob", "offline")
    for i, text in enumerate(["one", "two", "urgent three"]):
        desk.clock.now = T0 + timedelta(minutes=i)
        await desk.post(f"m{i}", contact=f"c{i}", text=text)
    with capture_logs() as logs:
        await desk.dispatcher.dispatch_all()
    got = await desk.tasks()
    assert [(status, who) for _, status, who, _ in got] == [
        ("assigned", "alice"),
        ("waiting", None),
        ("assigned", "alice"),
    ]
    assigned = [e for e in logs if e["event"] == "task_assigned"]
    assert [e["task_id"] for e in assigned] == [got[2][0], got[0][0]]
    assert all(e["login"] == "alice" and e["dialog_id"] for e in assigned)


async def test_only_online_agents_and_capacity_held(desk: Desk) -> None:
    """Away or offline agents get nothing; online ones never pass their capacity."""
    await desk.agent("alice")
    await desk.agent("bob", "away")
    for i in range(5):
        await desk.post(f"m{i}", contact=f"c{i}")
    await desk.dispatcher.dispatch_all()
    await desk.dispatcher.dispatch_all()
    holders = [who for _, status, who, _ in await desk.tasks() if status == "assigned"]
    assert holders == ["alice", "alice"]


async def test_assignment_records_reason_and_candidates(desk: Desk) -> None:
    """tasks.assignment keeps the planner's reason and every candidate's verdict."""
    await desk.agent("alice")
    await desk.agent("bob", "offline")
    await desk.post("m1", contact="c1")
    await desk.dispatcher.dispatch_all()
    async with desk.db.read() as tx:
        explained = (await tx.execute(select(tasks.c.assignment))).scalar_one()
    assert explained["reason"].startswith("least_loaded in support: alice")
    assert {c["login"]: c["why_not"] for c in explained["candidates"]} == {
        "alice": None,
        "bob": "offline",
    }


async def test_each_task_of_a_batch_is_explained_with_the_loads_it_was_placed_by(
    desk: Desk,
) -> None:
    """Three waiting tasks placed in one plan with alice and bob (capacity 2 each): each
    explanation lists the loads as that task saw them, the plan's earlier tasks included."""
    await desk.agent("alice")
    await desk.agent("bob")
    for i in range(3):
        await desk.ingestor.ingest(inbound(f"m{i}", contact=f"c{i}"))
    assert await desk.routing.route_all() == 3
    await desk.dispatcher.dispatch_all()  # one plan for the three
    async with desk.db.read() as tx:
        rows = (
            await tx.execute(select(tasks.c.assignee, tasks.c.assignment).order_by(tasks.c.id))
        ).all()
    seen = [
        (who, {c["login"]: (c["load"], c["eligible"]) for c in explained["candidates"]})
        for who, explained in rows
    ]
    assert seen == [
        ("alice", {"alice": (0.0, True), "bob": (0.0, True)}),
        ("bob", {"alice": (1.0, True), "bob": (0.0, True)}),
        ("alice", {"alice": (1.0, True), "bob": (1.0, True)}),
    ]


async def test_tasks_in_progress_count_towards_an_agents_load(desk: Desk) -> None:
    """alice (capacity 2) works on two tasks: a third waits for her, it does not exceed it."""
    await desk.agent("alice")
    for i in range(2):
        await desk.post(f"m{i}", contact=f"c{i}")
    await desk.dispatcher.dispatch_all()
    async with desk.db.write() as tx:
        await tx.execute(update(tasks).values(status="in_progress"))
    await desk.post("m2", contact="c2")
    await desk.dispatcher.dispatch_all()
    assert [(status, who) for _, status, who, _ in await desk.tasks()] == [
        ("in_progress", "alice"),
        ("in_progress", "alice"),
        ("waiting", None),
    ]


async def test_round_robin_state_is_shared_by_dispatchers(
    desk: Desk, db_url: str, tmp_path: Path
) -> None:
    """A second dispatcher (another process) continues the rotation where the first left it."""
    await desk.agent("alice")
    await desk.agent("bob")
    other_db = Database(db_url)
    other = await make_desk(other_db, tmp_path / "other")
    try:
        owners = []
        for i in range(4):
            await desk.post(f"m{i}", contact=f"c{i}", text="invoice please")
            await (desk if i % 2 == 0 else other).dispatcher.dispatch_all()
            owners.append((await desk.tasks())[-1][2])
        assert owners == ["alice", "bob", "alice", "bob"]
    finally:
        await other.ingestor.stop()
        await other.relay.stop()
        await other_db.dispose()


async def test_concurrent_dispatchers_never_exceed_capacity(
    desk: Desk, db_url: str, tmp_path: Path
) -> None:
    """Three dispatchers on separate connections planning at once assign 4 tasks, not more."""
    await desk.agent("alice")
    await desk.agent("bob")
    for i in range(10):
        await desk.post(f"m{i}", contact=f"c{i}")
    others = [Database(db_url) for _ in range(2)]
    try:
        desks = [desk, *[await make_desk(o, tmp_path / str(i)) for i, o in enumerate(others)]]
        await asyncio.gather(*(d.dispatcher.dispatch_all() for d in desks))
        holders = [who for _, status, who, _ in await desk.tasks() if status == "assigned"]
        assert sorted(holders) == ["alice", "alice", "bob", "bob"]
        for d in desks[1:]:
            await d.ingestor.stop()
            await d.relay.stop()
    finally:
        for o in others:
            await o.dispose()


async def test_sla_breach_flagged_when_due_passes(desk: Desk) -> None:
    """The timer targets the first-response due time; once past, the task is breached."""
    await desk.post("m1", contact="c1")
    await desk.dispatcher.dispatch_all()
    assert desk.dispatcher.next_deadline == T0 + timedelta(hours=1)
    with desk.bus.subscription() as events:
        desk.clock.now = T0 + timedelta(hours=1, seconds=1)
        await desk.dispatcher.dispatch_all()
        event = await asyncio.wait_for(events.get(), 10)
    assert [b for *_, b in await desk.tasks()] == [True]
    assert event["type"] == "task_changed" and event["status"] == "waiting"
    assert desk.dispatcher.next_deadline is None  # breached tasks are not watched again


async def test_unanswered_task_goes_to_another_agent(desk: Desk) -> None:
    """No reply within the timeout: the task returns and goes to someone else, reason kept."""
    await desk.agent("alice")
    await desk.agent("bob")
    await desk.post("m1", contact="c1")
    await desk.dispatcher.dispatch_all()
    [(_, _, first, _)] = await desk.tasks()
    assert desk.dispatcher.next_deadline == T0 + timedelta(minutes=15)
    desk.clock.now = T0 + timedelta(minutes=16)
    with capture_logs() as logs:
        await desk.dispatcher.dispatch_all()
    [(_, status, second, _)] = await desk.tasks()
    assert status == "assigned" and {first, second} == {"alice", "bob"}
    assert [e["login"] for e in logs if e["event"] == "task_returned"] == [first]
    async with desk.db.read() as tx:
        explained = (await tx.execute(select(tasks.c.assignment))).scalar_one()
    assert explained["returned_from"] == first and "did not reply" in explained["reason"]


async def test_on_hold_pauses_the_sla_clock(desk: Desk) -> None:
    """Time on hold neither breaches the task nor counts: due times shift by the held time."""
    editor = TaskEditor(desk.db, desk.relay, desk.rulebook, clock=desk.clock)
    admin = Actor("api", "admin")
    await desk.post("m1", contact="c1")
    [(task_id, *_)] = await desk.tasks()
    desk.clock.now = T0 + timedelta(minutes=10)
    await editor.edit_task(task_id, TaskEdit(on_hold=True), admin)
    desk.clock.now = T0 + timedelta(hours=2)
    await desk.dispatcher.dispatch_all()
    assert [b for *_, b in await desk.tasks()] == [False]
    assert desk.dispatcher.next_deadline is None  # nothing runs while held
    await editor.edit_task(task_id, TaskEdit(on_hold=False), admin)
    await desk.dispatcher.dispatch_all()
    assert desk.dispatcher.next_deadline == T0 + timedelta(hours=2, minutes=50)
    async with desk.db.read() as tx:
        resolution = (await tx.execute(select(tasks.c.resolution_due))).scalar_one()
    assert resolution == T0 + timedelta(days=1, hours=1, minutes=50)
    desk.clock.now = T0 + timedelta(hours=3)
    await desk.dispatcher.dispatch_all()
    assert [b for *_, b in await desk.tasks()] == [True]


async def test_taking_a_task_up_stops_the_no_reply_timer(desk: Desk) -> None:
    """A task set in_progress counts as answered: it is not taken back after the timeout."""
    editor = TaskEditor(desk.db, desk.relay, desk.rulebook, clock=desk.clock)
    await desk.agent("alice")
    await desk.post("m1", contact="c1")
    await desk.dispatcher.dispatch_all()
    [(task_id, _, who, _)] = await desk.tasks()
    await editor.edit_task(task_id, TaskEdit(status="in_progress"), Actor(str(who), "agent"))
    desk.clock.now = T0 + timedelta(minutes=30)
    await desk.dispatcher.dispatch_all()
    assert await desk.tasks() == [(task_id, "in_progress", "alice", False)]


async def test_rule_assign_reserves_the_task_for_that_agent(db: Database, tmp_path: Path) -> None:
    """assign: gives the task to that agent only, waiting while they are full; others go on."""
    desk = await make_desk(db, tmp_path, DATA / "rules" / "reserved.yaml")
    try:
        await desk.agent("alice")
        await desk.agent("bob")
        await desk.post("m1", contact="c1", text="acme: order 1")
        await desk.post("m2", contact="c2", text="acme: order 2")  # alice (capacity 1) is full
        await desk.post("m3", contact="c3", text="other customer")
        await desk.dispatcher.dispatch_all()
        assert [(s, a) for _, s, a, _ in await desk.tasks()] == [
            ("assigned", "alice"),
            ("waiting", None),
            ("assigned", "bob"),
        ]
        async with db.read() as tx:
            reason = (
                await tx.execute(select(tasks.c.assignment).where(tasks.c.id == 1))
            ).scalar_one()
        assert reason["reason"].startswith("reserved for alice")
    finally:
        await desk.ingestor.stop()
        await desk.relay.stop()


async def test_timer_rounds_come_at_most_once_a_grain(desk: Desk) -> None:
    """Dense due times do not make a round each: after a timer round, the next one waits for
    the grain (1 s) even when a due time has already passed; an overdue one waits no more."""
    await desk.post("m1", contact="c1")
    await desk.post("m2", contact="c2")
    await desk.dispatcher.dispatch_all()  # the first round looks at the timers
    desk.clock.now = T0 + timedelta(hours=2)  # both first responses are overdue now
    delay = desk.dispatcher.delay()
    assert delay is not None and 0.5 < delay <= 1.0
    desk.dispatcher._timers_ran_at -= 1.0  # as if the grain had passed since
    assert desk.dispatcher.delay() == pytest.approx(0.01)


async def test_routing_inserts_the_tasks_it_can_place_assigned(desk: Desk) -> None:
    """With the dispatcher in the routing transaction, a batch's new tasks are planned in
    queue order before they are inserted: those placed are inserted assigned, with their
    explanation, and each task is announced once, in its final state."""
    await desk.agent("alice")
    routing = RoutingWorker(
        desk.db, desk.relay, desk.rulebook, clock=desk.clock, dispatcher=desk.dispatcher
    )
    for i, text in enumerate(["one", "two", "urgent three"]):  # one batch: routed together
        await desk.ingestor.ingest(inbound(f"m{i}", contact=f"c{i}", text=text))
    engine = desk.db._sync_writer or desk.db.writer.sync_engine  # where routing writes
    with desk.bus.subscription() as events:
        with statements(engine, "UPDATE TASKS") as task_updates:
            assert await routing.route_all() == 3
        changed = []
        while len(changed) < 3:
            e = await asyncio.wait_for(events.get(), 10)
            if e["type"] == "task_changed":
                changed.append((e["task_id"], e["status"], e["assignee"]))
    got = await desk.tasks()
    # alice (capacity 2) takes the urgent task, then the oldest; "two" waits
    assert [(status, who) for _, status, who, _ in got] == [
        ("assigned", "alice"),
        ("waiting", None),
        ("assigned", "alice"),
    ]
    assert sorted(changed) == [(t, s, a) for t, s, a, _ in got]  # no "waiting" before "assigned"
    assert task_updates == []
    async with desk.db.read() as tx:
        explained = (
            await tx.execute(select(tasks.c.assignment).where(tasks.c.id == got[2][0]))
        ).scalar_one()
        touched = (await tx.execute(select(agents.c.last_assigned_at))).scalar_one()
    assert explained["reason"].startswith("least_loaded in support: alice")
    assert [c["login"] for c in explained["candidates"]] == ["alice", "bob"]
    assert touched == T0


STICKY_RULES = """\
version: 1
agents: {alice: {capacity: 5}, bob: {capacity: 5}}
teams: {support: [alice, bob]}
queues: {support: {team: support, strategy: least_loaded, sticky: true}}
rules:
  - name: everything
    then: {task: {queue: support}}
"""


async def test_a_returning_contacts_new_task_goes_to_their_last_agent(
    db: Database, tmp_path: Path
) -> None:
    """In a sticky queue, a new task planned in the routing transaction goes to the agent the
    contact had last, where least_loaded alone would pick another agent."""
    rules = tmp_path / "sticky.yaml"
    rules.write_text(STICKY_RULES, encoding="utf-8")
    desk = await make_desk(db, tmp_path, rules)
    routing = RoutingWorker(
        desk.db, desk.relay, desk.rulebook, clock=desk.clock, dispatcher=desk.dispatcher
    )
    editor = TaskEditor(desk.db, desk.relay, desk.rulebook, clock=desk.clock)
    try:
        await desk.agent("alice")
        await desk.agent("bob")

        async def post(external_id: str, contact: str) -> None:
            await desk.ingestor.ingest(inbound(external_id, contact=contact))
            await routing.route_all()
            desk.clock.now += timedelta(minutes=1)

        await post("m1", "c1")  # both idle: alice, by login order
        await post("m2", "c2")  # bob, the less loaded
        await post("m3", "c3")  # loads 1 and 1: alice, assigned longer ago
        [(first, _, who1, _), (_, _, who2, _), (_, _, who3, _)] = await desk.tasks()
        assert (who1, who2, who3) == ("alice", "bob", "alice")
        await editor.edit_task(first, TaskEdit(status="done"), Actor("alice", "agent"))
        # loads 1 and 1 again, and bob was assigned longer ago: least_loaded alone picks bob
        await post("m4", "c1")  # c1 again, in the same dialog: a new task
        tasks_now = await desk.tasks()
        assert tasks_now[-1][1:3] == ("assigned", "alice")
        async with db.read() as tx:
            explained = (
                await tx.execute(select(tasks.c.assignment).where(tasks.c.id == tasks_now[-1][0]))
            ).scalar_one()
        assert explained["reason"].startswith("sticky: alice served this contact last")
    finally:
        await desk.ingestor.stop()
        await desk.relay.stop()


async def test_routing_waits_for_another_processes_round_and_still_places_its_tasks(
    pg_url: str, tmp_path: Path
) -> None:
    """While another process holds the dispatch lock, a routing batch with new tasks waits
    for it rather than leaving them to a round of their own; its plan reads the agents after
    that commits (alice went offline in it), and the task is inserted assigned to bob."""
    db = Database(pg_url)
    desk = await make_desk(db, tmp_path)
    other = Database(pg_url)
    routing = RoutingWorker(
        db, desk.relay, desk.rulebook, clock=desk.clock, dispatcher=desk.dispatcher
    )
    try:
        await desk.agent("alice")
        await desk.agent("bob")
        await desk.ingestor.ingest(inbound("m1", contact="c1"))
        engine = db.writer.sync_engine
        with statements(engine, "UPDATE TASKS") as task_updates:
            async with other.write() as round_tx:
                await round_tx.run_sync(lock_dispatch)
                await round_tx.execute(
                    update(agents).where(agents.c.login == "alice").values(status="offline")
                )
                routed = asyncio.create_task(routing.route_all())
                await until_a_session_waits_for_an_advisory_lock(other)
                assert not routed.done()
            assert await routed == 1
        assert [(status, who) for _, status, who, _ in await desk.tasks()] == [("assigned", "bob")]
        assert task_updates == []  # inserted assigned: no round assigned it afterwards
    finally:
        await desk.ingestor.stop()
        await desk.relay.stop()
        await other.dispose()
        await db.dispose()
