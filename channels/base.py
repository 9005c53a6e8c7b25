"""What every channel adapter is to the core, and what the core is to an adapter.

A channel is a leaf module: it imports `dialogs.model` and this module only. The core is
injected into it as callbacks (`Ingest`, `StatusSink`); the outbox hands it one
`OutboundMessage` at a time and records the `SendReceipt` or the `ChannelError`.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from aiohttp import web

from dialogs.model import EditOutcome, InboundEdit, InboundMessage, IngestResult, MessageStatus

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True, slots=True)
class OutboundAttachment:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """What the outbox hands a channel: one reply to send to `address`."""

    message_id: int
    dialog_id: int
    channel: str
    address: str  # the contact's identity on that channel (contact_identities.address)
    text: str
    attachments: tuple[OutboundAttachment, ...] = ()
    reply_to_external_id: str | None = None  # the inbound message it answers, when known
    template: Mapping[str, Any] | None = None  # WhatsApp template: name, language, parameters
    subject: str = ""  # the dialog's subject (email)
    # The conversation's provider ids this reply follows, oldest first, ending with the
    # contact's latest message (email References / In-Reply-To).
    references: tuple[str, ...] = ()
    automated: bool = False  # an automatic reply, not an agent's (email Auto-Submitted)


@dataclass(frozen=True, slots=True)
class SendReceipt:
    external_id: str | None  # the provider's id of the sent message


class ChannelError(Exception):
    """A send that did not happen. `retryable` decides between a retry and a final failure.

    `retry_after` is the provider's own wait (Telegram 429 retry_after), preferred to backoff.
    `message` is shown to agents on the failed message: say what happened and what to do.
    """

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        retry_after: float | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.retry_after = retry_after
        self.code = code


@dataclass(frozen=True, slots=True)
class StatusUpdate:
    """The provider says what became of a message we sent (WhatsApp statuses webhook)."""

    channel: str
    external_id: str  # the provider's id from the SendReceipt
    status: MessageStatus  # SENT, DELIVERED, READ or FAILED
    error: str | None = None
    timestamp: datetime | None = None


class StatusNotYetKnown(Exception):
    """A status for a message id not stored yet while a send on the channel is in flight.

    The provider can report on a message before our send has committed its id; the channel
    should answer the webhook with a retryable error so the provider delivers it again.
    """


Ingest = Callable[[InboundMessage], Awaitable[IngestResult]]
ApplyEdit = Callable[[InboundEdit], Awaitable[EditOutcome]]
StatusSink = Callable[[StatusUpdate], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class RateLimit:
    """Sends per second a provider allows: overall, and to one address (chat, phone number).

    A channel declares it as a `rate_limit` attribute; the outbox keeps a token bucket for
    each. None means no limit of that kind.
    """

    per_second: float | None = None
    per_address_per_second: float | None = None
    burst: int = 1


class Channel(Protocol):
    """A channel adapter. Optional attributes the outbox reads when present:
    `rate_limit: RateLimit`, `reply_window: timedelta` (free-text replies are allowed
    only this long after the contact's last inbound message; WhatsApp's 24 hours) and
    `pace(message) -> (key, per_second)` (see `pace_of`).
    """

    kind: str

    async def send(self, message: OutboundMessage) -> SendReceipt: ...

    def routes(self) -> Sequence[tuple[str, str, Handler]]:
        """(method, path, handler) of the channel's webhooks; may be empty."""
        ...

    async def start(self) -> None:
        """Start pollers; a no-op for webhook channels."""
        ...

    async def stop(self) -> None: ...


def rate_limit_of(channel: Channel) -> RateLimit | None:
    value = getattr(channel, "rate_limit", None)
    return value if isinstance(value, RateLimit) else None


def pace_of(channel: Channel, message: OutboundMessage) -> tuple[str, float | None]:
    """The key and per-second rate that pace sends to one destination. A channel whose
    destinations differ (a Telegram group is slower than a private chat, and is not the
    contact's own address) has a `pace(message)` method; otherwise: the contact's address at
    the channel's `per_address_per_second`."""
    pace = getattr(channel, "pace", None)
    if callable(pace):
        key, rate = pace(message)
        return str(key), float(rate)
    limit = rate_limit_of(channel)
    return message.address, limit.per_address_per_second if limit else None


def reply_window_of(channel: Channel) -> timedelta | None:
    value = getattr(channel, "reply_window", None)
    return value if isinstance(value, timedelta) else None


def backoff(attempt: int, *, base: float = 1.0, cap: float = 300.0) -> float:
    """Seconds to wait before retry `attempt` (1-based): exponential with full jitter."""
    ceiling = min(cap, base * 2 ** max(0, min(attempt - 1, 30)))
    return random.uniform(0, ceiling)  # noqa: S311 -- jitter, not cryptography
