"""What the email channel keeps besides messages: one cursor per mailbox (UIDVALIDITY, the
last UID processed, when, and the latest quarantine reasons) in `channel_cursors`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update

from dialogs.model import ChannelKind
from storage.db import Database, SyncTx
from storage.sql import insert_or_ignore
from storage.tables import channel_cursors

_CHANNEL = ChannelKind.EMAIL.value


class EmailCursorRepository:
    """`db` may be a function returning the database, for channels built before it opens."""

    def __init__(self, db: Database | Callable[[], Database]) -> None:
        self._db_or_getter = db

    @property
    def _db(self) -> Database:
        db = self._db_or_getter
        return db if isinstance(db, Database) else db()

    async def load_cursor(self, key: str) -> dict[str, Any] | None:
        async with self._db.read() as tx:
            value = (
                await tx.execute(
                    select(channel_cursors.c.value)
                    .where(channel_cursors.c.channel == _CHANNEL)
                    .where(channel_cursors.c.key == key)
                )
            ).scalar_one_or_none()
        return dict(value) if isinstance(value, dict) else None

    async def save_cursor(self, key: str, value: dict[str, Any]) -> None:
        await self._db.run_write(_save, key, value, datetime.now(UTC))


def _save(tx: SyncTx, key: str, value: dict[str, Any], now: datetime) -> None:
    row = {"channel": _CHANNEL, "key": key, "value": value, "updated_at": now}
    inserted = tx.execute(insert_or_ignore(tx, channel_cursors), row)
    if not inserted.rowcount:
        tx.execute(
            update(channel_cursors)
            .where(channel_cursors.c.channel == _CHANNEL, channel_cursors.c.key == key)
            .values(value=value, updated_at=now)
        )
