"""Pure: a Cloud API `messages` webhook body → inbound messages, media to fetch, status reports.

One POST may carry several entries, changes, messages and contacts; a message's sender
is matched to its contact by wa_id, never by position. Rich content (locations, shared
contacts, button replies, reactions, orders) becomes readable text here, in one place,
with the provider's own object kept in `raw`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from channels.base import StatusUpdate
from dialogs.model import ChannelKind, ContactProfile, InboundMessage, MessageStatus

MEDIA_TYPES = ("image", "audio", "video", "document", "sticker")
_EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "audio/ogg": ".ogg",
    "audio/mpeg": ".mp3",
    "audio/aac": ".aac",
    "video/mp4": ".mp4",
    "application/pdf": ".pdf",
}
_STATUSES = {
    "sent": MessageStatus.SENT,
    "delivered": MessageStatus.DELIVERED,
    "read": MessageStatus.READ,
    "failed": MessageStatus.FAILED,
}


@dataclass(frozen=True, slots=True)
class MediaRef:
    """A media object to fetch by id before the message is stored."""

    media_id: str
    mime_type: str
    filename: str


@dataclass(frozen=True, slots=True)
class ParsedMessage:
    message: InboundMessage
    media: MediaRef | None = None


@dataclass(frozen=True, slots=True)
class ParsedWebhook:
    messages: list[ParsedMessage] = field(default_factory=list)
    statuses: list[StatusUpdate] = field(default_factory=list)
    errors: list[Mapping[str, Any]] = field(default_factory=list)  # value.errors[]: log only


def parse_webhook(payload: Any) -> ParsedWebhook:
    """Everything a webhook body says; raises ValueError when it is not a webhook body."""
    if not isinstance(payload, dict) or not isinstance(payload.get("entry"), list):
        raise ValueError("not a WhatsApp webhook body: no entry[]")
    out = ParsedWebhook()
    for entry in payload["entry"]:
        for change in _dicts(entry.get("changes") if isinstance(entry, dict) else None):
            value = change.get("value")
            if change.get("field", "messages") != "messages" or not isinstance(value, dict):
                continue
            names = {
                str(c.get("wa_id")): str((c.get("profile") or {}).get("name") or "")
                for c in _dicts(value.get("contacts"))
            }
            for m in _dicts(value.get("messages")):
                parsed = parse_message(m, names)
                if parsed is not None:
                    out.messages.append(parsed)
            for s in _dicts(value.get("statuses")):
                status = parse_status(s)
                if status is not None:
                    out.statuses.append(status)
            out.errors.extend(_dicts(value.get("errors")))
    return out


def parse_message(m: Mapping[str, Any], names: Mapping[str, str]) -> ParsedMessage | None:
    wamid, sender = m.get("id"), m.get("from")
    if not isinstance(wamid, str) or not wamid or not sender:
        return None
    sender = str(sender)
    kind = str(m.get("type") or "unknown")
    text, media = _content(kind, m)
    hints: dict[str, Any] = {}
    context = m.get("context")
    if isinstance(context, dict):
        if context.get("id"):
            hints["reply_to"] = str(context["id"])
        if context.get("forwarded") or context.get("frequently_forwarded"):
            hints["forwarded"] = True
    if kind == "reaction":
        hints["reply_to"] = str((m.get("reaction") or {}).get("message_id") or "")
    if kind not in (
        *MEDIA_TYPES,
        "text",
        "location",
        "contacts",
        "interactive",
        "button",
        "reaction",
        "order",
    ):
        kind = "unsupported"
    message = InboundMessage(
        channel=ChannelKind.WHATSAPP,
        external_id=wamid,
        contact=ContactProfile(address=sender, name=names.get(sender, ""), phone=f"+{sender}"),
        text=text,
        kind=kind,
        thread_hints=hints,
        provider_ts=_timestamp(m.get("timestamp")),
        raw=dict(m),
    )
    return ParsedMessage(message, media)


def _content(kind: str, m: Mapping[str, Any]) -> tuple[str, MediaRef | None]:
    found = m.get(kind)
    body: dict[str, Any] = found if isinstance(found, dict) else {}
    if kind == "text":
        return str(body.get("body") or ""), None
    if kind in MEDIA_TYPES:
        mime = str(body.get("mime_type") or "application/octet-stream").split(";")[0].strip()
        name = str(body.get("filename") or f"{kind}{_EXTENSIONS.get(mime, '')}")
        media = MediaRef(str(body["id"]), mime, name) if body.get("id") else None
        caption = str(body.get("caption") or "")
        return caption or ("" if media else f"[{kind} without a media id]"), media
    if kind == "location":
        place = ", ".join(str(body[k]) for k in ("name", "address") if body.get(k))
        where = f"{body.get('latitude')}, {body.get('longitude')}"
        return f"Location: {place} ({where})" if place else f"Location: {where}", None
    if kind == "contacts":
        shared = [_shared_contact(c) for c in _dicts(m.get("contacts"))]
        return "Shared contact: " + "; ".join(shared), None
    if kind == "interactive":
        reply = body.get(str(body.get("type"))) or {}
        title = str(reply.get("title") or "")
        extra = f" — {reply['description']}" if reply.get("description") else ""
        return title + extra, None
    if kind == "button":
        return str(body.get("text") or body.get("payload") or ""), None
    if kind == "reaction":
        emoji = body.get("emoji")
        return (f"Reacted {emoji} to a message" if emoji else "Removed a reaction"), None
    if kind == "order":
        items = [
            f"{i.get('quantity')} × {i.get('product_retailer_id')} "
            f"({i.get('item_price')} {i.get('currency')})"
            for i in _dicts(body.get("product_items"))
        ]
        note = f"\n{body['text']}" if body.get("text") else ""
        return "Order: " + ", ".join(items) + note, None
    reason = "; ".join(str(e.get("title") or e.get("code")) for e in _dicts(m.get("errors")))
    return (
        f"[Unsupported WhatsApp message ({kind}): the customer sent something the Cloud API "
        f"does not deliver{': ' + reason if reason else ''}. Ask them to send it another way.]"
    ), None


def _shared_contact(c: Mapping[str, Any]) -> str:
    name = str((c.get("name") or {}).get("formatted_name") or "unnamed")
    phones = [str(p.get("phone")) for p in _dicts(c.get("phones")) if p.get("phone")]
    return f"{name} ({', '.join(phones)})" if phones else name


def parse_status(s: Mapping[str, Any]) -> StatusUpdate | None:
    status = _STATUSES.get(str(s.get("status")))
    if status is None or not s.get("id"):
        return None
    error = None
    if status == MessageStatus.FAILED:
        error = "; ".join(describe_error(e) for e in _dicts(s.get("errors"))) or "failed"
    return StatusUpdate(
        channel=ChannelKind.WHATSAPP.value,
        external_id=str(s["id"]),
        status=status,
        error=error,
        timestamp=_timestamp(s.get("timestamp")),
    )


# Clear words for the codes agents meet most; everything else shows Meta's own title.
ERROR_TEXT = {
    131047: "more than 24 hours have passed since the customer last wrote: "
    "only an approved template can be sent now",
    131026: "message undeliverable: the number may not be on WhatsApp, or the customer "
    "has not accepted the latest terms or uses an outdated app",
    130429: "WhatsApp's rate limit was hit; the reply is retried",
    131056: "too many messages to this customer in a short time; the reply is retried",
    131051: "WhatsApp does not support this message type",
    131052: "the customer's media could not be downloaded",
    131053: "the media could not be uploaded: unsupported type or too large",
    132000: "the template's parameters do not match its placeholders",
    132001: "the template does not exist in that language (or is not approved)",
    190: "the WhatsApp access token is invalid or expired: update WHATSAPP_ACCESS_TOKEN",
}


def describe_error(e: Mapping[str, Any]) -> str:
    code = e.get("code")
    details = (e.get("error_data") or {}).get("details") if isinstance(e, dict) else None
    known = ERROR_TEXT.get(code) if isinstance(code, int) else None
    text = known or str(e.get("title") or e.get("message") or "error")
    if details and not known:
        text += f": {details}"
    return f"{text} (WhatsApp error {code})" if code is not None else text


def _timestamp(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []
