"""Cross-process events on PostgreSQL: every process hears every payload; only what another
process wrote reaches `on_remote`, with whether that process runs the workers."""

from __future__ import annotations

import asyncio
import contextlib

from storage import Database
from storage.notify import EventRelay


async def test_remote_payloads_name_their_kind_of_sender(pg_url: str) -> None:
    db = Database(pg_url)
    heard: dict[str, list[str]] = {"worker": [], "ingest": []}
    remote: dict[str, list[tuple[str, bool]]] = {"worker": [], "ingest": []}
    all_heard = asyncio.Event()

    def hear(name: str, payload: str) -> None:
        heard[name].append(payload)
        if sum(map(len, heard.values())) == 4:  # on_remote follows in this callback
            all_heard.set()

    relays = {
        name: EventRelay(
            db,
            lambda payload, name=name: hear(name, payload),
            on_remote=lambda payload, works, name=name: remote[name].append((payload, works)),
            runs_workers=name == "worker",
        )
        for name in heard
    }
    for relay in relays.values():
        await relay.start()
    try:
        for name, relay in relays.items():
            async with db.write() as tx:
                await relay.stage(tx, [f'[{{"type": "from_{name}"}}]'])
        async with asyncio.timeout(10):
            await all_heard.wait()
    finally:
        for relay in relays.values():
            await relay.stop()
        await db.dispose()
    both = ['[{"type": "from_worker"}]', '[{"type": "from_ingest"}]']
    assert heard == {"worker": both, "ingest": both}  # the sender's own process hears it too
    assert remote == {
        "worker": [('[{"type": "from_ingest"}]', False)],
        "ingest": [('[{"type": "from_worker"}]', True)],
    }


async def test_a_transactions_payloads_arrive_once_each_in_order(pg_url: str) -> None:
    """The payloads one transaction stages (one statement for all of them) arrive after the
    commit, each once and in the order staged; a rolled-back transaction's never do."""
    db = Database(pg_url)
    heard: list[str] = []
    done = asyncio.Event()

    def hear(payload: str) -> None:
        heard.append(payload)
        if payload == '[{"n": "last"}]':
            done.set()

    relay = EventRelay(db, hear)
    await relay.start()
    sent = [f'[{{"n": {i}}}]' for i in range(120)]
    try:
        with contextlib.suppress(RuntimeError):
            async with db.write() as tx:
                await relay.stage(tx, ['[{"n": "rolled back"}]'])
                raise RuntimeError("roll back")
        async with db.write() as tx:
            await relay.stage(tx, sent)
        await db.run_write(relay.stage_sync, ['[{"n": "last"}]'])
        async with asyncio.timeout(10):
            await done.wait()
    finally:
        await relay.stop()
        await db.dispose()
    assert heard == [*sent, '[{"n": "last"}]']
