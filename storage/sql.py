"""Small dialect-aware statement builders shared by the repositories."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

AnyConnection = Connection | AsyncConnection


def insert_or_ignore(conn: AnyConnection, table: Table) -> Any:
    """INSERT … ON CONFLICT DO NOTHING for the connection's dialect."""
    module = sqlite if conn.dialect.name == "sqlite" else postgresql
    return module.insert(table).on_conflict_do_nothing()


def for_update(conn: AnyConnection, stmt: Any, *, skip_locked: bool = False) -> Any:
    """Row locks on PostgreSQL; SQLite's single writer already serialises (BEGIN IMMEDIATE)."""
    if conn.dialect.name == "sqlite":
        return stmt
    return stmt.with_for_update(skip_locked=skip_locked)


def group_pairs(pairs: Iterable[tuple[Any, Any]]) -> dict[Any, list[Any]]:
    """Pairs grouped by their first value, for one `first = x AND second IN (...)` query each.

    SQLite answers a row-value `(a, b) IN (...)` list, and an OR of such groups over a
    partial index, by scanning the whole index; one query per group is an index search
    on both engines, and a batch rarely has more than a few distinct first values.
    """
    grouped: dict[Any, list[Any]] = {}
    for a, b in pairs:
        grouped.setdefault(a, []).append(b)
    return grouped
