"""Cross-process event delivery: NOTIFY inside the writing transaction, LISTEN everywhere.

PostgreSQL delivers a NOTIFY only when its transaction commits and to every listening
session, the sender's own process included, so all processes see the same stream. Each
payload goes out prefixed with its process's origin id, so a process can tell the changes
other processes made (which may call for work here) from its own (which called for it).
SQLite has no such thing and serves one process: events are handed over in-process
right after commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import asyncpg
import structlog
from sqlalchemy import ARRAY, Text, bindparam, text
from sqlalchemy.engine import make_url

from storage.db import Database, SyncTx, WriteTx

log = structlog.get_logger(__name__)

CHANNEL = "relaydesk_events"
_MAX_PAYLOAD = 7000  # PostgreSQL refuses NOTIFY payloads from 8000 bytes

Deliver = Callable[[str], None]
OnRemote = Callable[[str, bool], None]  # (payload, whether the sender runs the workers)
# One statement for a transaction's payloads, in order (the array's order: a function scan
# yields its rows as given): a statement per payload was a round trip each.
_NOTIFY = text("SELECT pg_notify(:c, p) FROM unnest(CAST(:ps AS text[])) AS p").bindparams(
    bindparam("ps", type_=ARRAY(Text()))
)


def _checked(payloads: Sequence[str]) -> Sequence[str]:
    if any(len(p.encode()) > _MAX_PAYLOAD for p in payloads):
        raise ValueError("event payload too large for NOTIFY")
    return payloads


class EventRelay:
    """Carries encoded event batches from writers to this process's `deliver` callback, and
    those another process wrote also to `on_remote`, saying whether that process runs the
    workers (routing, dispatch, outbox) or only ingests."""

    def __init__(
        self,
        db: Database,
        deliver: Deliver,
        *,
        on_remote: OnRemote | None = None,
        runs_workers: bool = True,
    ) -> None:
        self._db = db
        self._deliver = deliver
        self._on_remote = on_remote
        self._origin = uuid.uuid4().hex[:12] + ("w|" if runs_workers else "i|")
        self._conn: asyncpg.Connection | None = None
        self._task: asyncio.Task[None] | None = None
        self._lost = asyncio.Event()

    @property
    def shared(self) -> bool:
        """True when other processes hear this process's events (PostgreSQL)."""
        return not self._db.is_sqlite

    async def stage(self, tx: WriteTx, payloads: Sequence[str]) -> None:
        """Queue payloads in `tx`; PostgreSQL sends them if and when it commits."""
        if self.shared and payloads:
            await tx.execute(_NOTIFY, self._params(payloads))

    def stage_sync(self, tx: SyncTx, payloads: Sequence[str]) -> None:
        """`stage` for transactions run with Database.run_write."""
        if self.shared and payloads:
            tx.execute(_NOTIFY, self._params(payloads))

    def _params(self, payloads: Sequence[str]) -> dict[str, Any]:
        return {"c": CHANNEL, "ps": [self._origin + p for p in _checked(payloads)]}

    def committed(self, payloads: Sequence[str]) -> None:
        """Call after the staging transaction committed."""
        if not self.shared:
            for payload in payloads:
                self._deliver(payload)

    async def start(self) -> None:
        if self.shared:
            await self._connect()
            self._task = asyncio.create_task(self._watch(), name="event-relay-watch")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.close(timeout=2)

    async def _connect(self) -> None:
        url = make_url(self._db.url)
        self._conn = await asyncpg.connect(
            host=url.host or "127.0.0.1",
            port=url.port or 5432,
            user=url.username,
            password=url.password,
            database=url.database,
        )
        await self._conn.add_listener(CHANNEL, self._on_notify)
        self._conn.add_termination_listener(lambda _conn: self._lost.set())

    def _on_notify(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        origin, _, body = payload.partition("|")
        self._deliver(body)
        if self._on_remote is not None and origin + "|" != self._origin:
            self._on_remote(body, origin.endswith("w"))

    async def _watch(self) -> None:
        """Reconnect the listener when its connection drops; subscribers are told to resync."""
        delay = 0.1
        while True:
            await self._lost.wait()
            try:
                await self._connect()
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("event_listener_reconnect_failed", error=str(exc))
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10)
                continue
            self._lost.clear()
            delay = 0.1
            log.info("event_listener_reconnected")
            resync = '[{"type": "resync"}]'
            self._deliver(resync)
            if self._on_remote is not None:  # what other processes did meanwhile is unknown
                self._on_remote(resync, False)
