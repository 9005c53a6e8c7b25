"""Telegram test wiring: the fake Bot API server, the real ingestion core, a real channel."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiogram.types import Update

from channels.base import Ingest
from channels.telegram import TelegramChannel, TelegramConfig
from dialogs.events import EventBus, decode_events
from dialogs.ingest import Ingestor
from storage import Database
from storage.notify import EventRelay
from storage.telegram import TelegramRepository
from tests.fakes.telegram_api import TOKEN, FakeTelegram

DATA = Path(__file__).resolve().parents[2] / "data" / "telegram"
SECRET = "s3cret-Webhook_token"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))
    return data


def update(name: str) -> Update:
    return Update.model_validate(load(name))


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = await FakeTelegram().start()
    yield server
    await server.close()


@dataclass
class Core:
    db: Database
    ingestor: Ingestor
    repo: TelegramRepository
    files_root: Path
    bus: EventBus


@pytest.fixture
async def core(db: Database, tmp_path: Path) -> AsyncIterator[Core]:
    bus = EventBus()
    relay = EventRelay(db, lambda payload: bus.deliver(decode_events(payload)))
    await relay.start()
    files_root = tmp_path / "files"
    ingestor = Ingestor(db, relay, files_root=files_root, reopen_window=timedelta(days=1))
    ingestor.start()
    yield Core(db, ingestor, TelegramRepository(db), files_root, bus)
    await ingestor.stop()
    await relay.stop()


ChannelFactory = Callable[..., TelegramChannel]


@pytest.fixture
async def make_channel(fake: FakeTelegram, core: Core) -> AsyncIterator[ChannelFactory]:
    """Channels on the fake, started; all stopped at the end of the test."""
    made: list[TelegramChannel] = []

    def factory(
        *,
        ingest: Ingest | None = None,
        clock: Callable[[], datetime] | None = None,
        **config: Any,
    ) -> TelegramChannel:
        base = TelegramConfig(
            token=TOKEN,
            webhook_secret=SECRET,
            api_base=fake.base_url,
            part_interval=0,
            poll_timeout=1,
            request_timeout=5,
        )
        channel = TelegramChannel(
            replace(base, **config),
            ingest=ingest or core.ingestor.ingest,
            edit=core.ingestor.apply_edit,
            store=core.repo,
            **({"clock": clock} if clock else {}),
        )
        made.append(channel)
        return channel

    yield factory
    for channel in made:
        await channel.stop()
