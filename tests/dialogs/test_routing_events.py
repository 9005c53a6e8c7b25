"""What routing tells the live stream: each new task, and the dialogs whose tags or priority
the rules changed."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.builders import inbound
from tests.dialogs.desk import Desk


async def routing_events(desk: Desk, tasks: int) -> list[dict[str, Any]]:
    """The events of one routing batch making `tasks` tasks (one payload, delivered whole)."""
    with desk.bus.subscription() as queue:
        await desk.routing.route_all()
        events = [await asyncio.wait_for(queue.get(), 10)]
        while sum(e["type"] == "task_changed" for e in events) < tasks:
            events.append(await asyncio.wait_for(queue.get(), 10))
        while not queue.empty():
            events.append(queue.get_nowait())
    return events


async def test_a_dialog_is_announced_as_updated_only_when_the_rules_changed_it(
    desk: Desk,
) -> None:
    urgent = await desk.ingestor.ingest(inbound("m1", contact="c1", text="urgent: help"))
    plain = await desk.ingestor.ingest(inbound("m2", contact="c2", text="hello"))

    events = await routing_events(desk, tasks=2)

    assert sorted(e["dialog_id"] for e in events if e["type"] == "task_changed") == sorted(
        [urgent.dialog_id, plain.dialog_id]
    )
    # "urgent" raised the first dialog's priority; the second kept its own. (On PostgreSQL
    # the ingest's events for the new dialogs, created: true, may still be arriving.)
    updated = [e for e in events if e["type"] == "dialog_updated" and not e["created"]]
    assert [e["dialog_id"] for e in updated] == [urgent.dialog_id]
