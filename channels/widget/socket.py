"""One visitor's live connection, once greeted (channels/widget/connection.py greets it).

The first frame is `hello` (who the visitor is, and `since`: the newest message its widget
already shows). The server answers `welcome` with what the widget is missing, then streams
new messages. Each visitor message carries a client id that becomes part of the stored
message's external id: a message sent again after a reconnect or a reload is stored once
and acknowledged with the original.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from aiohttp import WSCloseCode, web

from channels.base import Ingest, StatusSink, StatusUpdate
from channels.widget import protocol
from channels.widget.config import WidgetConfig
from channels.widget.hub import Hub
from channels.widget.identity import Visitor
from channels.widget.limits import KeyedLimiter
from channels.widget.store import WidgetStore
from dialogs.model import ChannelKind, ContactProfile, InboundMessage, MessageStatus

log = structlog.get_logger(__name__)

Typing = Callable[[int], Awaitable[None]]  # publishes "the visitor is typing" in a dialog
SEND_TIMEOUT = 10.0
TYPING_EVERY = 2.0  # seconds; more frequent typing frames are dropped


def reply_external_id(message_id: int) -> str:
    """What the widget's `send` tells the outbox a reply is called (status updates use it)."""
    return f"widget:{message_id}"


def external_id(visitor: Visitor, client_id: str) -> str:
    """The stored message's external id: per visitor, so one visitor's ids never meet another's."""
    return f"{visitor.address}/{client_id}"


def build_inbound(
    visitor: Visitor,
    client_id: str,
    text: str,
    *,
    name: str,
    email: str | None,
    site: str,
    attachments: tuple[Any, ...] = (),
) -> InboundMessage:
    return InboundMessage(
        channel=ChannelKind.WIDGET,
        external_id=external_id(visitor, client_id),
        contact=ContactProfile(address=visitor.address, name=name, email=email),
        text=text,
        kind="file" if attachments and not text else "text",
        attachments=attachments,
        thread_key=visitor.address,
        tags=(f"site:{site}",) if site else (),
    )


