"""Pure: one Telegram `Update` → what it means to the help desk.

A message becomes an `Incoming` (files still to fetch), an edit an `Edit`, a block or
unblock of the bot a `Membership` change; everything else is `Ignored` with a reason.
External ids are "<chat id>:<message id>" (a callback query's "callback:<id>"), so the
same message redelivered under another update id is still one message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiogram.types import (
    CallbackQuery,
    ChatMemberUpdated,
    Message,
    MessageOriginChat,
    MessageOriginHiddenUser,
    MessageOriginUnion,
    MessageOriginUser,
    Update,
)

from channels.telegram.entities import mentions_bot, normalize_entities
from channels.telegram.media import FileRef, parse_content
from dialogs.model import ChannelKind, ContactProfile, InboundMessage

GROUP_CHATS = ("group", "supergroup")
# The update types the bot asks for (getUpdates / setWebhook allowed_updates).
ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member"]


@dataclass(frozen=True, slots=True)
class BotIdentity:
    id: int
    username: str


@dataclass(frozen=True, slots=True)
class Incoming:
    """A message to ingest once its `files` are fetched; a callback query is answered after."""

    message: InboundMessage
    files: tuple[FileRef, ...] = ()
    callback_query_id: str | None = None


@dataclass(frozen=True, slots=True)
class Edit:
    """A stored message's new text. `incoming` is ingested if the original never arrived."""

    incoming: Incoming
    edited_at: datetime
    addressed: bool  # a group message that names the bot (else not worth ingesting afresh)


@dataclass(frozen=True, slots=True)
class Membership:
    """The user blocked (reachable=False) or unblocked the bot in their private chat."""

    address: str
    reachable: bool
    status: str


@dataclass(frozen=True, slots=True)
class Ignored:
    reason: str


Normalized = Incoming | Edit | Membership | Ignored


def external_id(chat_id: int, message_id: int) -> str:
    return f"{chat_id}:{message_id}"


def parse_external_id(value: str) -> tuple[int, int] | None:
    chat, _, message = value.partition(":")
    try:
        return int(chat), int(message)
    except ValueError:
        return None


def normalize_update(update: Update, bot: BotIdentity) -> Normalized:
    if update.message is not None:
        return _normalize_message(update.update_id, update.message, bot)
    if update.edited_message is not None:
        return _normalize_edit(update.update_id, update.edited_message, bot)
    if update.callback_query is not None:
        return _normalize_callback(update.update_id, update.callback_query)
    if update.my_chat_member is not None:
        return _normalize_membership(update.my_chat_member)
    return Ignored(f"unsupported update type: {update.event_type}")


def _normalize_message(update_id: int, m: Message, bot: BotIdentity) -> Incoming | Ignored:
    why_not = _why_ignored(m, bot)
    if why_not:
        return Ignored(why_not)
    return _incoming(update_id, m)


def _why_ignored(m: Message, bot: BotIdentity) -> str:
    user = m.from_user
    if user is None:
        return "message without a sender (channel post)"
    if user.is_bot:
        return "message from a bot"
    if m.chat.type in GROUP_CHATS and not is_addressed(m, bot):
        return "group message not addressed to the bot"
    if m.chat.type not in (*GROUP_CHATS, "private"):
        return f"message in a {m.chat.type} chat"
    return ""


def is_addressed(m: Message, bot: BotIdentity) -> bool:
    """A group message is for the bot when it mentions it or replies to one of its messages."""
    replied = m.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.id == bot.id:
        return True
    text = m.text if m.text is not None else (m.caption or "")
    entities = m.entities if m.text is not None else m.caption_entities
    return mentions_bot(text, entities, bot_id=bot.id, username=bot.username)


