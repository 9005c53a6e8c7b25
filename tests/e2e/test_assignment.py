"""Two `relaydesk serve` processes on one PostgreSQL assign tasks without passing any capacity."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select

from storage import Database
from storage import agents as agent_repo
from storage.tables import tasks
from tests.builders import api_message
from tests.conftest import AUTH, DATA
from tests.e2e.server import running, wait_for_events

pytestmark = pytest.mark.slow

FIVE_AGENTS = DATA / "rules" / "five_agents.yaml"


async def test_two_hundred_messages_five_agents_two_processes(pg_url: str, tmp_path: Path) -> None:
    """200 messages over two processes, 5 agents of capacity 3: 15 assigned, 185 waiting."""
    async with (
        running(pg_url, tmp_path / "a", rules=FIVE_AGENTS) as a,
        running(pg_url, tmp_path / "b", rules=FIVE_AGENTS) as b,
        aiohttp.ClientSession() as session,
    ):
        db = Database(pg_url)
        try:
            async with db.write() as tx:
                now = (await tx.execute(select(func.now()))).scalar_one()
                for i in range(1, 6):
                    await agent_repo.create_agent(
                        tx,
                        login=f"a{i}",
                        name="",
                        role="agent",
                        password_hash=None,
                        token_hash=None,
                        now=now,
                    )
            for i in range(1, 6):
                async with session.put(
                    f"{(a, b)[i % 2].url}/api/v1/agents/a{i}/status",
                    json={"status": "online"},
                    headers=AUTH,
                ) as r:
                    assert r.status == 200
            gate = asyncio.Semaphore(40)

            async def post(i: int) -> int:
                async with (
                    gate,
                    session.post(
                        f"{(a, b)[i % 2].url}/api/v1/messages",
                        json=api_message(f"m-{i}", contact=f"c-{i}"),
                        headers=AUTH,
                    ) as r,
                ):
                    return r.status

            assert set(await asyncio.gather(*(post(i) for i in range(200)))) == {201}

            async def counts() -> dict[str, int]:
                async with db.read() as tx:
                    rows = await tx.execute(
                        select(tasks.c.status, func.count()).group_by(tasks.c.status)
                    )
                    return {status: n for status, n in rows}

            async def settled() -> bool:
                got = await counts()
                return sum(got.values()) == 200 and got.get("assigned", 0) >= 15

            await wait_for_events(session, a.url, settled)
            assert await counts() == {"assigned": 15, "waiting": 185}
            async with db.read() as tx:
                per_agent = dict(
                    (
                        await tx.execute(
                            select(tasks.c.assignee, func.count())
                            .where(tasks.c.status == "assigned")
                            .group_by(tasks.c.assignee)
                        )
                    ).all()
                )
            assert per_agent == {f"a{i}": 3 for i in range(1, 6)}
        finally:
            await db.dispose()
