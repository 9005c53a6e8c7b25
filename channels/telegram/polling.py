"""Long polling with getUpdates for bots without a public URL (TELEGRAM_MODE=polling).

The offset moves past a batch only after every update of it is handled (committed), and is
kept in the database: a poller killed mid-batch gets the batch again from Telegram on its
next start, and the seen update ids and message ids make the second pass harmless.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import structlog
from aiogram import Bot
from aiogram.types import Update

from channels.base import backoff
from channels.telegram.normalize import ALLOWED_UPDATES
from channels.telegram.store import TelegramStore

log = structlog.get_logger(__name__)


class Poller:
    def __init__(
        self,
        bot: Bot,
        store: TelegramStore,
        handle: Callable[[Update], Awaitable[Any]],
        *,
        clock: Callable[[], datetime],
        timeout: int = 25,
        limit: int = 100,
        retry_cap: float = 30.0,
    ) -> None:
        self._bot = bot
        self._store = store
        self._handle = handle
        self._clock = clock
        self._timeout = timeout
        self._limit = limit
        self._retry_cap = retry_cap

    async def run(self) -> None:
        """Poll until cancelled; errors are logged and retried with backoff."""
        failures = 0
        offset: int | None = None
        loaded = False
        while True:
            try:
                if not loaded:
                    await self._bot.delete_webhook()  # getUpdates is refused while one is set
                    offset = await self._store.load_offset(self._bot.id)
                    loaded = True
                offset = await self.poll_once(offset)
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failures += 1
                delay = backoff(failures, base=0.5, cap=self._retry_cap)
                log.warning(
                    "telegram_poll_failed",
                    error=type(exc).__name__,
                    failures=failures,
                    retry_in=round(delay, 2),
                )
                await asyncio.sleep(delay)

    async def poll_once(self, offset: int | None) -> int | None:
        """One getUpdates round; returns the offset to ask with next."""
        updates = await self._bot.get_updates(
            offset=offset,
            limit=self._limit,
            timeout=self._timeout,
            allowed_updates=ALLOWED_UPDATES,
            request_timeout=self._timeout + 10,
        )
        if not updates:
            return offset
        for update in updates:
            await self._handle(update)
        next_offset = max(u.update_id for u in updates) + 1
        await self._store.save_offset(self._bot.id, next_offset, now=self._clock())
        log.info("telegram_updates_polled", count=len(updates), offset=next_offset)
        return next_offset
