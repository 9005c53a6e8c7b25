"""Domain values shared by channels, the inbox and the ingestion pipeline."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal, NewType

ContactId = NewType("ContactId", int)
DialogId = NewType("DialogId", int)
MessageId = NewType("MessageId", int)
TaskId = NewType("TaskId", int)


class ChannelKind(StrEnum):
    EMAIL = "email"
    TELEGRAM = "telegram"
    WHATSAPP = "whatsapp"
    WIDGET = "widget"
    API = "api"


class Direction(StrEnum):
    IN = "in"
    OUT = "out"
    NOTE = "note"


class MessageStatus(StrEnum):
    RECEIVED = "received"
    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"


class DialogStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class TaskStatus(StrEnum):
    WAITING = "waiting"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CANCELLED = "cancelled"


OPEN_TASK_STATUSES = (TaskStatus.WAITING, TaskStatus.ASSIGNED, TaskStatus.IN_PROGRESS)


class AgentStatus(StrEnum):
    ONLINE = "online"
    AWAY = "away"
    OFFLINE = "offline"


class AgentRole(StrEnum):
    AGENT = "agent"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class ContactProfile:
    """Who wrote, as the channel knows them. `address` is the provider's stable id."""

    address: str
    name: str = ""
    email: str | None = None
    phone: str | None = None
    tags: tuple[str, ...] = ()
    attrs: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class InboundAttachment:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """A customer's message as every channel adapter normalises it.

    `external_id` is the provider's id of the message (Telegram chat:message id, WhatsApp
    wamid, email Message-ID, widget client id); it is what makes redelivery harmless.
    `thread_key` separates parallel conversations of one contact on one channel (an email
    thread root); most channels leave it empty: one open dialog per contact and channel.
    """

    channel: ChannelKind
    external_id: str
    contact: ContactProfile
    text: str
    kind: str = "text"
    attachments: tuple[InboundAttachment, ...] = ()
    thread_key: str = ""
    thread_hints: Mapping[str, Any] = field(default_factory=dict)
    subject: str = ""
    tags: tuple[str, ...] = ()
    provider_ts: datetime | None = None
    is_automated: bool = False
    raw: Mapping[str, Any] | None = None


EditOutcome = Literal["applied", "stale", "missing"]


@dataclass(frozen=True, slots=True)
class InboundEdit:
    """The customer changed a message they sent: its new text replaces the stored one in place
    and the old text goes to the message's history. Edits older than the stored one are stale."""

    channel: ChannelKind
    external_id: str
    text: str
    edited_at: datetime
    raw: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class IngestResult:
    """What the sender of an inbound message is told once it is durable."""

    message_id: MessageId
    dialog_id: DialogId
    contact_id: ContactId
    duplicate: bool
    dialog_created: bool = False


@dataclass(frozen=True, slots=True)
class AgentRouting:
    """An agent's routing profile from the rules in force (capacity 0 when it has none)."""

    capacity: int
    skills: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()
