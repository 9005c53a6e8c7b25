"""Engines, transactions and migrations for SQLite and PostgreSQL.

SQLite allows one writer at a time. Writes are serialised in-process by one lock and
start with BEGIN IMMEDIATE (no deadlock-prone lock upgrades); reads use a pool of
their own. On PostgreSQL both roles share one pool.

Hot write paths (ingest, routing) are written as plain synchronous functions of a
Connection and run with `run_write`: on SQLite the whole transaction runs in one
writer thread in a single hop, where an async driver would cross threads and wait
for the event loop several times per statement; on PostgreSQL it runs through
`run_sync` on the async connection.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

import orjson
import structlog
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

log = structlog.get_logger(__name__)

# Repositories receive these; the aliases keep SQLAlchemy out of callers' imports.
ReadTx = AsyncConnection
WriteTx = AsyncConnection
SyncTx = Connection

P = ParamSpec("P")
R = TypeVar("R")

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_MIGRATION_LOCK_ID = 0x52454C4159  # "RELAY": pg advisory lock taken while migrating


def is_integrity_error(exc: BaseException) -> bool:
    """True for unique/foreign-key violations that a retry with fresh reads resolves."""
    return isinstance(exc, IntegrityError)


def is_retryable(exc: BaseException) -> bool:
    """Integrity races, PostgreSQL serialization failures/deadlocks, SQLite busy."""
    if isinstance(exc, IntegrityError):
        return True
    if isinstance(exc, DBAPIError):
        message = str(exc.orig).lower()
        return any(s in message for s in ("deadlock", "could not serialize", "database is locked"))
    return False


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


# orjson instead of the stdlib json module for every JSON column: several times faster.
_JSON = {"json_serializer": _json_dumps, "json_deserializer": orjson.loads}


def _sqlite_setup(engine: Engine, *, writer: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's implicit one is wrong here).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")  # acknowledged means on disk
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")


class Database:
    """One database: a writer and a reader role, plus migrations and dialect facts."""

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = url
        parsed = make_url(url)
        self.dialect = parsed.get_backend_name()
        self.is_sqlite = self.dialect == "sqlite"
        if self.is_sqlite:
            database = parsed.database or ""
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            self.writer = create_async_engine(url, pool_size=1, max_overflow=0, **_JSON)
            self.reader = create_async_engine(url, pool_size=pool_size, max_overflow=0, **_JSON)
            self._sync_writer: Engine | None = create_engine(
                parsed.set(drivername="sqlite+pysqlite"), pool_size=1, max_overflow=0, **_JSON
            )
            _sqlite_setup(self.writer.sync_engine, writer=True)
            _sqlite_setup(self.reader.sync_engine, writer=False)
            _sqlite_setup(self._sync_writer, writer=True)
            self._write_thread: ThreadPoolExecutor | None = ThreadPoolExecutor(
                1, thread_name_prefix="sqlite-writer"
            )
        else:
            self._sync_writer = None
            self._write_thread = None
            self.writer = create_async_engine(
                url, pool_size=pool_size, max_overflow=pool_size, **_JSON
            )
            self.reader = self.writer
        # SQLite: one writer at a time in this process, whichever path it takes.
        self._write_lock = asyncio.Lock() if self.is_sqlite else None

    @asynccontextmanager
    async def write(self) -> AsyncIterator[WriteTx]:
        """A write transaction: committed when the block exits, rolled back on error."""
        if self._write_lock is None:
            async with self.writer.begin() as conn:
                yield conn
            return
        async with self._write_lock, self.writer.begin() as conn:
            yield conn

    async def run_write(
        self, fn: Callable[Concatenate[SyncTx, P], R], *args: P.args, **kwargs: P.kwargs
    ) -> R:
        """Run `fn(conn, ...)` in one write transaction, committed when it returns."""
        if self._sync_writer is None:
            async with self.writer.begin() as conn:
                return await conn.run_sync(fn, *args, **kwargs)
        assert self._write_lock is not None and self._write_thread is not None
        call = functools.partial(self._sync_transaction, fn, *args, **kwargs)
        async with self._write_lock:
            return await asyncio.get_running_loop().run_in_executor(self._write_thread, call)

    def _sync_transaction(self, fn: Callable[..., R], *args: Any, **kwargs: Any) -> R:
        assert self._sync_writer is not None
        with self._sync_writer.begin() as conn:
            return fn(conn, *args, **kwargs)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[ReadTx]:
        async with self.reader.connect() as conn:
            yield conn

    async def ping(self) -> None:
        async with self.read() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.writer.dispose()
        if self.reader is not self.writer:
            await self.reader.dispose()
        if self._sync_writer is not None and self._write_thread is not None:
            await asyncio.get_running_loop().run_in_executor(
                self._write_thread, self._sync_writer.dispose
            )
            self._write_thread.shutdown(wait=True)

    async def upgrade(self) -> None:
        """Apply pending migrations; safe when several processes start at once."""
        async with self.writer.connect() as conn:
            if not self.is_sqlite:
                await conn.execute(text(f"SELECT pg_advisory_lock({_MIGRATION_LOCK_ID})"))
            try:
                await conn.run_sync(_run_alembic_upgrade)
                await conn.commit()
            finally:
                if not self.is_sqlite:
                    await conn.execute(text(f"SELECT pg_advisory_unlock({_MIGRATION_LOCK_ID})"))
                    await conn.commit()
        log.info("database_migrated", dialect=self.dialect)


def _run_alembic_upgrade(sync_conn: Any) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = sync_conn
    command.upgrade(config, "head")
