"""Email fixtures: one real Dovecot for the session (each test gets its own folder), a real
SMTP server, and an ingestion pipeline on the test's database."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from channels.base import Ingest, StatusUpdate
from channels.email.imap import MailboxConfig, MailboxPoller
from channels.email.imap_client import ImapAccount
from channels.email.mime import MimeLimits
from dialogs.ingest import Ingestor, utcnow
from dialogs.model import InboundMessage, IngestResult
from storage import Database
from storage.email import EmailCursorRepository
from storage.notify import EventRelay
from storage.tables import messages
from tests.fakes.imap import Dovecot, run_dovecot
from tests.fakes.smtp import SmtpFake, run_smtp

_folders = itertools.count(1)


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    with run_dovecot() as server:
        yield server


@pytest.fixture
def folder() -> str:
    return f"T{next(_folders)}"


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpFake]:
    with run_smtp() as server:
        yield server


def customer_mail(
    n: int | str,
    *,
    sender: str = "Anna <anna@customer.test>",
    subject: str = "Printer",
    body: str = "It is broken.",
    headers: str = "",
) -> bytes:
    date = format_datetime(utcnow())
    return (
        f"From: {sender}\r\nTo: support@relaydesk.test\r\nSubject: {subject}\r\n"
        f"Date: {date}\r\nMessage-ID: <m{n}@customer.test>\r\n{headers}"
        f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body} #{n}\r\n"
    ).encode()


@dataclass
class Pipeline:
    """Ingestion on the test's database, with what the poller handed it recorded."""

    db: Database
    ingestor: Ingestor
    cursors: EmailCursorRepository
    results: list[IngestResult]
    statuses: list[StatusUpdate]
    changed: asyncio.Condition

    async def ingest(self, message: InboundMessage) -> IngestResult:
        result = await self.ingestor.ingest(message)
        async with self.changed:
            self.results.append(result)
            self.changed.notify_all()
        return result

    async def wait_ingested(self, distinct: int, within: float = 30) -> None:
        """Return once `distinct` different messages have been stored through the poller."""
        async with asyncio.timeout(within), self.changed:
            await self.changed.wait_for(
                lambda: len({r.message_id for r in self.results}) >= distinct
            )

    async def status_update(self, update: StatusUpdate) -> None:
        self.statuses.append(update)

    def poller(
        self,
        server: Dovecot,
        folder: str,
        *,
        port: int | None = None,
        ingest: Ingest | None = None,
        name: str | None = None,
        tls_ca_file: str | None = None,
        **kw: Any,
    ) -> MailboxPoller:
        """A poller of `folder`; over TLS (trusting `tls_ca_file`) when that is given."""
        account = ImapAccount(
            server.host,
            port or server.port,
            server.user,
            server.password,
            ssl=tls_ca_file is not None,
            timeout=5,
            ca_file=tls_ca_file,
        )
        config = MailboxConfig(
            name=name or f"test:{folder}",
            account=account,
            folder=folder,
            **{"idle_renew": 60.0, "poll_interval": 0.2, "chunk": 20, **kw},
        )
        return MailboxPoller(
            config,
            ingest=ingest or self.ingest,
            status_update=self.status_update,
            cursors=self.cursors,
            limits=MimeLimits(),
        )

    async def stored(self) -> list[str]:
        """External ids of the stored inbound messages (a list: doubles would show)."""
        async with self.db.read() as tx:
            rows = await tx.execute(
                select(messages.c.external_id)
                .where(messages.c.direction == "in")
                .order_by(messages.c.id)
            )
            return [str(r.external_id) for r in rows]

    async def count(self) -> int:
        async with self.db.read() as tx:
            return int((await tx.execute(select(func.count()).select_from(messages))).scalar_one())


@asynccontextmanager
async def pipeline(db_url: str, files: Path) -> AsyncIterator[Pipeline]:
    db = Database(db_url)
    relay = EventRelay(db, lambda _payload: None)
    await relay.start()
    ingestor = Ingestor(db, relay, files_root=files, reopen_window=timedelta(days=7))
    ingestor.start()
    try:
        yield Pipeline(db, ingestor, EmailCursorRepository(db), [], [], asyncio.Condition())
    finally:
        await ingestor.stop()
        await relay.stop()
        await db.dispose()


@pytest.fixture
async def pipe(db_url: str, tmp_path: Path) -> AsyncIterator[Pipeline]:
    async with pipeline(db_url, tmp_path / "files") as p:
        yield p
