"""Delivery and disposition reports (RFC 3464 DSN, RFC 8098 MDN): which message of ours they
are about and what became of it. A report is never a customer's message."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import EmailMessage, Message
from email.parser import HeaderParser

_MSGID = re.compile(r"<([^<>\s]{1,250})>")
_STATUS_TYPES = (
    "message/delivery-status",
    "message/global-delivery-status",
    "message/disposition-notification",
)


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    kind: str  # "delivery-status" (a DSN) or "disposition-notification" (a read receipt)
    original_message_id: str  # of our message, without brackets; "" when the report omits it
    failed: bool  # a DSN with Action: failed for at least one recipient
    reason: str  # the status and diagnostic, for the agent


def parse_report(report: EmailMessage) -> DeliveryReport | None:
    kind = str(report.get_param("report-type") or "").lower()
    if kind not in ("delivery-status", "disposition-notification"):
        return None
    original = ""
    fields: list[Message] = []
    for part in report.iter_parts():
        ctype = part.get_content_type()
        if ctype in _STATUS_TYPES:
            fields.extend(_status_blocks(part))
        elif ctype in ("message/rfc822", "text/rfc822-headers", "message/rfc822-headers"):
            original = original or _original_id(part)
    if not original:
        for block in fields:
            found = _MSGID.search(str(block.get("original-message-id", "")))
            if found:
                original = found.group(1)
                break
    failed = any(str(b.get("action", "")).strip().lower() == "failed" for b in fields)
    reasons = []
    for b in fields:
        if str(b.get("action", "")).strip().lower() != "failed":
            continue
        recipient = str(b.get("final-recipient", "")).split(";")[-1].strip()
        diagnostic = " ".join(str(b.get("diagnostic-code", "")).split(";")[-1].split())
        status = str(b.get("status", "")).strip()
        reasons.append(" ".join(x for x in (recipient + ":", status, diagnostic) if x.strip(":")))
    return DeliveryReport(kind, original, failed, "; ".join(reasons)[:500])


def _status_blocks(part: Message) -> list[Message]:
    """The header blocks of a delivery-status body (the per-message and per-recipient fields)."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return [p for p in payload if isinstance(p, Message)]
    raw = part.get_payload(decode=True)
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(payload)
    return [HeaderParser().parsestr(block) for block in re.split(r"\r?\n\r?\n", text) if block]


def _original_id(part: Message) -> str:
    payload = part.get_payload()
    headers: Message | None = None
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        headers = payload[0]
    else:
        raw = part.get_payload(decode=True)
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(payload)
        headers = HeaderParser().parsestr(text)
    found = _MSGID.search(str(headers.get("message-id", "")))
    return found.group(1) if found else ""
