"""Replies go out through a durable outbox: stored with their delivery row, then sent by a worker.

`Outbox` stores replies and notes (the message and its outbox row in one transaction)
and applies the providers' status reports. `OutboxWorker` claims due rows, calls the
channel's `send` outside any transaction, then records the outcome in a transaction of
its own: sent, a retry at `now + retry_after or backoff`, or a final failure shown on
the message.

Delivery is at least once. A send the provider accepted is never repeated, except when
the process dies (or the send times out) between the provider's answer and the commit
that records it: then the row's lease runs out and it is sent again. That window is one
round trip plus one small commit wide.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import structlog

from channels.base import (
    Channel,
    ChannelError,
    OutboundAttachment,
    OutboundMessage,
    StatusNotYetKnown,
    StatusUpdate,
    backoff,
    pace_of,
    rate_limit_of,
    reply_window_of,
)
from dialogs.delivery import next_status
from dialogs.events import DialogUpdated, Event, MessageReceived, MessageUpdated, encode_events
from dialogs.metrics import REPLIES_FAILED, REPLIES_SENT, REPLY_RETRIES
from dialogs.model import Direction, MessageStatus
from dialogs.rate_limit import ChannelLimiter
from dialogs.worker import WakeableWorker
from storage import Database
from storage import outbox as repo
from storage.db import SyncTx
from storage.files import load_blob, save_blob
from storage.notify import EventRelay

log = structlog.get_logger(__name__)

Clock = Callable[[], datetime]


class Outbox:
    """Stores replies and notes; applies delivery status reports from the providers."""

    def __init__(
        self,
        db: Database,
        relay: EventRelay,
        channels: Mapping[str, Channel],
        *,
        files_root: Path,
        clock: Clock,
        on_queued: Callable[[], None] = lambda: None,
    ) -> None:
        self._db = db
        self._relay = relay
        self._files_root = files_root
        self._clock = clock
        self._on_queued = on_queued
        self._windows = {
            kind: window
            for kind, channel in channels.items()
            if (window := reply_window_of(channel)) is not None
        }

    def reply_window(self, channel: str) -> timedelta | None:
        """How long after the contact's last message free text may go out on `channel`."""
        return self._windows.get(channel)

    async def store(
        self, draft: repo.Draft, files: Sequence[tuple[str, str, bytes]] = ()
    ) -> dict[str, Any]:
        """Store a reply (queued for sending) or a note; raises repo.ReplyRefused."""
        if files:
            stored = await asyncio.to_thread(
                lambda: tuple(
                    repo.StoredFile(name, ctype, len(data), save_blob(self._files_root, data))
                    for name, ctype, data in files
                )
            )
            draft = replace(draft, files=stored)
        message, payloads = await self._db.run_write(self._store, draft, self._clock())
        self._relay.committed(payloads)
        if draft.direction == Direction.OUT:
            self._on_queued()
        log.info(
            "reply_queued" if draft.direction == Direction.OUT else "note_added",
            message_id=message["id"],
            dialog_id=draft.dialog_id,
            author=draft.author,
        )
        return message

    def _store(
        self, tx: SyncTx, draft: repo.Draft, now: datetime
    ) -> tuple[dict[str, Any], list[str]]:
        message = repo.store_draft(tx, draft, now=now, reply_windows=self._windows)
        payloads = [
            encode_events(
                [
                    MessageReceived(message["id"], draft.dialog_id, draft.direction.value),
                    DialogUpdated(draft.dialog_id),
                ]
            )
        ]
        self._relay.stage_sync(tx, payloads)
        return message, payloads

    async def record_status(self, update: StatusUpdate) -> None:
        """Apply a provider's status report; out-of-order reports never move a status back."""
        payloads = await self._db.run_write(self._record_status, update)
        self._relay.committed(payloads)

    def _record_status(self, tx: SyncTx, update: StatusUpdate) -> list[str]:
        row = repo.find_outbound(tx, update.channel, update.external_id)
        if row is None:
            if repo.sends_in_flight(tx, update.channel):
                raise StatusNotYetKnown(update.external_id)
            log.info("status_for_unknown_message", channel=update.channel, status=update.status)
            return []
        status = next_status(row.status, update.status)
        if status is None:
            return []
        repo.set_status(tx, row.id, status.value, update.error)
        log.info("message_status_changed", message_id=row.id, status=status.value)
        payloads = [encode_events([MessageUpdated(row.id, row.dialog_id, status.value)])]
        self._relay.stage_sync(tx, payloads)
        return payloads


