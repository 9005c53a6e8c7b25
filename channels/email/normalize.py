"""Pure: raw mail bytes -> an `InboundMessage` for ingestion, or a `StatusUpdate` for a report.

A delivery report (DSN) about one of our messages marks it failed and a read receipt marks
it read; neither opens a dialog. Everything else becomes an inbound message whose text is
the new part of the reply; the whole text, the sanitised HTML and what loop protection
found are kept in `raw` for display.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from channels.base import StatusUpdate
from channels.email.loops import detect_automation
from channels.email.mime import MessageRefused, MimeLimits, ParsedEmail, parse_email
from channels.email.quotes import strip_reply
from channels.email.threads import build_thread_hints, thread_key_of
from dialogs.model import (
    ChannelKind,
    ContactProfile,
    InboundAttachment,
    InboundMessage,
    MessageStatus,
)

EmailOutcome = InboundMessage | StatusUpdate | None
MAX_ADDRESS = 320  # RFC 5321's limit, and the column's


def _clean(text: str) -> str:
    """Without NUL characters, which PostgreSQL refuses in text and JSON."""
    return text.replace("\x00", "")


def external_id_of(mail: ParsedEmail, raw: bytes) -> str:
    """The Message-ID; for mail without one, a hash of its bytes (stable across re-scans)."""
    if mail.message_id:
        return _clean(mail.message_id)[:300]
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def normalize_email(
    raw: bytes,
    *,
    limits: MimeLimits | None = None,
    subject_window: timedelta | None = None,
    source: dict[str, Any] | None = None,
) -> EmailOutcome:
    """What one fetched message means; raises `MessageRefused` for hostile or unusable mail.

    `source` (mailbox, uid) is recorded in `raw` for tracing a message back to the server.
    """
    mail = parse_email(raw, limits)
    report = mail.report
    if report is not None:
        if not report.original_message_id:
            return None
        if report.kind == "disposition-notification":
            return StatusUpdate(
                ChannelKind.EMAIL.value, report.original_message_id, MessageStatus.READ
            )
        if report.failed:
            return StatusUpdate(
                ChannelKind.EMAIL.value,
                report.original_message_id,
                MessageStatus.FAILED,
                error=f"bounced: {report.reason}" if report.reason else "bounced",
            )
        return None  # "delayed" or "delivered": nothing to show
    if not mail.from_address:
        return None
    if len(mail.from_address) > MAX_ADDRESS:
        raise MessageRefused(f"sender address longer than {MAX_ADDRESS} characters")
    automation = detect_automation(mail)
    external_id = external_id_of(mail, raw)
    details: dict[str, Any] = {
        "subject": _clean(mail.subject),
        "full_text": _clean(mail.text),
        "to": [_clean(t) for t in mail.to],
        **({"html": _clean(mail.html)} if mail.html is not None else {}),
        **({"notes": list(mail.notes)} if mail.notes else {}),
        **({"automated": list(automation.reasons)} if automation.is_automated else {}),
        **(
            {"inline": [a.filename for a in mail.attachments if a.inline]}
            if any(a.inline for a in mail.attachments)
            else {}
        ),
        **(source or {}),
    }
    return InboundMessage(
        channel=ChannelKind.EMAIL,
        external_id=external_id,
        contact=ContactProfile(
            address=_clean(mail.from_address),
            name=_clean(mail.from_name)[:200],
            email=_clean(mail.from_address),
        ),
        text=_clean(strip_reply(mail.text)),
        attachments=tuple(
            InboundAttachment(_clean(a.filename), a.content_type, a.data) for a in mail.attachments
        ),
        thread_key=thread_key_of(mail, external_id),
        thread_hints=build_thread_hints(mail, subject_window=subject_window),
        subject=_clean(mail.subject),
        provider_ts=mail.date,
        is_automated=automation.is_automated,
        raw=details,
    )
