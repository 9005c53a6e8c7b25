"""This process's open widget sockets, fed from the core's event stream.

Delivery is from storage: an event says a message was stored in a dialog; the hub reads
it once and pushes it to every socket of that dialog's visitor held by this process. On
PostgreSQL the events of every process arrive here through LISTEN/NOTIFY, so a reply
stored or sent by another process reaches a socket held by this one.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any, Protocol

import structlog

from channels.widget.store import WidgetStore

log = structlog.get_logger(__name__)

EventSource = Callable[[], AsyncIterator[dict[str, Any]]]


class Subscriber(Protocol):
    address: str

    async def close(self) -> None: ...

    def has_seen(self, message_id: int) -> bool: ...

    async def push(self, frame: dict[str, Any]) -> None: ...

    async def deliver(self, messages: list[dict[str, Any]]) -> None:
        """Push messages of the conversation (replies pushed count as delivered)."""
        ...

    async def resume(self) -> None:
        """Send what may have been missed (after the event stream itself was interrupted)."""
        ...


class Hub:
    def __init__(self, store: WidgetStore, events: EventSource) -> None:
        self._store = store
        self._events = events
        self._by_address: dict[str, set[Subscriber]] = {}
        self._address_of: dict[int, str] = {}  # dialog id -> visitor address, for live ones
        self._dialogs_of: dict[str, set[int]] = {}
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="widget-hub")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def join(self, subscriber: Subscriber, dialog_ids: list[int]) -> None:
        self._by_address.setdefault(subscriber.address, set()).add(subscriber)
        for dialog_id in dialog_ids:
            self.add_dialog(subscriber.address, dialog_id)

    def add_dialog(self, address: str, dialog_id: int) -> None:
        if address in self._by_address:
            self._address_of[dialog_id] = address
            self._dialogs_of.setdefault(address, set()).add(dialog_id)

    def leave(self, subscriber: Subscriber) -> None:
        subs = self._by_address.get(subscriber.address)
        if subs is None:
            return
        subs.discard(subscriber)
        if not subs:
            del self._by_address[subscriber.address]
            for dialog_id in self._dialogs_of.pop(subscriber.address, ()):
                self._address_of.pop(dialog_id, None)

    @property
    def sockets(self) -> int:
        return sum(len(s) for s in self._by_address.values())

    async def disconnect_all(self) -> None:
        """Close every socket (server going down): widgets reconnect, to another process if
        there is one, and resume from their last message."""
        for subs in list(self._by_address.values()):
            for sub in list(subs):
                await sub.close()

    async def _run(self) -> None:
        async for event in self._events():
            try:
                await self._handle(event)
            except Exception:  # one bad read must not stop live delivery for everyone
                log.exception("widget_event_failed", event_type=event.get("type"))

    async def _handle(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        # A visitor's message shows once stored, a reply once sent (the outbox handed it over).
        if (kind == "message_received" and event.get("direction") == "in") or (
            kind == "message_updated" and event.get("status") == "sent"
        ):
            address = self._address_of.get(int(event["dialog_id"]))
            message_id = int(event["message_id"])
            subs = self._by_address.get(address or "", set())
            # A visitor's message was acknowledged to the socket that sent it: read it only
            # for the visitor's other sockets (tabs, devices), if there are any.
            if address is not None and any(not sub.has_seen(message_id) for sub in subs):
                found = await self._store.messages_by_id([message_id])
                for sub in list(subs):
                    if found and not sub.has_seen(message_id):
                        await sub.deliver(found)
        elif kind == "dialog_updated" and event.get("created") and self._by_address:
            # A visitor's new dialog (another tab, another process): its first message's
            # event came just before this one, so read the thread's latest again.
            dialog_id = int(event["dialog_id"])
            address = await self._store.dialog_thread(dialog_id)
            if address is not None and address in self._by_address:
                self.add_dialog(address, dialog_id)
                for sub in list(self._by_address.get(address, ())):
                    await sub.resume()
        elif kind == "agent_typing":
            address = self._address_of.get(int(event["dialog_id"]))
            if address is not None:
                await self._push(address, {"type": "typing"})
        elif kind == "resync":
            for subs in list(self._by_address.values()):
                for sub in list(subs):
                    await sub.resume()

    async def _push(self, address: str, frame: dict[str, Any]) -> None:
        for sub in list(self._by_address.get(address, ())):
            await sub.push(frame)
