"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Integer
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

# SQLite only auto-increments an INTEGER PRIMARY KEY, so ids are BIGINT elsewhere.
Id = BigInteger().with_variant(Integer(), "sqlite")
Json = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, whatever the engine stores.

    On SQLite the value is stored as SQLAlchemy's DATETIME stores it (naive UTC text,
    ``YYYY-MM-DD HH:MM:SS.ffffff``), but converted in one step each way by the C
    ``isoformat``/``fromisoformat`` instead of two Python ones: routing and ingest bind
    several datetimes per row.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> Any:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)
        return _sqlite_bind

    def result_processor(self, dialect: Dialect, coltype: Any) -> Any:
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)
        return _read

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        """PostgreSQL binds, and SQLite literals (bind_processor covers SQLite binds)."""
        if value is None:
            return None
        value = _utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        return _read(value)


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    return value.astimezone(UTC)


def _sqlite_bind(value: datetime | None) -> str | None:
    if value is None:
        return None
    return _utc(value).replace(tzinfo=None).isoformat(" ", "microseconds")


def _read(value: str | datetime | None) -> datetime | None:
    """A stored moment as an aware UTC datetime (SQLite returns text, also for raw SQL)."""
    if value is None:
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
