"""The IMAP poller against a real Dovecot: nothing lost or doubled across a restart mid-fetch,
a dropped connection and a UIDVALIDITY change; hostile mail quarantined, the mailbox going on."""

from __future__ import annotations

import asyncio
import time

from structlog.testing import capture_logs

from dialogs.model import InboundMessage, IngestResult
from tests.channels.email.conftest import Pipeline, customer_mail
from tests.channels.email.test_hostile import many_parts, nested
from tests.fakes.imap import Dovecot, append, folder_uids, recreate_folder
from tests.fakes.tcp_proxy import tcp_proxy


def ids(folder: str, count: int, start: int = 0) -> list[str]:
    return [f"m{folder}-{i}@customer.test" for i in range(start, start + count)]


def mails(folder: str, count: int, start: int = 0) -> list[bytes]:
    return [customer_mail(f"{folder}-{i}") for i in range(start, start + count)]


async def test_restart_mid_fetch_loses_and_doubles_nothing(
    pipe: Pipeline, dovecot: Dovecot, folder: str
) -> None:
    """The poller dies in the middle of a chunk; the next one finishes without doubles."""
    await append(dovecot, folder, *mails(folder, 50))
    crashed = asyncio.Event()

    async def ingest_until_crash(message: InboundMessage) -> IngestResult:
        result = await pipe.ingest(message)
        if len(pipe.results) >= 30:
            crashed.set()
        return result

    first = pipe.poller(dovecot, folder, ingest=ingest_until_crash)
    first.start()
    await asyncio.wait_for(crashed.wait(), 30)
    await first.stop()
    assert 0 < len(await pipe.stored()) < 50

    second = pipe.poller(dovecot, folder)
    second.start()
    try:
        await asyncio.wait_for(second.synced.wait(), 30)
    finally:
        await second.stop()
    stored = await pipe.stored()
    assert sorted(stored) == sorted(ids(folder, 50))  # each once
    assert await folder_uids(dovecot, folder, "UNSEEN") == []  # all marked after commit


async def test_dropped_connection_loses_and_doubles_nothing(
    pipe: Pipeline, dovecot: Dovecot, folder: str
) -> None:
    """The network drops mid-fetch and again during IDLE; the poller reconnects and goes on."""
    await append(dovecot, folder, *mails(folder, 30))
    async with tcp_proxy(dovecot.host, dovecot.port) as proxy:
        dropped = False

        async def ingest_and_drop(message: InboundMessage) -> IngestResult:
            nonlocal dropped
            result = await pipe.ingest(message)
            if len(pipe.results) == 10 and not dropped:
                dropped = True
                proxy.drop_all()
            return result

        poller = pipe.poller(dovecot, folder, port=proxy.port, ingest=ingest_and_drop)
        poller.start()
        try:
            await pipe.wait_ingested(30)
            await proxy.wait_connections(2)
            await asyncio.wait_for(poller.synced.wait(), 30)
            poller.synced.clear()
            proxy.drop_all()  # now in IDLE
            await append(dovecot, folder, *mails(folder, 5, start=30))
            await pipe.wait_ingested(35)
            await proxy.wait_connections(3)
        finally:
            await poller.stop()
    assert dropped
    assert sorted(await pipe.stored()) == sorted(ids(folder, 35))


async def test_uidvalidity_change_rescans_without_doubles(
    pipe: Pipeline, dovecot: Dovecot, folder: str
) -> None:
    """The folder is rebuilt (new UIDVALIDITY, same mail plus new): only the new mail is added."""
    await append(dovecot, folder, *mails(folder, 8))
    poller = pipe.poller(dovecot, folder)
    poller.start()
    await pipe.wait_ingested(8)
    await asyncio.wait_for(poller.synced.wait(), 30)
    await poller.stop()
    before = await pipe.cursors.load_cursor(f"test:{folder}")
    assert before is not None and before["last_uid"] == 8

    await recreate_folder(dovecot, folder)
    await append(dovecot, folder, *mails(folder, 10))  # the same 8, then 2 new
    again = pipe.poller(dovecot, folder)
    again.start()
    try:
        await pipe.wait_ingested(10)
        await asyncio.wait_for(again.synced.wait(), 30)
    finally:
        await again.stop()
    after = await pipe.cursors.load_cursor(f"test:{folder}")
    assert after is not None and after["uidvalidity"] != before["uidvalidity"]
    assert sorted(await pipe.stored()) == sorted(ids(folder, 10))