class VisitorSocket:
    """One open socket; the hub pushes to it, its own loop reads the visitor's frames."""

    def __init__(
        self,
        ws: web.WebSocketResponse,
        visitor: Visitor,
        *,
        ip: str,
        site: str,
        hello: protocol.Hello,
        deps: SocketDeps,
    ) -> None:
        self.ws = ws
        self.visitor = visitor
        self.address = visitor.address
        self.ip = ip
        self.site = site
        # A signed token's profile wins over what the page put in the hello.
        self.name = visitor.name or hello.name
        self.email = visitor.email or (str(hello.email) if hello.email else None)
        self.since = hello.since
        self.deps = deps
        self._send_lock = asyncio.Lock()
        self._typing_at = 0.0
        self._dialogs: list[int] = []
        self._acked: deque[int] = deque(maxlen=64)  # ids of its own messages, acknowledged
        self._read_up_to = 0

    async def push(self, frame: dict[str, Any]) -> None:
        if self.ws.closed:
            return
        try:
            async with self._send_lock:
                await asyncio.wait_for(self.ws.send_json(frame), SEND_TIMEOUT)
        except (TimeoutError, ConnectionError, RuntimeError):
            # A stalled or vanished peer: drop it; the widget resumes when it reconnects.
            await self.ws.close()

    async def close(self) -> None:
        await self.ws.close(code=WSCloseCode.SERVICE_RESTART, message=b"server restarting")

    async def resume(self) -> None:
        messages = await self.deps.store.recent_messages(
            self.address,
            since=self.since,
            overlap=self.deps.config.resume_overlap,
            limit=self.deps.config.history_limit,
        )
        await self.deliver(messages)

    async def deliver(self, messages: list[dict[str, Any]]) -> None:
        for message in messages:
            await self.push({"type": "message", "message": message})
        if not self.ws.closed:
            await self._mark(messages, MessageStatus.SENT.value, MessageStatus.DELIVERED)

    async def _mark(
        self, messages: list[dict[str, Any]], current: str, status: MessageStatus
    ) -> None:
        """Record replies as delivered (pushed to the widget) or read (shown in view)."""
        if self.deps.status_update is None:
            return
        for m in messages:
            if m["direction"] == "out" and m["status"] == current:
                await self.deps.status_update(
                    StatusUpdate("widget", reply_external_id(m["id"]), status)
                )

    async def welcome(self) -> None:
        if self.visitor.name or self.visitor.email:
            # The host site vouches for this profile: keep the contact in step with it (its
            # email may merge it with a known contact). A user who has not written yet has no
            # contact: the profile travels with the first message instead.
            await self.deps.store.save_profile(self.address, name=self.name, email=self.email)
        self._dialogs = await self.deps.store.thread_dialogs(self.address)
        self.deps.hub.join(self, self._dialogs)  # before reading, so nothing falls between
        messages = await self.deps.store.recent_messages(
            self.address,
            since=self.since,
            overlap=self.deps.config.resume_overlap,
            limit=self.deps.config.history_limit,
        )
        await self.push(
            {
                "type": "welcome",
                "visitor": None if self.visitor.signed else self.address,
                "messages": messages,
                "heartbeat": self.deps.config.heartbeat,
            }
        )
        await self._mark(messages, MessageStatus.SENT.value, MessageStatus.DELIVERED)

    async def handle(self, frame: protocol.ClientFrame) -> None:
        if isinstance(frame, protocol.Message):
            await self._message(frame)
        elif isinstance(frame, protocol.Ping):
            await self.push({"type": "pong"})
        elif isinstance(frame, protocol.Typing):
            await self._typing()
        elif isinstance(frame, protocol.Identify):
            await self._identify(frame)
        elif isinstance(frame, protocol.Read):
            await self._read(frame.message_id)
        else:
            await self.push(protocol.build_error("bad_frame", "hello was already sent"))

    async def _message(self, frame: protocol.Message) -> None:
        wait = max(self.deps.visitor_limiter.take(self.address), self.deps.ip_limiter.take(self.ip))
        if wait > 0:
            log.info("widget_rate_limited", visitor=self.address)
            await self.push(
                protocol.build_error(
                    "rate_limited",
                    "too many messages; sent again shortly",
                    client_id=frame.client_id,
                    retry_after=round(wait, 2),
                )
            )
            return
        inbound = build_inbound(
            self.visitor,
            frame.client_id,
            frame.text,
            name=self.name,
            email=self.email,
            site=self.site,
        )
        result = await self.deps.ingest(inbound)
        self.deps.hub.add_dialog(self.address, result.dialog_id)
        if result.dialog_id not in self._dialogs:
            self._dialogs.append(result.dialog_id)
        self._acked.append(result.message_id)
        if result.duplicate:  # stored before, perhaps with other text: show what is stored
            stored = await self.deps.store.messages_by_id([result.message_id])
            message = stored[0] if stored else None
        else:  # just stored from this frame: no need to read it back
            message = {
                "id": result.message_id,
                "dialog_id": result.dialog_id,
                "direction": "in",
                "text": frame.text,
                "client_id": frame.client_id,
                "attachments": [],
                "status": MessageStatus.RECEIVED.value,
                "created_at": None,  # the widget resumes from the newest time it was given
                "visible_at": None,
            }
        await self.push(
            {
                "type": "ack",
                "client_id": frame.client_id,
                "duplicate": result.duplicate,
                "message": message,
            }
        )

    def has_seen(self, message_id: int) -> bool:
        """Whether this socket was already sent the message (its own, acknowledged)."""
        return message_id in self._acked

    async def _typing(self) -> None:
        now = asyncio.get_running_loop().time()
        if self.deps.typing is None or not self._dialogs or now - self._typing_at < TYPING_EVERY:
            return
        self._typing_at = now
        await self.deps.typing(self._dialogs[-1])

    async def _read(self, up_to: int) -> None:
        if up_to <= self._read_up_to or self.deps.status_update is None:
            return  # nothing new (the widget repeats itself on focus and reconnects)
        self._read_up_to = up_to
        for message_id in await self.deps.store.unread_replies(self.address, up_to=up_to):
            update = StatusUpdate("widget", reply_external_id(message_id), MessageStatus.READ)
            await self.deps.status_update(update)

    async def _identify(self, frame: protocol.Identify) -> None:
        self.name = frame.name or self.name
        self.email = str(frame.email) if frame.email else self.email
        contact_id = await self.deps.store.save_profile(
            self.address, name=self.name, email=self.email
        )
        log.info("widget_visitor_identified", visitor=self.address, contact_id=contact_id)
        await self.push({"type": "identified", "name": self.name, "email": self.email})


class SocketDeps:
    """What every socket shares: the core's callbacks, storage, the hub and the limiters."""

    def __init__(
        self,
        config: WidgetConfig,
        *,
        ingest: Ingest,
        store: WidgetStore,
        hub: Hub,
        typing: Typing | None,
        status_update: StatusSink | None,
    ) -> None:
        self.config = config
        self.ingest = ingest
        self.store = store
        self.hub = hub
        self.typing = typing
        self.status_update = status_update
        self.visitor_limiter = KeyedLimiter(config.visitor_rate)
        self.ip_limiter = KeyedLimiter(config.ip_rate)
        self.connect_limiter = KeyedLimiter(config.connect_rate)
