"""Auto-replies: queued once per dialog, only where a channel can send, never to machines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from dialogs.ingest import Ingestor
from dialogs.model import ChannelKind
from dialogs.routing import RoutingWorker
from dialogs.rulebook import Rulebook
from storage import Database
from storage.notify import EventRelay
from storage.tables import decisions, messages, outbox, tasks
from tests.builders import inbound
from tests.conftest import DATA

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


async def route(db: Database, tmp_path: Path, *msgs, outbound=frozenset({"widget"})):  # type: ignore[no-untyped-def]
    relay = EventRelay(db, lambda payload: None)
    ingestor = Ingestor(
        db, relay, files_root=tmp_path, reopen_window=timedelta(days=1), clock=lambda: NOW
    )
    ingestor.start()
    woken = []
    worker = RoutingWorker(
        db,
        relay,
        Rulebook.from_file(DATA / "rules" / "auto_reply.yaml"),
        clock=lambda: NOW,
        outbound_channels=outbound,
        on_outbound=lambda: woken.append(1),
    )
    try:
        for m in msgs:
            await ingestor.ingest(m)
            await worker.route_all()
    finally:
        await ingestor.stop()
    return woken


async def test_one_auto_reply_per_dialog(db: Database, tmp_path: Path) -> None:
    """Three messages in one dialog queue one auto-reply with its outbox row; the sender is woken."""
    woken = await route(
        db, tmp_path, *(inbound(f"w{i}", channel=ChannelKind.WIDGET, name="Ann") for i in range(3))
    )
    async with db.read() as tx:
        out = (await tx.execute(select(messages).where(messages.c.direction == "out"))).all()
        queued = (await tx.execute(select(outbox.c.message_id, outbox.c.status))).all()
        first_response = (await tx.execute(select(tasks.c.first_response_at))).scalar_one()
        statuses = [
            b["auto_reply_status"]
            for (b,) in await tx.execute(select(decisions.c.body).order_by(decisions.c.id))
        ]
    assert [(m.text, m.status, m.author, m.automated) for m in out] == [
        ("Thanks Ann, we got your message.", "queued", "auto-reply", True)
    ]
    assert queued == [(out[0].id, "pending")]
    assert first_response is None  # an automatic reply does not stop the SLA clock
    assert statuses == ["queued"] + ["skipped: this dialog already had its automatic reply"] * 2
    assert woken == [1]


async def test_no_auto_reply_without_a_sender(db: Database, tmp_path: Path) -> None:
    """On the api channel (no outbound sender) the auto-reply is recorded as skipped."""
    await route(db, tmp_path, inbound("a1", name="Ann"))
    async with db.read() as tx:
        out = (await tx.execute(select(messages.c.id).where(messages.c.direction == "out"))).all()
        (body,) = (await tx.execute(select(decisions.c.body))).one()
    assert out == [] and body["auto_reply_status"] == "skipped: no sender for the api channel"


async def test_no_auto_reply_to_automated_senders(db: Database, tmp_path: Path) -> None:
    """A message from an automated sender never gets an automatic answer."""
    await route(db, tmp_path, inbound("w1", channel=ChannelKind.WIDGET, is_automated=True))
    async with db.read() as tx:
        out = (await tx.execute(select(messages.c.id).where(messages.c.direction == "out"))).all()
        (body,) = (await tx.execute(select(decisions.c.body))).one()
    assert out == [] and body["auto_reply"] is None
