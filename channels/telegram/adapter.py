"""The Telegram channel: webhook route or long poller in, `send` out, both through aiogram."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog
from aiogram.exceptions import AiogramError

from channels.base import ApplyEdit, Handler, Ingest, OutboundMessage, RateLimit, SendReceipt
from channels.telegram.client import DEFAULT_MAX_FILE_BYTES, build_bot
from channels.telegram.normalize import ALLOWED_UPDATES
from channels.telegram.outbound import TelegramSender, chat_of
from channels.telegram.polling import Poller
from channels.telegram.store import TelegramStore
from channels.telegram.updates import UpdateHandler
from channels.telegram.webhook import webhook_handler

log = structlog.get_logger(__name__)

WEBHOOK_PATH = "/webhooks/telegram"
GROUP_PER_SECOND = 20 / 60


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class TelegramConfig:
    token: str
    mode: str = "webhook"  # webhook | polling
    webhook_secret: str | None = None
    webhook_url: str | None = None  # registered with setWebhook on start when set
    api_base: str | None = None  # a local Bot API server (or a test fake)
    # A Bot API server in --local mode: (its files directory, the same directory seen here).
    local_files: tuple[str, str] | None = None
    request_timeout: float = 30.0
    poll_timeout: int = 25
    part_interval: float = 1.0  # pause between the parts of one long reply
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES


class TelegramChannel:
    kind = "telegram"
    # Bot API limits: about 30 messages a second overall, one a second to one chat, and 20 a
    # minute to one group (see `pace`).
    rate_limit = RateLimit(per_second=30.0, per_address_per_second=1.0, burst=1)

    def __init__(
        self,
        config: TelegramConfig,
        *,
        ingest: Ingest,
        edit: ApplyEdit,
        store: TelegramStore,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        if config.mode == "webhook" and not config.webhook_secret:
            raise ValueError("the Telegram webhook needs a secret")
        self.config = config
        self.bot = build_bot(
            config.token,
            api_base=config.api_base,
            local_files=config.local_files,
            timeout=config.request_timeout,
        )
        self.updates = UpdateHandler(
            self.bot, store, ingest, edit, clock=clock, max_file_bytes=config.max_file_bytes
        )
        self.sender = TelegramSender(self.bot, store, part_interval=config.part_interval)
        self.poller = Poller(
            self.bot, store, self.updates.handle, clock=clock, timeout=config.poll_timeout
        )
        self._poll_task: asyncio.Task[None] | None = None

    async def send(self, message: OutboundMessage) -> SendReceipt:
        return await self.sender.send(message)

    def pace(self, message: OutboundMessage) -> tuple[str, float]:
        """Sends are paced per chat: a group's (negative id) 20 a minute, a person's 1 a second."""
        chat_id = chat_of(message)
        if chat_id is None:
            return message.address, 1.0
        return str(chat_id), GROUP_PER_SECOND if chat_id < 0 else 1.0

    def routes(self) -> Sequence[tuple[str, str, Handler]]:
        if self.config.mode != "webhook" or self.config.webhook_secret is None:
            return []
        handler = webhook_handler(self.bot, self.config.webhook_secret, self.updates.handle)
        return [("POST", WEBHOOK_PATH, handler)]

    async def start(self) -> None:
        self.updates.start()
        try:
            await self.updates.identity()
        except AiogramError as exc:  # the first update tries again; Telegram redelivers till then
            log.warning("telegram_identity_unavailable", error=type(exc).__name__)
        if self.config.mode == "polling":
            self._poll_task = asyncio.create_task(self.poller.run(), name="telegram-poller")
        elif self.config.webhook_url:
            try:
                await self.bot.set_webhook(
                    self.config.webhook_url,
                    secret_token=self.config.webhook_secret,
                    allowed_updates=ALLOWED_UPDATES,
                )
                log.info("telegram_webhook_registered", bot_id=self.bot.id)
            except AiogramError as exc:  # the server still serves; say so loudly
                log.error("telegram_webhook_registration_failed", error=str(exc))
        log.info("telegram_channel_started", bot_id=self.bot.id, mode=self.config.mode)

    async def stop(self) -> None:
        if self._poll_task is not None:
            self._poll_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poll_task
            self._poll_task = None
        await self.updates.stop()
        await self.bot.session.close()
