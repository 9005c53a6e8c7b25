"""A `relaydesk serve` process killed with kill -9 in the middle of fetching a mailbox: the
poller that takes over finishes it, and every mail is stored exactly once and marked seen."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest

from tests.channels.email.conftest import Pipeline, customer_mail
from tests.e2e.server import ServerProcess, wait_for_events
from tests.fakes.imap import Dovecot, append, folder_uids

pytestmark = pytest.mark.slow
MAILS = 300


async def test_kill_9_mid_fetch_loses_and_doubles_nothing(
    db_url: str, tmp_path: Path, pipe: Pipeline, dovecot: Dovecot, folder: str
) -> None:
    """Killed after some chunks are committed; the next poller on the same database and
    cursor stores the rest: all 300 once, all seen on the server."""
    await append(dovecot, folder, *(customer_mail(f"{folder}-{i}") for i in range(MAILS)))
    env = {
        "IMAP_HOST": dovecot.host,
        "IMAP_PORT": str(dovecot.port),
        "IMAP_USER": dovecot.user,
        "IMAP_PASSWORD": dovecot.password,
        "IMAP_SSL": "false",
        "IMAP_FOLDER": folder,
        "IMAP_NAME": "support",
        "RELAYDESK_WORKERS": "ingest",
    }

    async def at_least(n: int) -> bool:
        return len(await pipe.stored()) >= n

    server = ServerProcess(db_url, tmp_path / "run", env=env)
    await server.start()
    try:
        async with aiohttp.ClientSession() as http:
            await wait_for_events(http, server.url, lambda: at_least(50))
    finally:
        server.kill()
        assert server.proc is not None
        await server.proc.wait()
    assert 50 <= len(await pipe.stored()) < MAILS

    poller = pipe.poller(dovecot, folder, name="support", chunk=50)
    poller.start()
    try:
        await asyncio.wait_for(poller.synced.wait(), 60)
    finally:
        await poller.stop()
    stored = await pipe.stored()
    assert sorted(stored) == sorted(f"m{folder}-{i}@customer.test" for i in range(MAILS))
    assert await folder_uids(dovecot, folder, "UNSEEN") == []
