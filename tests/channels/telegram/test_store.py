"""The Telegram repository: seen update ids as a pruned set, edits applied once and in order."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from dialogs.model import ChannelKind, InboundEdit
from storage.tables import messages, telegram_seen_updates
from tests.builders import inbound
from tests.channels.telegram.conftest import Core

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


async def test_seen_ids_are_a_set_not_a_high_water_mark(core: Core) -> None:
    """A lower id than ever seen is new: ids restart at random after a quiet week."""
    await core.repo.mark_seen(1, [500, 501], now=NOW)
    assert await core.repo.has_seen(1, 500, now=NOW)
    assert not await core.repo.has_seen(1, 7, now=NOW)
    assert not await core.repo.has_seen(2, 500, now=NOW)  # per bot


async def test_old_seen_ids_expire_and_are_pruned(core: Core) -> None:
    """Ids older than the retention no longer count and are deleted on a later write."""
    await core.repo.mark_seen(1, [500], now=NOW)
    later = NOW + timedelta(days=9)
    assert not await core.repo.has_seen(1, 500, now=later)
    core.repo._pruned_at = None  # prune on the next write, as an hour later would
    await core.repo.mark_seen(1, [9], now=later)
    async with core.db.read() as tx:
        ids = list((await tx.execute(select(telegram_seen_updates.c.update_id))).scalars())
        assert ids == [9]
        assert (
            await tx.execute(select(func.count()).select_from(telegram_seen_updates))
        ).scalar() == 1


def edit(external_id: str, text: str, at: datetime) -> InboundEdit:
    return InboundEdit(ChannelKind.TELEGRAM, external_id, text, at)


async def test_edits_apply_once_and_in_order(core: Core) -> None:
    """A redelivered or older edit leaves the newest text in place and history unchanged;
    only the edit that changed something is announced to the inbox."""
    stored = await core.ingestor.ingest(inbound("1:1", channel=ChannelKind.TELEGRAM, text="v1"))
    first, second = NOW, NOW + timedelta(minutes=1)
    with core.bus.subscription() as events:
        assert await core.ingestor.apply_edit(edit("1:1", "v3", second)) == "applied"
        assert await core.ingestor.apply_edit(edit("1:1", "v2", first)) == "stale"
        assert await core.ingestor.apply_edit(edit("1:1", "v3", second)) == "stale"
        assert await core.ingestor.apply_edit(edit("9:9", "x", first)) == "missing"
        # a later message is a barrier: events arrive in commit order (via NOTIFY on PostgreSQL)
        barrier = await core.ingestor.ingest(inbound("2:2", channel=ChannelKind.TELEGRAM))
        received = []
        async with asyncio.timeout(10):
            while not received or received[-1].get("message_id") != barrier.message_id:
                received.append(await events.get())
    edits = [e for e in received if e["type"] == "message_edited"]
    assert [e["message_id"] for e in edits] == [stored.message_id]
    async with core.db.read() as tx:
        row = (
            await tx.execute(
                select(messages.c.text, messages.c.history).where(
                    messages.c.id == stored.message_id
                )
            )
        ).one()
    assert row.text == "v3" and [h["text"] for h in row.history] == ["v1"]


async def test_offset_saved_and_replaced(core: Core) -> None:
    """The polling offset is one row per bot, updated in place."""
    assert await core.repo.load_offset(1) is None
    await core.repo.save_offset(1, 10, now=NOW)
    await core.repo.save_offset(1, 25, now=NOW)
    assert await core.repo.load_offset(1) == 25
