"""Replies out to Telegram: long text split into parts, files as photos or documents, and every
provider failure mapped to a `ChannelError` the outbox can act on."""

from __future__ import annotations

import asyncio
from collections import OrderedDict

import structlog
from aiogram import Bot
from aiogram.exceptions import (
    AiogramError,
    ClientDecodeError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramConflictError,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import BufferedInputFile, Message, ReplyParameters

from channels.base import ChannelError, OutboundAttachment, OutboundMessage, SendReceipt
from channels.telegram.entities import utf16_len
from channels.telegram.normalize import external_id, parse_external_id
from channels.telegram.store import TelegramStore

log = structlog.get_logger(__name__)

TEXT_LIMIT = 4096  # sendMessage text, counted here in UTF-16 code units (never over)
CAPTION_LIMIT = 1024
PHOTO_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})
PHOTO_MAX_BYTES = 10 * 1024 * 1024

Step = str | tuple[OutboundAttachment, str]  # a text part, or a file with its caption


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Parts of at most `limit` UTF-16 units, cut at a line break, else a space, else anywhere."""
    parts: list[str] = []
    rest = text.strip()
    while rest:
        if utf16_len(rest) <= limit:
            parts.append(rest)
            break
        fit, units = 0, 0
        for ch in rest:
            units += 2 if ord(ch) > 0xFFFF else 1
            if units > limit:
                break
            fit += 1
        window = rest[:fit]
        cut = window.rfind("\n")
        if cut <= 0:
            cut = max(window.rfind(" "), window.rfind("\t"))
        if cut <= 0:
            cut = fit
        part, rest = rest[:cut].rstrip(), rest[cut:].lstrip()
        if part:
            parts.append(part)
    return parts


def build_steps(m: OutboundMessage) -> list[Step]:
    """One request per step: a lone file carries short text as its caption."""
    if len(m.attachments) == 1 and utf16_len(m.text.strip()) <= CAPTION_LIMIT:
        return [(m.attachments[0], m.text.strip())]
    return [*split_text(m.text), *((a, "") for a in m.attachments)]


def map_error(exc: Exception) -> ChannelError:
    """The outbox's view of a failed Bot API call: retry (when, if Telegram says) or give up."""
    if isinstance(exc, TelegramRetryAfter):
        return ChannelError(
            f"Telegram rate limit: retry after {exc.retry_after} s",
            retryable=True,
            retry_after=float(exc.retry_after),
            code="rate_limited",
        )
    if isinstance(exc, TelegramServerError):
        return ChannelError(f"Telegram server error: {exc.message}", retryable=True, code="5xx")
    if isinstance(exc, TelegramEntityTooLarge):
        return ChannelError("The file is too large for Telegram", retryable=False, code="too_large")
    if isinstance(exc, TelegramNetworkError | ClientDecodeError):
        return ChannelError(f"Telegram unreachable: {exc}", retryable=True, code="network")
    if isinstance(exc, TelegramForbiddenError):
        return _forbidden(exc.message)
    if isinstance(exc, TelegramBadRequest):
        if "chat not found" in exc.message.lower():
            return ChannelError(
                "Telegram does not know this chat (chat not found): the customer may have "
                "deleted their account, or the bot never talked to them",
                retryable=False,
                code="chat_not_found",
            )
        return ChannelError(
            f"Telegram refused the message: {exc.message}", retryable=False, code="bad_request"
        )
    if isinstance(exc, TelegramUnauthorizedError):
        return ChannelError(
            "Telegram rejected the bot token (401 Unauthorized): check TELEGRAM_BOT_TOKEN",
            retryable=False,
            code="unauthorized",
        )
    if isinstance(exc, TelegramNotFound):
        return ChannelError(
            "The Bot API answered 404: check TELEGRAM_API_BASE and TELEGRAM_BOT_TOKEN",
            retryable=False,
            code="not_found",
        )
    if isinstance(exc, TelegramConflictError):
        return ChannelError(f"Telegram conflict: {exc.message}", retryable=True, code="conflict")
    if isinstance(exc, TelegramAPIError):
        return ChannelError(f"Telegram error: {exc.message}", retryable=False, code="telegram")
    return ChannelError(f"Telegram send failed: {exc!r}", retryable=True, code="unexpected")


