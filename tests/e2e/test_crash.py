"""kill -9 in the middle of a burst loses nothing that was acknowledged and doubles nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import exists, func, select

from storage import Database
from storage.tables import dialogs, messages, tasks
from tests.builders import api_message
from tests.conftest import AUTH
from tests.e2e.server import ServerProcess, running, wait_for_events

BURST = 1000
KILL_AFTER = 300


async def stored_counts(db: Database) -> dict[str, int]:
    async with db.read() as tx:
        rows = await tx.execute(
            select(messages.c.external_id, func.count()).group_by(messages.c.external_id)
        )
        return dict(rows.all())


async def unfinished(db: Database) -> int:
    """Messages not yet routed plus dialogs without a task."""
    async with db.read() as tx:
        unrouted = (
            await tx.execute(
                select(func.count()).select_from(messages).where(messages.c.routed_at.is_(None))
            )
        ).scalar_one()
        taskless = (
            await tx.execute(
                select(func.count())
                .select_from(dialogs)
                .where(~exists().where(tasks.c.dialog_id == dialogs.c.id))
            )
        ).scalar_one()
    return int(unrouted) + int(taskless)


@pytest.mark.slow
async def test_kill_9_mid_burst(db_url: str, tmp_path: Path) -> None:
    """After kill -9 and restart: acknowledged = stored once, re-posting adds none, all routed."""
    url = db_url
    burst = [
        api_message(f"burst-{i}", contact=f"c-{i % 97}", text=f"message {i}") for i in range(BURST)
    ]
    acked: set[str] = set()
    server = ServerProcess(url, tmp_path)
    await server.start()
    async with aiohttp.ClientSession() as session:
        gate = asyncio.Semaphore(20)

        async def post(body: dict[str, object]) -> None:
            async with gate:
                try:
                    async with session.post(
                        f"{server.url}/api/v1/messages", json=body, headers=AUTH
                    ) as r:
                        if r.status in (200, 201):
                            acked.add(str(body["external_id"]))
                            if len(acked) == KILL_AFTER:
                                server.kill()
                except aiohttp.ClientError:
                    pass  # the server is gone: this one was never acknowledged

        await asyncio.gather(*(post(b) for b in burst))
        assert await server.proc.wait() == -9  # type: ignore[union-attr]
        assert KILL_AFTER <= len(acked) < BURST

        db = Database(url)
        try:
            stored = await stored_counts(db)
            assert acked <= set(stored), "an acknowledged message was lost"
            assert set(stored.values()) == {1}

            async with running(url, tmp_path) as again:
                statuses = []
                for chunk in range(0, BURST, 100):
                    responses = await asyncio.gather(
                        *(
                            session.post(f"{again.url}/api/v1/messages", json=b, headers=AUTH)
                            for b in burst[chunk : chunk + 100]
                        )
                    )
                    statuses += [r.status for r in responses]
                    for r in responses:
                        r.release()
                assert statuses.count(200) == len(stored)  # the stored ones come back as duplicates
                assert statuses.count(201) == BURST - len(stored)
                final = await stored_counts(db)
                assert len(final) == BURST and set(final.values()) == {1}

                async def all_routed() -> bool:
                    return await unfinished(db) == 0

                await wait_for_events(session, again.url, all_routed)
        finally:
            await db.dispose()
