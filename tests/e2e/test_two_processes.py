"""Two `relaydesk serve` processes on one PostgreSQL share the work and do nothing twice."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select

from storage import Database
from storage.tables import decisions, messages, tasks
from tests.builders import api_message
from tests.conftest import AUTH
from tests.e2e.server import running, wait_for_events

pytestmark = pytest.mark.slow


async def test_same_external_id_to_two_processes_is_stored_once(
    pg_url: str, tmp_path: Path
) -> None:
    """20 clients post one message id to two processes at once: one message, one task."""
    async with (
        running(pg_url, tmp_path / "a") as a,
        running(pg_url, tmp_path / "b") as b,
        aiohttp.ClientSession() as session,
    ):
        body = api_message("twin", text="double trouble")
        responses = await asyncio.gather(
            *(
                session.post(f"{(a, b)[i % 2].url}/api/v1/messages", json=body, headers=AUTH)
                for i in range(20)
            )
        )
        payloads = [await r.json() for r in responses]
        assert sorted(r.status for r in responses) == [200] * 19 + [201]
        assert len({p["id"] for p in payloads}) == 1

        db = Database(pg_url)
        try:

            async def routed() -> bool:
                async with db.read() as tx:
                    return (
                        await tx.execute(select(func.count()).select_from(decisions))
                    ).scalar_one() >= 1

            await wait_for_events(session, a.url, routed)
            async with db.read() as tx:
                assert (
                    await tx.execute(select(func.count()).select_from(messages))
                ).scalar_one() == 1
                assert (await tx.execute(select(func.count()).select_from(tasks))).scalar_one() == 1
                assert (
                    await tx.execute(select(func.count()).select_from(decisions))
                ).scalar_one() == 1
        finally:
            await db.dispose()


async def test_burst_split_over_two_processes_routes_each_message_once(
    pg_url: str, tmp_path: Path
) -> None:
    """400 messages, 40 contacts, two processes: one decision per message, one task per dialog."""
    async with (
        running(pg_url, tmp_path / "a") as a,
        running(pg_url, tmp_path / "b") as b,
        aiohttp.ClientSession() as session,
    ):
        gate = asyncio.Semaphore(40)

        async def post(i: int) -> int:
            async with (
                gate,
                session.post(
                    f"{(a, b)[i % 2].url}/api/v1/messages",
                    json=api_message(f"m-{i}", contact=f"c-{i % 40}"),
                    headers=AUTH,
                ) as r,
            ):
                return r.status

        assert set(await asyncio.gather(*(post(i) for i in range(400)))) == {201}
        db = Database(pg_url)
        try:

            async def all_decided() -> bool:
                async with db.read() as tx:
                    return (
                        await tx.execute(select(func.count()).select_from(decisions))
                    ).scalar_one() == 400

            await wait_for_events(session, b.url, all_decided)
            async with db.read() as tx:
                per_message = (
                    await tx.execute(
                        select(decisions.c.message_id, func.count()).group_by(
                            decisions.c.message_id
                        )
                    )
                ).all()
                task_rows = (await tx.execute(select(tasks.c.dialog_id, tasks.c.queue))).all()
            assert len(per_message) == 400 and {n for _, n in per_message} == {1}
            assert len(task_rows) == 40 and len(set(task_rows)) == 40
        finally:
            await db.dispose()


async def test_events_fan_out_across_processes(pg_url: str, tmp_path: Path) -> None:
    """A message posted to process A shows up on process B's live event stream."""
    async with (
        running(pg_url, tmp_path / "a") as a,
        running(pg_url, tmp_path / "b") as b,
        aiohttp.ClientSession() as session,
        session.get(f"{b.url}/api/v1/events", headers=AUTH) as stream,
    ):
        assert (await stream.content.readline()).startswith(b": connected")
        async with session.post(
            f"{a.url}/api/v1/messages", json=api_message("fan"), headers=AUTH
        ) as r:
            posted = await r.json()

        async def next_message_event() -> str:
            while True:
                line = (await stream.content.readline()).decode()
                if line.startswith("data:") and '"message_received"' in line:
                    return line

        line = await asyncio.wait_for(next_message_event(), 30)
        assert f'"message_id":{posted["id"]}' in line


async def test_ingest_only_process_leaves_routing_to_another(pg_url: str, tmp_path: Path) -> None:
    """A RELAYDESK_WORKERS=ingest process stores messages; a full process routes them."""
    async with (
        running(pg_url, tmp_path / "ingest", env={"RELAYDESK_WORKERS": "ingest"}) as front,
        aiohttp.ClientSession() as session,
    ):
        async with session.post(
            f"{front.url}/api/v1/messages", json=api_message("solo"), headers=AUTH
        ) as r:
            assert r.status == 201
        db = Database(pg_url)
        try:
            async with db.read() as tx:
                assert (
                    await tx.execute(select(func.count()).select_from(decisions))
                ).scalar_one() == 0
            async with running(pg_url, tmp_path / "router") as back:

                async def routed() -> bool:
                    async with db.read() as tx:
                        return (
                            await tx.execute(select(func.count()).select_from(tasks))
                        ).scalar_one() == 1

                await wait_for_events(session, back.url, routed)
        finally:
            await db.dispose()
