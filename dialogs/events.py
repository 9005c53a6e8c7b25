"""Domain events the inbox streams, and the bus that carries them.

Events are published only after the transaction that caused them has committed. On
PostgreSQL they travel through NOTIFY (sent inside that transaction, so PostgreSQL
itself delivers them only on commit) and every process hears them through LISTEN;
on SQLite, with one process, they are delivered in-process.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, fields
from typing import Any, ClassVar

import orjson
import structlog

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Event:
    type: ClassVar[str] = "event"

    def to_dict(self) -> dict[str, Any]:
        # Not dataclasses.asdict: it deep-copies and showed up in ingest profiles; and the
        # field names are looked up once per class (dataclasses.fields builds a tuple a call).
        names = _FIELD_NAMES.get(type(self))
        if names is None:
            names = _FIELD_NAMES[type(self)] = tuple(f.name for f in fields(self))
        out: dict[str, Any] = {"type": self.type}
        for name in names:
            out[name] = getattr(self, name)
        return out


_FIELD_NAMES: dict[type[Event], tuple[str, ...]] = {}


@dataclass(frozen=True, slots=True)
class MessageReceived(Event):
    type: ClassVar[str] = "message_received"
    message_id: int
    dialog_id: int
    direction: str


@dataclass(frozen=True, slots=True)
class MessageUpdated(Event):
    """An outbound message's delivery status changed (queued → sent → delivered → read, failed)."""

    type: ClassVar[str] = "message_updated"
    message_id: int
    dialog_id: int
    status: str


@dataclass(frozen=True, slots=True)
class MessageEdited(Event):
    """The customer edited an inbound message: its text changed in place."""

    type: ClassVar[str] = "message_edited"
    message_id: int
    dialog_id: int


@dataclass(frozen=True, slots=True)
class DialogUpdated(Event):
    type: ClassVar[str] = "dialog_updated"
    dialog_id: int
    created: bool = False


@dataclass(frozen=True, slots=True)
class TaskChanged(Event):
    type: ClassVar[str] = "task_changed"
    task_id: int
    dialog_id: int
    status: str
    assignee: str | None
    queue: str


@dataclass(frozen=True, slots=True)
class AgentChanged(Event):
    """An agent's presence changed: capacity may have freed up for waiting tasks."""

    type: ClassVar[str] = "agent_changed"
    login: str
    status: str


@dataclass(frozen=True, slots=True)
class VisitorTyping(Event):
    """A widget visitor is typing in a dialog (nothing stored; live only)."""

    type: ClassVar[str] = "visitor_typing"
    dialog_id: int


@dataclass(frozen=True, slots=True)
class AgentTyping(Event):
    """An agent is typing a reply in a dialog (the widget shows it to the visitor)."""

    type: ClassVar[str] = "agent_typing"
    dialog_id: int
    login: str


def encode_events(events: list[Event]) -> str:
    return orjson.dumps([e.to_dict() for e in events]).decode()


def encode_batches(events: list[Event], size: int = 40) -> list[str]:
    """`events` as payloads of at most `size` events each, small enough for one NOTIFY."""
    return [encode_events(events[i : i + size]) for i in range(0, len(events), size)]


def decode_events(payload: str) -> list[dict[str, Any]]:
    data = orjson.loads(payload)
    return data if isinstance(data, list) else []


# What a subscriber receives last when the bus closes (the server shuts down): streams end.
BUS_CLOSED: dict[str, Any] = {"type": "bus_closed"}


class EventBus:
    """Fan-out of event dicts to local subscribers, each with a bounded queue.

    A subscriber too slow to keep up loses its oldest events, never blocks publishers.
    """

    def __init__(self, max_backlog: int = 1000) -> None:
        self._subscribers: set[asyncio.Queue[dict[str, Any]]] = set()
        self._max_backlog = max_backlog

    def close(self) -> None:
        """Tell every subscriber the stream is over (they receive BUS_CLOSED and stop)."""
        self.deliver([BUS_CLOSED])

    def deliver(self, events: list[dict[str, Any]]) -> None:
        for queue in self._subscribers:
            for event in events:
                if queue.full():
                    with contextlib.suppress(asyncio.QueueEmpty):
                        queue.get_nowait()
                queue.put_nowait(event)

    @contextlib.contextmanager
    def subscription(self) -> Iterator[asyncio.Queue[dict[str, Any]]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(self._max_backlog)
        self._subscribers.add(queue)
        try:
            yield queue
        finally:
            self._subscribers.discard(queue)

    async def stream(self) -> AsyncIterator[dict[str, Any]]:
        with self.subscription() as queue:
            while (event := await queue.get()) is not BUS_CLOSED:
                yield event