async def test_hostile_mail_is_quarantined_and_the_mailbox_goes_on(
    pipe: Pipeline, dovecot: Dovecot, folder: str
) -> None:
    """A 1,000-level MIME bomb and a 100,000-part mail are moved aside with their reasons;
    the mail around them is ingested, in bounded time."""
    await append(
        dovecot,
        folder,
        customer_mail(f"{folder}-0"),
        nested(1000),
        many_parts(100_000),
        customer_mail(f"{folder}-1"),
    )
    started = time.perf_counter()
    poller = pipe.poller(dovecot, folder, quarantine_folder=f"{folder}-Quarantine")
    poller.start()
    try:
        await asyncio.wait_for(poller.synced.wait(), 30)
    finally:
        await poller.stop()
    assert time.perf_counter() - started < 10
    assert sorted(await pipe.stored()) == sorted(ids(folder, 2))
    assert len(await folder_uids(dovecot, f"{folder}-Quarantine")) == 2
    assert len(await folder_uids(dovecot, folder)) == 2  # the two good ones stay, seen
    cursor = await pipe.cursors.load_cursor(f"test:{folder}")
    assert cursor is not None
    reasons = sorted(q["reason"] for q in cursor["quarantined"])
    assert "nested multiparts" in reasons[0] and "MIME boundary lines" in reasons[1]


async def test_processed_mail_can_be_moved_instead_of_marked(
    pipe: Pipeline, dovecot: Dovecot, folder: str
) -> None:
    """With move_to, processed mail leaves the folder for the named one after commit."""
    await append(dovecot, folder, *mails(folder, 3))
    poller = pipe.poller(dovecot, folder, move_to=f"{folder}-Done")
    poller.start()
    try:
        await asyncio.wait_for(poller.synced.wait(), 30)
    finally:
        await poller.stop()
    assert sorted(await pipe.stored()) == sorted(ids(folder, 3))
    assert await folder_uids(dovecot, folder) == []
    assert len(await folder_uids(dovecot, f"{folder}-Done")) == 3


async def test_idle_is_renewed_and_mail_still_arrives(
    pipe: Pipeline, dovecot: Dovecot, folder: str
) -> None:
    """IDLE ends with DONE at the renewal interval and starts again; new mail still wakes it."""
    await append(dovecot, folder, *mails(folder, 1))
    poller = pipe.poller(dovecot, folder, idle_renew=0.2)
    with capture_logs() as logs:
        poller.start()
        try:
            await pipe.wait_ingested(1)
            await asyncio.wait_for(poller.synced.wait(), 30)
            async with asyncio.timeout(10):
                while sum(e["event"] == "imap_idle_renewed" for e in logs) < 3:
                    poller.synced.clear()
                    await poller.synced.wait()  # each renewal is followed by a sync
            await append(dovecot, folder, *mails(folder, 1, start=1))
            await pipe.wait_ingested(2)
        finally:
            await poller.stop()
    assert sorted(await pipe.stored()) == sorted(ids(folder, 2))


async def test_polling_fallback_without_idle(pipe: Pipeline, dovecot: Dovecot, folder: str) -> None:
    """With IDLE off the poller polls and still sees new mail."""
    await append(dovecot, folder)  # an empty folder
    poller = pipe.poller(dovecot, folder, idle=False, poll_interval=0.1)
    poller.start()
    try:
        await asyncio.wait_for(poller.synced.wait(), 30)
        await append(dovecot, folder, *mails(folder, 2))
        await pipe.wait_ingested(2)
    finally:
        await poller.stop()
    assert sorted(await pipe.stored()) == sorted(ids(folder, 2))


async def test_mail_is_marked_seen_only_after_commit(
    pipe: Pipeline, dovecot: Dovecot, folder: str
) -> None:
    """While the ingest has not returned, the fetched mail is still unseen on the server."""
    await append(dovecot, folder, *mails(folder, 1))
    entered, release = asyncio.Event(), asyncio.Event()

    async def slow_ingest(message: InboundMessage) -> IngestResult:
        entered.set()
        await release.wait()
        return await pipe.ingest(message)

    poller = pipe.poller(dovecot, folder, ingest=slow_ingest)
    poller.start()
    try:
        await asyncio.wait_for(entered.wait(), 30)
        assert len(await folder_uids(dovecot, folder, "UNSEEN")) == 1
        release.set()
        await asyncio.wait_for(poller.synced.wait(), 30)
    finally:
        await poller.stop()
    assert await folder_uids(dovecot, folder, "UNSEEN") == []
    assert await pipe.stored() == ids(folder, 1)
