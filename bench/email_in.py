"""Email in: messages/s fetched, parsed and ingested from a real Dovecot mailbox, in one run.

    python bench/email_in.py [--messages 5000] [--engine sqlite|postgresql]

A Dovecot from tests/fakes/imap.py gets a folder of N messages (the test corpus, each copy
with its own Message-ID and sender, appended with IMAP APPEND). Then, on the same folder:
  fetch        UID FETCH BODY.PEEK[] of every message in chunks of 50 (the IMAP ceiling)
  fetch+parse  the same, each message parsed and normalised off the event loop
  poller       the channel's MailboxPoller from an empty cursor: fetch, parse, ingest into
               a fresh database (group commit), mark \\Seen, save the cursor, chunk by chunk
Figures are messages/s; ratios are against `fetch` from the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import shutil
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from channels.email.imap import MailboxConfig, MailboxPoller  # noqa: E402
from channels.email.imap_client import ImapAccount, ImapSession  # noqa: E402
from channels.email.mime import MessageRefused, MimeLimits  # noqa: E402
from channels.email.normalize import normalize_email  # noqa: E402
from dialogs.ingest import Ingestor  # noqa: E402
from dialogs.model import InboundMessage, IngestResult  # noqa: E402
from relaydesk.logging import configure_logging  # noqa: E402
from storage import Database  # noqa: E402
from storage.email import EmailCursorRepository  # noqa: E402
from storage.notify import EventRelay  # noqa: E402
from tests.fakes.imap import Dovecot, append, run_dovecot  # noqa: E402

FOLDER = "Bench"
CHUNK = 50
CORPUS = sorted((ROOT / "tests" / "data" / "email").glob("*.eml"))


def build_messages(n: int) -> list[bytes]:
    """N distinct messages cycling through the corpus (reports and bad mail included)."""
    sources = [p.read_bytes() for p in CORPUS]
    out = []
    for i in range(n):
        raw = sources[i % len(sources)]
        raw = re.sub(rb"(?im)^Message-ID:[^\r\n]*", f"Message-ID: <bench-{i}@b.test>".encode(), raw)
        raw = re.sub(
            rb"(?im)^From:[^\r\n]*", f"From: Customer {i % 500} <c{i % 500}@b.test>".encode(), raw
        )
        out.append(raw)
    return out


async def fill(server: Dovecot, n: int) -> None:
    messages = build_messages(n)
    batches = [messages[i::4] for i in range(4)]
    await asyncio.gather(*(append(server, FOLDER, *b) for b in batches))


def parse_all(bodies: list[bytes]) -> None:
    for raw in bodies:
        with contextlib.suppress(MessageRefused):
            normalize_email(raw)


async def fetch_all(server: Dovecot, parse: bool) -> float:
    session = ImapSession(
        ImapAccount(server.host, server.port, server.user, server.password, ssl=False)
    )
    await session.connect()
    try:
        await session.select(FOLDER)
        started = time.perf_counter()
        uids = await session.uids_after(0)
        count = 0
        for i in range(0, len(uids), CHUNK):
            bodies = await session.fetch_bodies(uids[i : i + CHUNK])
            if parse:  # one thread hop per chunk, as the poller does
                await asyncio.to_thread(parse_all, list(bodies.values()))
            count += len(bodies)
        return count / (time.perf_counter() - started)
    finally:
        await session.close()


async def poll_all(server: Dovecot, url: str, work: Path, n: int) -> tuple[float, int]:
    db = Database(url)
    await db.upgrade()
    relay = EventRelay(db, lambda _p: None)
    await relay.start()
    ingestor = Ingestor(db, relay, files_root=work / "files", reopen_window=timedelta(days=7))
    ingestor.start()
    stored: set[int] = set()

    async def ingest(message: InboundMessage) -> IngestResult:
        result = await ingestor.ingest(message)
        stored.add(result.message_id)
        return result

    async def status(_update: object) -> None:
        return None

    poller = MailboxPoller(
        MailboxConfig(
            name="bench",
            account=ImapAccount(server.host, server.port, server.user, server.password, ssl=False),
            folder=FOLDER,
            chunk=CHUNK,
            quarantine_folder=None,
        ),
        ingest=ingest,
        status_update=status,
        cursors=EmailCursorRepository(db),
        limits=MimeLimits(),
    )
    started = time.perf_counter()
    poller.start()
    await asyncio.wait_for(poller.synced.wait(), 600)
    elapsed = time.perf_counter() - started
    await poller.stop()
    await ingestor.stop()
    await relay.stop()
    await db.dispose()
    return n / elapsed, len(stored)


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    configure_logging("console", "warning")
    work = Path(tempfile.mkdtemp(prefix="relaydesk-email-bench-"))
    url = (
        f"sqlite+aiosqlite:///{work / 'bench.db'}"
        if args.engine == "sqlite"
        else await fresh_postgres()
    )
    try:
        with run_dovecot() as server:
            started = time.perf_counter()
            await fill(server, args.messages)
            print(f"appended {args.messages} messages in {time.perf_counter() - started:.1f} s")
            fetch = await fetch_all(server, parse=False)
            parse = await fetch_all(server, parse=True)
            poll, stored = await poll_all(server, url, work, args.messages)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if args.engine == "postgresql":
            await drop_postgres()
    print(f"\n{args.messages} messages from {len(CORPUS)} corpus mails, {args.engine}\n")
    print(f"{'target':<14} {'msgs/s':>8} {'vs fetch':>9}")
    for label, rate in (("fetch", fetch), ("fetch+parse", parse), ("poller", poll)):
        print(f"{label:<14} {rate:>8.0f} {rate / fetch:>8.0%}")
    print(f"\nstored: {stored} messages (reports and refused mail are not messages)")


PG_ADMIN = os.environ.get("RELAYDESK_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
PG_BENCH_DB = "relaydesk_email_bench"


async def fresh_postgres() -> str:
    await drop_postgres()
    conn = await asyncpg.connect(PG_ADMIN)
    try:
        await conn.execute(f'CREATE DATABASE "{PG_BENCH_DB}"')
    finally:
        await conn.close()
    base = PG_ADMIN.rpartition("/")[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return f"{base}/{PG_BENCH_DB}"


async def drop_postgres() -> None:
    conn = await asyncpg.connect(PG_ADMIN)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{PG_BENCH_DB}" WITH (FORCE)')
    finally:
        await conn.close()


if __name__ == "__main__":
    asyncio.run(main())
