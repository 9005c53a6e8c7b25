"""Small dialect-aware statement builders shared by the repositories."""

from __future__ import annotations

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
