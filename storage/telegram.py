"""What the Telegram channel keeps besides messages: seen update ids, the polling offset
and whether a contact can still be written to.

The channel sees this through its own `TelegramStore` protocol; the composition root hands
it a `TelegramRepository`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update

from dialogs.model import ChannelKind
from storage.db import Database, SyncTx
from storage.sql import insert_or_ignore
from storage.tables import (
    channel_cursors,
    contact_identities,
    contacts,
    telegram_seen_updates,
)

_CHANNEL = ChannelKind.TELEGRAM.value


def _offset_key(bot_id: int) -> str:
    return f"bot:{bot_id}:offset"


class TelegramRepository:
    """Telegram's storage on one database. `retention`: how long an update id counts as seen.

    `db` may be a function returning the database, for channels built before it is opened.
    """

    def __init__(
        self,
        db: Database | Callable[[], Database],
        *,
        retention: timedelta = timedelta(days=2),
    ) -> None:
        self._db_or_getter = db
        self._retention = retention
        self._pruned_at: datetime | None = None

    @property
    def _db(self) -> Database:
        db = self._db_or_getter
        return db if isinstance(db, Database) else db()

    async def has_seen(self, bot_id: int, update_id: int, *, now: datetime) -> bool:
        return update_id in await self.seen_among(bot_id, [update_id], now=now)

    async def seen_among(
        self, bot_id: int, update_ids: Sequence[int], *, now: datetime
    ) -> set[int]:
        """Which of `update_ids` this bot handled within the retention window: one query."""
        async with self._db.read() as tx:
            rows = await tx.execute(
                select(telegram_seen_updates.c.update_id)
                .where(telegram_seen_updates.c.bot_id == bot_id)
                .where(telegram_seen_updates.c.update_id.in_(set(update_ids)))
                .where(telegram_seen_updates.c.seen_at >= now - self._retention)
            )
            return {int(r.update_id) for r in rows}

    async def mark_seen(self, bot_id: int, update_ids: Sequence[int], *, now: datetime) -> None:
        """Record `update_ids` as handled; now and then drop ids older than the retention."""
        prune = self._pruned_at is None or now - self._pruned_at >= timedelta(hours=1)
        await self._db.run_write(_mark_seen, bot_id, update_ids, now, now - self._retention, prune)
        if prune:
            self._pruned_at = now

    async def load_offset(self, bot_id: int) -> int | None:
        async with self._db.read() as tx:
            value = (
                await tx.execute(
                    select(channel_cursors.c.value)
                    .where(channel_cursors.c.channel == _CHANNEL)
                    .where(channel_cursors.c.key == _offset_key(bot_id))
                )
            ).scalar_one_or_none()
        return int(value["offset"]) if isinstance(value, dict) else None

    async def save_offset(self, bot_id: int, offset: int, *, now: datetime) -> None:
        await self._db.run_write(_save_offset, bot_id, offset, now)

    async def set_reachable(self, address: str, reachable: bool) -> bool:
        """Mark the contact behind a Telegram user id; False when no such contact exists."""
        return await self._db.run_write(_set_reachable, address, reachable)

    async def is_reachable(self, address: str) -> bool:
        async with self._db.read() as tx:
            value = (
                await tx.execute(
                    select(contacts.c.reachable)
                    .join(contact_identities, contact_identities.c.contact_id == contacts.c.id)
                    .where(contact_identities.c.channel == _CHANNEL)
                    .where(contact_identities.c.address == address)
                )
            ).scalar_one_or_none()
        return value is None or bool(value)


def _mark_seen(
    tx: SyncTx,
    bot_id: int,
    update_ids: Sequence[int],
    now: datetime,
    prune_before: datetime,
    prune: bool,
) -> None:
    if prune:
        tx.execute(
            delete(telegram_seen_updates).where(telegram_seen_updates.c.seen_at < prune_before)
        )
    if update_ids:
        tx.execute(
            insert_or_ignore(tx, telegram_seen_updates),
            [{"bot_id": bot_id, "update_id": u, "seen_at": now} for u in set(update_ids)],
        )


def _save_offset(tx: SyncTx, bot_id: int, offset: int, now: datetime) -> None:
    where = (channel_cursors.c.channel == _CHANNEL) & (channel_cursors.c.key == _offset_key(bot_id))
    changed = tx.execute(
        update(channel_cursors).where(where).values(value={"offset": offset}, updated_at=now)
    )
    if changed.rowcount == 0:
        tx.execute(
            insert_or_ignore(tx, channel_cursors),
            {
                "channel": _CHANNEL,
                "key": _offset_key(bot_id),
                "value": {"offset": offset},
                "updated_at": now,
            },
        )


def _set_reachable(tx: SyncTx, address: str, reachable: bool) -> bool:
    contact_id = tx.execute(
        select(contact_identities.c.contact_id)
        .where(contact_identities.c.channel == _CHANNEL)
        .where(contact_identities.c.address == address)
    ).scalar_one_or_none()
    if contact_id is None:
        return False
    tx.execute(update(contacts).where(contacts.c.id == contact_id).values(reachable=reachable))
    return True
