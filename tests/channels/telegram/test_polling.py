"""Long polling: the offset moves only after a batch is committed, and survives restarts."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from sqlalchemy import func, select

from channels.telegram import TelegramChannel
from dialogs.model import InboundMessage, IngestResult
from storage.tables import messages
from tests.channels.telegram.conftest import ChannelFactory, Core, load
from tests.fakes.telegram_api import BOT_ID, FakeTelegram, server_error

BATCH = ("text_private", "callback_query", "document")


async def count_messages(core: Core) -> int:
    async with core.db.read() as tx:
        return int((await tx.execute(select(func.count()).select_from(messages))).scalar_one())


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def test_polled_updates_stored_and_offset_saved(
    make_channel: ChannelFactory, core: Core, fake: FakeTelegram
) -> None:
    """Queued updates are stored; the saved offset is one past the batch; the webhook is off."""
    fake.add_file("doc-1", b"%PDF", "documents/1.pdf")
    for name in BATCH:
        fake.queue_update(load(name))
    channel = make_channel(mode="polling")
    await channel.start()

    async def saved() -> bool:
        return await core.repo.load_offset(BOT_ID) == 700000017 + 1

    await eventually(saved)
    assert await count_messages(core) == 3
    assert fake.calls_to("deleteWebhook")
    first = fake.calls_to("getUpdates")[0]
    assert "offset" not in first.params
    assert first.params["allowed_updates"] == [
        "message",
        "edited_message",
        "callback_query",
        "my_chat_member",
    ]
    await eventually(lambda: _asked_with(fake, 700000018))


async def _asked_with(fake: FakeTelegram, offset: int) -> bool:
    return any(int(c.params.get("offset", 0)) == offset for c in fake.calls_to("getUpdates"))


async def test_poller_killed_mid_batch_loses_and_doubles_nothing(
    make_channel: ChannelFactory, core: Core, fake: FakeTelegram
) -> None:
    """Killed while the third update of a batch is being stored, the restarted poller stores
    the rest once: no message lost, none doubled, the callback answered once."""
    fake.add_file("doc-1", b"%PDF", "documents/1.pdf")
    for name in BATCH:
        fake.queue_update(load(name))
    third_started = asyncio.Event()

    async def stuck_on_document(message: InboundMessage) -> IngestResult:
        if message.kind == "document":
            third_started.set()
            await asyncio.Event().wait()  # never returns: the process dies here
        return await core.ingestor.ingest(message)

    first: TelegramChannel = make_channel(mode="polling", ingest=stuck_on_document)
    await first.start()
    await asyncio.wait_for(third_started.wait(), 10)
    await first.stop()  # cancels the poller mid-batch
    assert await count_messages(core) == 2
    assert await core.repo.load_offset(BOT_ID) is None  # the batch was not committed whole

    second = make_channel(mode="polling")
    await second.start()

    async def offset_saved() -> bool:
        return await core.repo.load_offset(BOT_ID) == 700000018

    await eventually(offset_saved)
    async with core.db.read() as tx:
        ids = sorted((await tx.execute(select(messages.c.external_id))).scalars())
    assert ids == ["555000111:2001", "555000111:2006", "callback:4382bfdwdsb323b2d9"]
    assert len(fake.calls_to("answerCallbackQuery")) == 1


async def test_poller_survives_api_errors(
    make_channel: ChannelFactory, core: Core, fake: FakeTelegram
) -> None:
    """A 500 from getUpdates is retried with backoff; updates arrive after it."""
    fake.fail("getUpdates", server_error())
    fake.queue_update(load("text_private"))
    channel = make_channel(mode="polling")
    await channel.start()

    async def stored() -> bool:
        return await count_messages(core) == 1

    await eventually(stored)