def _forbidden(description: str) -> ChannelError:
    lowered = description.lower()
    if "blocked" in lowered or "deactivated" in lowered:
        return ChannelError(
            "The customer blocked the bot on Telegram (or deleted their account): replies "
            "cannot be delivered until they unblock it",
            retryable=False,
            code="blocked",
        )
    if "initiate conversation" in lowered:
        return ChannelError(
            "The customer has not started a chat with the bot: Telegram lets a bot write "
            "only to people who wrote to it first",
            retryable=False,
            code="not_started",
        )
    if "kicked" in lowered or "not a member" in lowered:
        return ChannelError(
            "The bot is no longer in this group chat", retryable=False, code="not_member"
        )
    return ChannelError(f"Telegram forbids this: {description}", retryable=False, code="forbidden")


BLOCKED = ChannelError(
    "The customer blocked the bot on Telegram: replies cannot be delivered until they unblock it",
    retryable=False,
    code="blocked",
)


class TelegramSender:
    """Sends one outbound message as one or more Bot API requests.

    Parts already sent are remembered per outbox message (in memory), so a retry after a
    429 on part three does not send parts one and two again.
    """

    def __init__(
        self, bot: Bot, store: TelegramStore, *, part_interval: float = 1.0, memory: int = 10_000
    ) -> None:
        self._bot = bot
        self._store = store
        self._part_interval = part_interval  # Telegram's 1 message/s per chat, inside one reply
        self._memory = memory
        self._sent: OrderedDict[int, list[str]] = OrderedDict()

    async def send(self, m: OutboundMessage) -> SendReceipt:
        chat_id, reply_to = _target(m)
        if not await self._store.is_reachable(m.address):
            raise BLOCKED
        steps = build_steps(m)
        if not steps:
            raise ChannelError(
                "Nothing to send: no text and no files", retryable=False, code="empty"
            )
        done = self._sent.setdefault(m.message_id, [])
        self._sent.move_to_end(m.message_id)
        while len(self._sent) > self._memory:
            self._sent.popitem(last=False)
        for index, step in enumerate(steps):
            if index < len(done):
                continue
            if done and self._part_interval:
                await asyncio.sleep(self._part_interval)
            try:
                sent = await self._send_step(chat_id, step, reply_to if index == 0 else None)
            except (TelegramAPIError, AiogramError) as exc:
                error = map_error(exc)
                if error.code == "blocked":
                    await self._store.set_reachable(m.address, False)
                if not error.retryable:
                    self._sent.pop(m.message_id, None)
                log.warning(
                    "telegram_send_failed",
                    message_id=m.message_id,
                    part=index + 1,
                    parts=len(steps),
                    code=error.code,
                    retryable=error.retryable,
                )
                raise error from exc
            done.append(external_id(sent.chat.id, sent.message_id))
        self._sent.pop(m.message_id, None)
        log.info("telegram_message_sent", message_id=m.message_id, parts=len(steps))
        return SendReceipt(done[0])

    async def _send_step(self, chat_id: int, step: Step, reply_to: int | None) -> Message:
        reply = (
            ReplyParameters(message_id=reply_to, allow_sending_without_reply=True)
            if reply_to is not None
            else None
        )
        try:
            return await self._request(chat_id, step, reply)
        except TelegramMigrateToChat as exc:  # the group became a supergroup: same chat, new id
            return await self._request(exc.migrate_to_chat_id, step, reply)

    async def _request(self, chat_id: int, step: Step, reply: ReplyParameters | None) -> Message:
        if isinstance(step, str):
            return await self._bot.send_message(chat_id, step, reply_parameters=reply)
        attachment, caption = step
        upload = BufferedInputFile(attachment.data, filename=attachment.filename)
        if attachment.content_type in PHOTO_TYPES and len(attachment.data) <= PHOTO_MAX_BYTES:
            return await self._bot.send_photo(
                chat_id, upload, caption=caption or None, reply_parameters=reply
            )
        return await self._bot.send_document(
            chat_id, upload, caption=caption or None, reply_parameters=reply
        )


def chat_of(m: OutboundMessage) -> int | None:
    """The chat a reply goes to, or None when it has no valid target (the send will say why)."""
    try:
        return _target(m)[0]
    except ChannelError:
        return None


def _target(m: OutboundMessage) -> tuple[int, int | None]:
    """The chat to write to (the replied-to message's chat, else the contact) and message."""
    if m.reply_to_external_id:
        parsed = parse_external_id(m.reply_to_external_id)
        if parsed is not None:
            return parsed
    try:
        return int(m.address), None
    except ValueError:
        raise ChannelError(
            f"Not a Telegram chat id: {m.address!r}", retryable=False, code="bad_address"
        ) from None