def _incoming(update_id: int, m: Message) -> Incoming:
    assert m.from_user is not None
    content = parse_content(m)
    text = m.text if m.text is not None else (m.caption or "")
    entities = m.entities if m.text is not None else m.caption_entities
    raw: dict[str, Any] = {"update_id": update_id}
    if entities:
        raw["entities"] = normalize_entities(text, entities)
    if content.data is not None:
        raw[content.kind] = content.data
    hints: dict[str, Any] = {"chat_id": m.chat.id}
    if m.reply_to_message is not None:
        hints["reply_to"] = external_id(m.chat.id, m.reply_to_message.message_id)
    if m.media_group_id:
        hints["media_group_id"] = m.media_group_id
    if m.forward_origin is not None:
        raw["forward_origin"] = describe_origin(m.forward_origin)
    user = m.from_user
    attrs = {"username": user.username or "", "language_code": user.language_code or ""}
    phone = None
    if m.contact is not None and m.contact.user_id == user.id:
        phone = m.contact.phone_number  # the customer shared their own number
    contact = ContactProfile(
        address=str(user.id),
        name=" ".join(p for p in (user.first_name, user.last_name) if p),
        phone=phone,
        attrs={k: v for k, v in attrs.items() if v},
    )
    message = InboundMessage(
        channel=ChannelKind.TELEGRAM,
        external_id=external_id(m.chat.id, m.message_id),
        contact=contact,
        text=text or content.text,
        kind=content.kind,
        thread_key="" if m.chat.type == "private" else f"chat:{m.chat.id}",
        thread_hints=hints,
        provider_ts=m.date,
        raw=raw,
    )
    return Incoming(message, content.files)


def describe_origin(origin: MessageOriginUnion) -> dict[str, Any]:
    """Who wrote a forwarded message first, as far as Telegram tells."""
    out: dict[str, Any] = {"type": _value(origin.type), "date": origin.date.isoformat()}
    if isinstance(origin, MessageOriginUser):
        u = origin.sender_user
        out["name"] = " ".join(p for p in (u.first_name, u.last_name) if p)
        out["user_id"] = u.id
    elif isinstance(origin, MessageOriginHiddenUser):
        out["name"] = origin.sender_user_name
    elif isinstance(origin, MessageOriginChat):
        out["name"] = origin.sender_chat.title or ""
        out["chat_id"] = origin.sender_chat.id
    else:
        out["name"] = origin.chat.title or ""
        out["chat_id"] = origin.chat.id
        out["message_id"] = origin.message_id
    return out


def _normalize_edit(update_id: int, m: Message, bot: BotIdentity) -> Edit | Ignored:
    if m.from_user is None or m.from_user.is_bot:
        return Ignored("edit without a human sender")
    if m.chat.type not in (*GROUP_CHATS, "private"):
        return Ignored(f"edit in a {m.chat.type} chat")
    incoming = _incoming(update_id, m)
    edited_at = datetime.fromtimestamp(m.edit_date, UTC) if m.edit_date else m.date
    addressed = m.chat.type == "private" or is_addressed(m, bot)
    return Edit(incoming, edited_at, addressed)


def _normalize_callback(update_id: int, q: CallbackQuery) -> Incoming | Ignored:
    if q.from_user.is_bot:
        return Ignored("callback query from a bot")
    hints: dict[str, Any] = {}
    thread_key = ""
    if q.message is not None:
        hints["chat_id"] = q.message.chat.id
        hints["reply_to"] = external_id(q.message.chat.id, q.message.message_id)
        if q.message.chat.type != "private":
            thread_key = f"chat:{q.message.chat.id}"
    user = q.from_user
    message = InboundMessage(
        channel=ChannelKind.TELEGRAM,
        external_id=f"callback:{q.id}",
        contact=ContactProfile(
            address=str(user.id),
            name=" ".join(p for p in (user.first_name, user.last_name) if p),
            attrs={"username": user.username} if user.username else {},
        ),
        text=q.data or q.game_short_name or "",
        kind="callback",
        thread_key=thread_key,
        thread_hints=hints,
        raw={"update_id": update_id, "callback_data": q.data},
    )
    return Incoming(message, callback_query_id=q.id)


def _value(enum_or_str: object) -> str:
    """aiogram's enums are (str, Enum): str() of one is its name, not its value."""
    return str(getattr(enum_or_str, "value", enum_or_str))


def _normalize_membership(change: ChatMemberUpdated) -> Membership | Ignored:
    if change.chat.type != "private":
        return Ignored(f"bot membership changed in a {change.chat.type} chat")
    status = _value(change.new_chat_member.status)
    if status == "kicked":
        return Membership(str(change.from_user.id), reachable=False, status=status)
    if status == "member":
        return Membership(str(change.from_user.id), reachable=True, status=status)
    return Ignored(f"bot membership status {status}")
