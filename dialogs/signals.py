"""Live-only events (who is typing): published to every process, stored nowhere.

They travel the same way as the events of stored changes: NOTIFY on PostgreSQL (in a
transaction of their own, which writes nothing), in-process on SQLite.
"""

from __future__ import annotations

from collections.abc import Sequence

from dialogs.events import Event, encode_events
from storage import Database
from storage.notify import EventRelay


class Signals:
    def __init__(self, db: Database, relay: EventRelay) -> None:
        self._db = db
        self._relay = relay

    async def publish(self, events: Sequence[Event]) -> None:
        payloads = [encode_events(list(events))]
        if self._relay.shared:
            async with self._db.write() as tx:
                await self._relay.stage(tx, payloads)
        self._relay.committed(payloads)