class OutboxWorker(WakeableWorker):
    """Sends due outbox rows through their channels, paced by each channel's rate limit."""

    name = "outbox"

    def __init__(
        self,
        db: Database,
        relay: EventRelay,
        channels: Mapping[str, Channel],
        *,
        files_root: Path,
        clock: Clock,
        lease: timedelta = timedelta(seconds=120),
        send_timeout: float = 60.0,
        retry_base: float = 2.0,
        retry_cap: float = 300.0,
        max_attempts: int = 10,
        batch: int = 32,
    ) -> None:
        super().__init__()
        self._db = db
        self._relay = relay
        self._channels = channels
        self._files_root = files_root
        self._clock = clock
        self._lease = lease
        self._send_timeout = min(send_timeout, lease.total_seconds() / 2)
        self._retry_base = retry_base
        self._retry_cap = retry_cap
        self._max_attempts = max_attempts
        self._batch = batch
        self._limiters = {
            kind: ChannelLimiter(limit)
            for kind, channel in channels.items()
            if (limit := rate_limit_of(channel)) is not None
        }
        self._next_due: datetime | None = None
        self._released = False

    def delay(self) -> float | None:
        if self._next_due is None:
            return None
        return max(0.0, (self._next_due - self._clock()).total_seconds())

    async def work(self) -> None:
        if not self._released and self._db.is_sqlite:  # one process: "sending" rows are orphans
            released = await self._db.run_write(repo.release_stale, self._clock())
            if released:
                log.warning("outbox_rows_released", count=released)
        self._released = True
        while True:
            claimed = await self._db.run_write(
                lambda tx: repo.claim_due(
                    tx, now=self._clock(), lease=self._lease, limit=self._batch
                )
            )
            if not claimed:
                break
            await asyncio.gather(*(self._send(c) for c in claimed))
        self._next_due = await self._db.run_write(repo.next_due)

    async def _send(self, c: repo.Claimed) -> None:
        channel = self._channels.get(c.channel)
        if channel is None:
            reason = (
                "the api channel has no outbound sender"
                if c.channel == "api"
                else f"channel '{c.channel}' is not configured"
            )
            await self._settle(c, failed=reason)
            return
        if c.address is None:
            await self._settle(c, failed=f"the contact has no {c.channel} address to reply to")
            return
        try:
            message = await self._outbound(c, c.address)
            limiter = self._limiters.get(c.channel)
            if limiter is not None:
                await limiter.acquire(*pace_of(channel, message))
            async with asyncio.timeout(self._send_timeout):
                receipt = await channel.send(message)
        except ChannelError as exc:
            await self._after_error(c, exc.message, exc.retryable, exc.retry_after, exc.code)
            return
        except TimeoutError:
            await self._after_error(c, "the provider did not answer in time", True, None, None)
            return
        except Exception as exc:  # a bug in an adapter must not stop the outbox
            log.exception("outbox_send_crashed", message_id=c.message_id, channel=c.channel)
            await self._after_error(c, f"internal error: {type(exc).__name__}", True, None, None)
            return
        await self._settle(c, external_id=receipt.external_id)

    async def _outbound(self, c: repo.Claimed, address: str) -> OutboundMessage:
        files: tuple[OutboundAttachment, ...] = ()
        if c.files:
            files = await asyncio.to_thread(
                lambda: tuple(
                    OutboundAttachment(
                        f.filename, f.content_type, load_blob(self._files_root, f.sha256)
                    )
                    for f in c.files
                )
            )
        return OutboundMessage(
            message_id=c.message_id,
            dialog_id=c.dialog_id,
            channel=c.channel,
            address=address,
            text=c.text,
            attachments=files,
            reply_to_external_id=c.reply_to_external_id,
            template=c.template,
            subject=c.subject,
            references=c.references,
            automated=c.automated,
        )

    async def _after_error(
        self,
        c: repo.Claimed,
        error: str,
        retryable: bool,
        retry_after: float | None,
        code: str | None,
    ) -> None:
        if not retryable:
            await self._settle(c, failed=error)
        elif c.attempt >= self._max_attempts:
            await self._settle(c, failed=f"{error} (gave up after {c.attempt} attempts)")
        else:
            wait = (
                retry_after
                if retry_after is not None
                else backoff(c.attempt, base=self._retry_base, cap=self._retry_cap)
            )
            log.info(
                "reply_send_retried",
                message_id=c.message_id,
                channel=c.channel,
                attempt=c.attempt,
                code=code,
                wait=round(wait, 3),
            )
            await self._settle(c, retry_in=wait, error=error)

    async def _settle(
        self,
        c: repo.Claimed,
        *,
        external_id: str | None = None,
        failed: str | None = None,
        retry_in: float | None = None,
        error: str = "",
    ) -> None:
        def settle(tx: SyncTx) -> list[str]:
            now = self._clock()
            status: str | None = None
            if retry_in is not None:
                repo.mark_retry(tx, c, error=error, at=now + timedelta(seconds=retry_in), now=now)
            elif failed is not None:
                repo.mark_failed(tx, c, error=failed, now=now)
                status = MessageStatus.FAILED.value
            else:
                repo.mark_sent(tx, c, external_id=external_id, now=now)
                status = MessageStatus.SENT.value
            if status is None:
                return []
            events: list[Event] = [MessageUpdated(c.message_id, c.dialog_id, status)]
            payloads = [encode_events(events)]
            self._relay.stage_sync(tx, payloads)
            return payloads

        payloads = await self._db.run_write(settle)
        self._relay.committed(payloads)
        if failed is not None:
            REPLIES_FAILED.labels(c.channel).inc()
            log.warning("reply_failed", message_id=c.message_id, channel=c.channel, error=failed)
        elif retry_in is None:
            REPLIES_SENT.labels(c.channel).inc()
            log.info("reply_sent", message_id=c.message_id, channel=c.channel)
        else:
            REPLY_RETRIES.labels(c.channel).inc()
