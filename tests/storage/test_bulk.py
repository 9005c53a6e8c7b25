"""storage.bulk: rows inserted in one go store exactly what SQLAlchemy's insert() stores, and
their ids come back in the order the rows were given."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Column, Integer, MetaData, String, Table, delete, select, text

from storage import Database
from storage.bulk import insert_returning_ids
from storage.db import SyncTx
from storage.types import Id, Json, UTCDateTime

NOTES = Table(
    "bulk_notes",
    MetaData(),
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("due", UTCDateTime),
    Column("doc", Json),
    Column("label", String(20)),
    Column("n", Integer, nullable=False, server_default=text("7")),
)
NOW = datetime(2026, 3, 2, 10, 0, 0, 123456, tzinfo=UTC)


def note(i: int, **extra: Any) -> dict[str, Any]:
    return {
        "at": NOW,  # one object for every row, as a batch's `now`
        "due": None if i % 2 else NOW + timedelta(minutes=i),
        "doc": None if i % 3 == 0 else {"i": i, "tags": ["a", "ü"], "nested": {"x": [1.5]}},
        "label": f"note {i}",
        **extra,
    }


def fresh_table(tx: SyncTx) -> None:
    NOTES.drop(tx, checkfirst=True)  # PostgreSQL: the test database may have it from before
    NOTES.create(tx)


def stored(tx: SyncTx) -> list[tuple[Any, ...]]:
    """Each row as the database holds it (SQLite: the text written), in id order."""
    return [
        tuple(r)
        for r in tx.execute(text("SELECT at, due, doc, label, n FROM bulk_notes ORDER BY id"))
    ]


async def test_rows_are_stored_as_insert_stores_them(db: Database) -> None:
    rows = [note(i) for i in range(6)]
    rows[1]["at"] = datetime(2026, 3, 2, 13, 30, tzinfo=timezone(timedelta(hours=3, minutes=30)))

    def through_insert(tx: SyncTx) -> list[tuple[Any, ...]]:
        fresh_table(tx)
        tx.execute(NOTES.insert(), rows)
        by_insert = stored(tx)
        tx.execute(delete(NOTES))
        insert_returning_ids(tx, NOTES, rows)
        return [by_insert, stored(tx)]

    by_insert, by_bulk = await db.run_write(through_insert)
    assert by_bulk == by_insert
    assert len(by_bulk) == 6 and by_bulk[0][-1] == 7  # the server default still applies


async def test_ids_come_back_in_the_order_the_rows_were_given(db: Database) -> None:
    def insert_batches(tx: SyncTx) -> list[tuple[list[int], list[int]]]:
        fresh_table(tx)
        out = []
        for first in (0, 5, 7):  # the table has rows, and its newest one is deleted between
            ids = insert_returning_ids(tx, NOTES, [note(i) for i in range(first, first + 5)])
            by_id = dict(tx.execute(select(NOTES.c.id, NOTES.c.label)).all())
            out.append((ids, [int(by_id[i].split()[1]) for i in ids]))
            tx.execute(delete(NOTES).where(NOTES.c.id == max(ids)))
        return out

    batches = await db.run_write(insert_batches)
    assert [numbers for _, numbers in batches] == [
        [0, 1, 2, 3, 4],
        [5, 6, 7, 8, 9],
        [7, 8, 9, 10, 11],
    ]
    assert all(len(set(ids)) == 5 for ids, _ in batches)


async def test_no_rows_insert_nothing(db: Database) -> None:
    def insert_none(tx: SyncTx) -> tuple[list[int], int]:
        fresh_table(tx)
        ids = insert_returning_ids(tx, NOTES, [])
        return ids, len(stored(tx))

    assert await db.run_write(insert_none) == ([], 0)
