"""Ingestor: durable before answered, once under concurrency, events after commit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from structlog.testing import capture_logs

from dialogs.events import EventBus, decode_events
from dialogs.ingest import Ingestor
from dialogs.model import InboundAttachment
from storage import Database
from storage.files import load_blob
from storage.notify import EventRelay
from storage.tables import attachments, messages
from tests.builders import inbound


@pytest.fixture
async def pipeline(db: Database, tmp_path: Path) -> AsyncIterator[tuple[Ingestor, EventBus]]:
    bus = EventBus()
    relay = EventRelay(db, lambda payload: bus.deliver(decode_events(payload)))
    await relay.start()
    ingestor = Ingestor(db, relay, files_root=tmp_path / "files", reopen_window=timedelta(days=1))
    ingestor.start()
    yield ingestor, bus
    await ingestor.stop()
    await relay.stop()


async def test_answer_comes_after_commit(db: Database, pipeline: tuple[Ingestor, EventBus]) -> None:
    """When ingest returns, a fresh connection already sees the message."""
    ingestor, _ = pipeline
    result = await ingestor.ingest(inbound("m1", text="Где мой заказ?"))
    async with db.read() as tx:
        text = (
            await tx.execute(select(messages.c.text).where(messages.c.id == result.message_id))
        ).scalar_one()
    assert text == "Где мой заказ?"


async def test_twenty_concurrent_redeliveries_store_once(
    db: Database, pipeline: tuple[Ingestor, EventBus]
) -> None:
    """The same external id from 20 concurrent callers is one message; all get its id."""
    ingestor, _ = pipeline
    results = await asyncio.gather(*(ingestor.ingest(inbound("same")) for _ in range(20)))
    assert len({r.message_id for r in results}) == 1
    assert sum(not r.duplicate for r in results) == 1
    async with db.read() as tx:
        assert (await tx.execute(select(func.count()).select_from(messages))).scalar_one() == 1


async def test_events_published_for_new_messages_only(
    pipeline: tuple[Ingestor, EventBus],
) -> None:
    """A new message yields message_received and dialog_updated; a redelivery yields nothing."""
    ingestor, bus = pipeline
    with bus.subscription() as queue:
        first = await ingestor.ingest(inbound("m1"))
        await ingestor.ingest(inbound("m1"))
        events = [await asyncio.wait_for(queue.get(), 5) for _ in range(2)]
        await ingestor.ingest(inbound("m2"))
        later = await asyncio.wait_for(queue.get(), 5)
    assert events[0] == {
        "type": "message_received",
        "message_id": first.message_id,
        "dialog_id": first.dialog_id,
        "direction": "in",
    }
    assert events[1] == {"type": "dialog_updated", "dialog_id": first.dialog_id, "created": True}
    assert later["type"] == "message_received" and later["message_id"] != first.message_id


async def test_attachments_are_stored_by_content(
    db: Database, pipeline: tuple[Ingestor, EventBus], tmp_path: Path
) -> None:
    """Attachment bytes land on disk under their sha256 and the row records name, type, size."""
    ingestor, _ = pipeline
    data = "счёт №5".encode() * 100
    await ingestor.ingest(
        inbound("m1", attachments=(InboundAttachment("счёт.pdf", "application/pdf", data),))
    )
    async with db.read() as tx:
        row = (await tx.execute(select(attachments))).one()
    assert (row.filename, row.content_type, row.size) == ("счёт.pdf", "application/pdf", len(data))
    assert load_blob(tmp_path / "files", row.sha256) == data


async def test_logs_carry_ids(pipeline: tuple[Ingestor, EventBus]) -> None:
    """message_ingested is logged with the provider's, the message's and the dialog's ids,
    without the body."""
    ingestor, _ = pipeline
    with capture_logs() as logs:
        result = await ingestor.ingest(inbound("m1", text="secret body"))
        await ingestor.ingest(inbound("m1", text="secret body"))
    ingested = [e for e in logs if e["event"] == "message_ingested"]
    assert ingested == [
        {
            "event": "message_ingested",
            "log_level": "info",
            "channel": "api",
            "external_id": "m1",
            "message_id": result.message_id,
            "dialog_id": result.dialog_id,
        }
    ]
    assert [e["event"] for e in logs].count("message_duplicate") == 1
    assert all("secret body" not in str(e) for e in logs)
