"""Request and response bodies of the REST API. Responses double as the OpenAPI schemas."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ChannelName = Literal["email", "telegram", "whatsapp", "widget", "api"]
TaskStatusName = Literal["waiting", "assigned", "in_progress", "done", "cancelled"]
PriorityName = Literal["low", "normal", "high", "urgent"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ---- requests ----------------------------------------------------------------------------------


class ContactIn(Strict):
    id: str = Field(min_length=1, max_length=320, description="the contact's id on that channel")
    name: str = Field("", max_length=200)
    email: str | None = Field(None, max_length=320)
    phone: str | None = Field(None, max_length=40)
    tags: list[str] = Field(default_factory=list, max_length=50)
    attrs: dict[str, str] = Field(default_factory=dict, max_length=50)


class AttachmentIn(Strict):
    filename: str = Field(min_length=1, max_length=300)
    content_type: str = Field("application/octet-stream", max_length=200)
    data_base64: str = Field(description="the file's bytes, base64-encoded")


class MessageIn(Strict):
    channel: ChannelName = "api"
    external_id: str = Field(
        min_length=1,
        max_length=300,
        description="the sender's id of this message: re-posting it is harmless",
    )
    contact: ContactIn
    text: str = Field("", max_length=65536)
    kind: str = Field("text", max_length=20)
    subject: str = Field("", max_length=500)
    thread: str = Field(
        "", max_length=500, description="separates parallel conversations of one contact"
    )
    tags: list[str] = Field(default_factory=list, max_length=50)
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=20)
    automated: bool = Field(False, description="sent by a machine: never auto-replied to")


# ---- responses ---------------------------------------------------------------------------------


class Error(Strict):
    code: str
    message: str


class ErrorOut(Strict):
    error: Error


class Health(Strict):
    status: Literal["ok"]


class MessageAccepted(Strict):
    id: int
    dialog_id: int
    contact_id: int
    duplicate: bool


class Identity(Strict):
    channel: str
    address: str


class ContactOut(Strict):
    id: int
    name: str
    email: str | None
    phone: str | None
    tags: list[str]
    identities: list[Identity]


class AttachmentOut(Strict):
    id: int
    filename: str
    content_type: str
    size: int


class MessageOriginal(Strict):
    """An email's whole text and sanitised HTML, as received (`text` holds the new part)."""

    subject: str
    text: str
    html: str | None
    notes: list[str]


class MessageOut(Strict):
    id: int
    dialog_id: int | None
    direction: Literal["in", "out", "note"]
    channel: str
    external_id: str | None
    kind: str
    text: str
    author: str | None
    attachments: list[AttachmentOut]
    status: Literal["received", "queued", "sent", "delivered", "read", "failed"]
    error: str | None
    created_at: str
    edited_at: str | None
    automated: bool = False  # from an auto-responder, list or bounce (no auto-reply goes to it)
    original: MessageOriginal | None = None


class Sla(Strict):
    policy: str | None
    first_response_due: str | None
    resolution_due: str | None
    breached: bool


class DecisionOut(Strict):
    rules: list[str]
    reason: str
    rules_version: str | None
    trace: list[dict[str, object]]
    assignment: dict[str, object] | None


class TaskOut(Strict):
    id: int
    dialog_id: int
    title: str
    queue: str
    status: TaskStatusName
    assignee: str | None
    priority: str
    tags: list[str]
    sla: Sla
    decision: DecisionOut
    on_hold: bool = Field(description="waiting on the customer: SLA clocks paused")
    created_at: str
    assigned_at: str | None
    updated_at: str
    closed_at: str | None


class DialogOut(Strict):
    id: int
    channel: str
    status: Literal["open", "closed"]
    contact: ContactOut
    tags: list[str]
    priority: str
    subject: str
    created_at: str
    last_message_at: str
    closed_at: str | None


class DialogDetail(DialogOut):
    messages: list[MessageOut]
    tasks: list[TaskOut]


class AgentOut(Strict):
    login: str
    name: str
    role: Literal["agent", "admin"]
    status: Literal["online", "away", "offline"]
    capacity: int
    load: float
    skills: list[str]
    teams: list[str]


class DialogPage(Strict):
    items: list[DialogOut]
    next_cursor: str | None


class TaskPage(Strict):
    items: list[TaskOut]
    next_cursor: str | None


class AgentPage(Strict):
    items: list[AgentOut]
    next_cursor: str | None
