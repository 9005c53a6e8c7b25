"""The effects of one Telegram update, shared by the webhook and the long poller.

Order: skip an update id already handled → normalise → fetch files → ingest (returns after
commit) or edit in place or mark reachability → answer a callback query → record the id
as seen. New messages without files skip the seen-id set: chat:message id is their key.
A failure before the end raises, so the update is delivered again; every step is
idempotent, so a redelivery finishes the work without doubling any of it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import structlog
from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import Update

from channels.base import ApplyEdit, Ingest
from channels.telegram.client import DEFAULT_MAX_FILE_BYTES, FileUnavailable, fetch_file
from channels.telegram.normalize import (
    BotIdentity,
    Edit,
    Ignored,
    Incoming,
    Membership,
    normalize_update,
)
from channels.telegram.poison import FailureLedger, placeholder
from channels.telegram.store import TelegramStore
from dialogs.batching import GroupCommitter
from dialogs.model import InboundAttachment, InboundEdit

log = structlog.get_logger(__name__)


_FILE_FIELDS = (
    "photo",
    "document",
    "voice",
    "video",
    "video_note",
    "audio",
    "animation",
    "sticker",
)


def _carries_files(update: Update) -> bool:
    message = update.message
    return message is not None and any(getattr(message, f, None) for f in _FILE_FIELDS)


class UpdateHandler:
    def __init__(
        self,
        bot: Bot,
        store: TelegramStore,
        ingest: Ingest,
        edit: ApplyEdit,
        *,
        clock: Callable[[], datetime],
        max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    ) -> None:
        self._bot = bot
        self._store = store
        self._ingest = ingest
        self._edit = edit
        self._clock = clock
        self._max_file_bytes = max_file_bytes
        self._identity: BotIdentity | None = None
        self._failures = FailureLedger()
        # Concurrent webhook requests share one query to look their update ids up, and one
        # transaction to record them: per request, each would cost a database round trip.
        self._lookup: GroupCommitter[int, bool] = GroupCommitter(self._look_up_seen)
        self._seen: GroupCommitter[int, None] = GroupCommitter(self._commit_seen)

    @property
    def bot_id(self) -> int:
        return self._bot.id

    def start(self) -> None:
        self._lookup.start()
        self._seen.start()

    async def stop(self) -> None:
        await self._lookup.stop()
        await self._seen.stop()

    async def identity(self) -> BotIdentity:
        """Who the bot is (getMe, once): group messages count when they name it."""
        if self._identity is None:
            me = await self._bot.get_me()
            self._identity = BotIdentity(me.id, me.username or "")
        return self._identity

    async def handle(self, update: Update) -> str:
        """Handle one update to the end; returns what became of it (for logs and tests).

        A failure raises (so the update comes again) until the update has failed too often
        for too long; then it is kept as a placeholder message and counts as handled.
        """
        try:
            outcome = await self._handle(update)
        except Exception as exc:
            if not self._failures.record(update.update_id, self._clock()):
                raise
            outcome = await self._give_up(update, exc)
        self._failures.forget(update.update_id)
        return outcome

    async def _give_up(self, update: Update, exc: Exception) -> str:
        error = f"{type(exc).__name__}: {exc}"[:300]
        log.error("telegram_update_given_up", update_id=update.update_id, error=error)
        message = placeholder(update, error)
        if message is not None:
            await self._ingest(message)
        await self._seen.submit(update.update_id)
        return "given_up"

    async def _handle(self, update: Update) -> str:
        # A new message without files is keyed by chat:message id, so ingesting it again is
        # already a no-op; the seen-id set guards the rest (files would be fetched again, edits,
        # callbacks, membership) and costs two trips to the database, which these are spared.
        keyed = update.message is not None and not _carries_files(update)
        if not keyed and await self._lookup.submit(update.update_id):
            log.info("telegram_update_duplicate", update_id=update.update_id)
            return "duplicate"
        normalized = normalize_update(update, await self.identity())
        outcome = await self._apply(normalized)
        if not keyed:
            await self._seen.submit(update.update_id)
        # A plain new message is logged once, as message_ingested (with its chat:message id).
        (log.debug if outcome == "ingested" else log.info)(
            "telegram_update_handled", update_id=update.update_id, outcome=outcome
        )
        return outcome

    async def _apply(self, n: Incoming | Edit | Membership | Ignored) -> str:
        if isinstance(n, Incoming):
            return await self._ingest_incoming(n)
        if isinstance(n, Edit):
            message = n.incoming.message
            applied = await self._edit(
                InboundEdit(
                    channel=message.channel,
                    external_id=message.external_id,
                    text=message.text,
                    edited_at=n.edited_at,
                    raw=message.raw,
                )
            )
            if applied == "missing" and n.addressed:  # the original never reached us
                return await self._ingest_incoming(n.incoming)
            return f"edit_{applied}"
        if isinstance(n, Membership):
            found = await self._store.set_reachable(n.address, n.reachable)
            log.info(
                "telegram_contact_reachability_changed",
                reachable=n.reachable,
                status=n.status,
                contact_known=found,
            )
            return "reachable" if n.reachable else "unreachable"
        log.debug("telegram_update_ignored", reason=n.reason)
        return "ignored"

    async def _ingest_incoming(self, n: Incoming) -> str:
        message = n.message
        if n.files:
            attachments, missing = await self._fetch_files(n)
            raw: dict[str, Any] = dict(message.raw or {})
            if missing:
                raw["unfetched_files"] = missing
            text = message.text or (
                f"[{message.kind}: file not fetched]" if missing and not attachments else ""
            )
            message = dataclasses.replace(message, attachments=attachments, raw=raw, text=text)
        result = await self._ingest(message)
        if n.callback_query_id is not None:
            await self._answer_callback(n.callback_query_id)
        return "duplicate_message" if result.duplicate else "ingested"

    async def _fetch_files(
        self, n: Incoming
    ) -> tuple[tuple[InboundAttachment, ...], list[dict[str, str]]]:
        attachments: list[InboundAttachment] = []
        missing: list[dict[str, str]] = []
        for ref in n.files:
            try:
                data = await fetch_file(self._bot, ref.file_id, max_bytes=self._max_file_bytes)
            except FileUnavailable as exc:
                log.warning("telegram_file_unavailable", reason=str(exc))
                missing.append({"filename": ref.filename, "reason": str(exc)})
                continue
            attachments.append(InboundAttachment(ref.filename, ref.content_type, data))
        return tuple(attachments), missing

    async def _answer_callback(self, query_id: str) -> None:
        """Stop the button's spinner. Best effort: a late answer is refused, nothing is lost."""
        try:
            await self._bot.answer_callback_query(query_id)
        except TelegramAPIError as exc:
            log.warning("telegram_callback_answer_failed", error=type(exc).__name__)

    async def _look_up_seen(self, update_ids: Sequence[int]) -> list[bool]:
        seen = await self._store.seen_among(self.bot_id, update_ids, now=self._clock())
        return [u in seen for u in update_ids]

    async def _commit_seen(self, update_ids: Sequence[int]) -> list[None]:
        await self._store.mark_seen(self.bot_id, update_ids, now=self._clock())
        return [None] * len(update_ids)
