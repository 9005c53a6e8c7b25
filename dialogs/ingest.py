"""The one place that orders ingestion's effects: store → (commit, acknowledge) → route → publish.

`Ingestor.ingest` returns only once its message is committed. Routing runs after,
in `RoutingWorker`, from what is stored: a crash between the two loses nothing, as
every committed-but-unrouted message is routed on the next start.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import structlog

from dialogs.batching import GroupCommitter
from dialogs.events import (
    DialogUpdated,
    Event,
    MessageEdited,
    MessageReceived,
    encode_batches,
    encode_events,
)
from dialogs.metrics import MESSAGES_DUPLICATE, MESSAGES_INGESTED
from dialogs.model import Direction, EditOutcome, InboundEdit, InboundMessage, IngestResult
from storage import Database
from storage.db import SyncTx, is_retryable
from storage.edits import EditResult, apply_edit
from storage.files import save_blob
from storage.inbound import PreparedInbound, store_inbound_batch
from storage.notify import EventRelay

log = structlog.get_logger(__name__)

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


class Ingestor:
    def __init__(
        self,
        db: Database,
        relay: EventRelay,
        *,
        files_root: Path,
        reopen_window: timedelta,
        on_stored: Callable[[], None] = lambda: None,
        clock: Clock = utcnow,
        max_batch: int = 256,
    ) -> None:
        self._db = db
        self._relay = relay
        self._files_root = files_root
        self._reopen_window = reopen_window
        self._on_stored = on_stored
        self._clock = clock
        # SQLite has one writer whatever we do; PostgreSQL gains from two overlapping commits.
        self._committer: GroupCommitter[PreparedInbound, IngestResult] = GroupCommitter(
            self._commit, max_batch=max_batch, workers=1 if db.is_sqlite else 2
        )

    def start(self) -> None:
        self._committer.start()

    async def stop(self) -> None:
        await self._committer.stop()

    async def quiet(self) -> None:
        """Return once no message is waiting for its commit or being committed."""
        await self._committer.quiet()

    async def apply_edit(self, edit: InboundEdit) -> EditOutcome:
        """Change a stored inbound message's text in place (the inbox hears `message_edited`);
        an edit older than the stored text is stale, one of an unknown message is missing."""

        def write(tx: SyncTx) -> tuple[EditResult, list[str]]:
            result = apply_edit(tx, edit)
            if result.outcome != "applied":
                return result, []
            assert result.message_id is not None and result.dialog_id is not None
            events = [MessageEdited(result.message_id, result.dialog_id)]
            payloads = [encode_events([*events, DialogUpdated(result.dialog_id)])]
            self._relay.stage_sync(tx, payloads)
            return result, payloads

        result, payloads = await self._db.run_write(write)
        self._relay.committed(payloads)
        log.info(
            "message_edit",
            outcome=result.outcome,
            message_id=result.message_id,
            dialog_id=result.dialog_id,
        )
        return result.outcome

    async def ingest(self, message: InboundMessage) -> IngestResult:
        """Store `message` once; return when it is durable (a duplicate returns the original)."""
        hashes: tuple[str, ...] = ()
        if message.attachments:
            hashes = await asyncio.to_thread(
                lambda: tuple(save_blob(self._files_root, a.data) for a in message.attachments)
            )
        result = await self._committer.submit(PreparedInbound(message, hashes))
        counter = MESSAGES_DUPLICATE if result.duplicate else MESSAGES_INGESTED
        counter.labels(message.channel).inc()
        log.info(
            "message_duplicate" if result.duplicate else "message_ingested",
            channel=str(message.channel),
            external_id=message.external_id,
            message_id=result.message_id,
            dialog_id=result.dialog_id,
        )
        return result

    async def _commit(self, batch: Sequence[PreparedInbound]) -> list[IngestResult]:
        for attempt in range(5):
            try:
                return await self._commit_once(batch)
            except Exception as exc:
                if not is_retryable(exc) or attempt == 4:
                    raise
                log.info("ingest_batch_retried", attempt=attempt + 1, error=type(exc).__name__)
                await asyncio.sleep(0.01 * 2**attempt)
        raise AssertionError("unreachable")

    async def _commit_once(self, batch: Sequence[PreparedInbound]) -> list[IngestResult]:
        results, payloads = await self._db.run_write(self._store, batch, self._clock())
        self._relay.committed(payloads)
        if any(not r.duplicate for r in results):
            self._on_stored()
        return results

    def _store(
        self, tx: SyncTx, batch: Sequence[PreparedInbound], now: datetime
    ) -> tuple[list[IngestResult], list[str]]:
        results = store_inbound_batch(tx, batch, now=now, reopen_window=self._reopen_window)
        payloads = _event_payloads(results)
        self._relay.stage_sync(tx, payloads)
        return results, payloads


def _event_payloads(results: Sequence[IngestResult], chunk: int = 40) -> list[str]:
    events: list[Event] = []
    for r in results:
        if r.duplicate:
            continue
        events.append(MessageReceived(r.message_id, r.dialog_id, Direction.IN.value))
        events.append(DialogUpdated(r.dialog_id, created=r.dialog_created))
    return encode_batches(events, chunk)
