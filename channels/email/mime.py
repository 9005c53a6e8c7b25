"""Pure MIME parsing: raw RFC 5322 bytes -> `ParsedEmail` (text, sanitised HTML, attachments).

Call it off the event loop (`asyncio.to_thread`): a large message takes milliseconds to
tens of milliseconds of CPU. Hostile mail is handled in bounded time and memory: before
the stdlib parser sees a message, a byte scan refuses one that is too big, has a header
block too large or declares more MIME parts or multipart levels than the limits allow
(`MessageRefused`, whose reason is what the quarantine records). The walk over the
parsed tree is iterative and enforces the same limits again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime

from channels.email.charsets import decode_text
from channels.email.html import html_to_text, sanitize_html
from channels.email.report import DeliveryReport, parse_report

_MSGID = re.compile(r"<([^<>\s]{1,250})>")
_BOUNDARY_LINE = re.compile(rb"(?m)^--[^\r\n]")
_MULTIPART = re.compile(rb"(?i)content-type:[ \t]*multipart/")
_HEADER_END = re.compile(rb"\r?\n\r?\n")
_ADDRESS = re.compile(r"[^\s<>@\"]+@[^\s<>@\"]+")
_ADDRESS_IN = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")


class MessageRefused(ValueError):
    """The message breaks a limit or cannot be parsed; `reason` says which, for the quarantine."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class MimeLimits:
    max_message_bytes: int = 25 * 1024 * 1024
    max_header_bytes: int = 256 * 1024
    max_parts: int = 1000
    max_depth: int = 30
    max_attachment_bytes: int = 10 * 1024 * 1024
    max_text_chars: int = 200_000


@dataclass(frozen=True, slots=True)
class ParsedAttachment:
    filename: str
    content_type: str
    data: bytes
    inline: bool = False
    content_id: str = ""


@dataclass(frozen=True, slots=True)
class ParsedEmail:
    message_id: str  # without angle brackets; "" when the message has none
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    subject: str
    from_address: str  # lower-cased
    from_name: str
    to: tuple[str, ...]
    date: datetime | None
    text: str  # the whole text body, quoted history included
    html: str | None  # sanitised, when the message has an HTML body
    attachments: tuple[ParsedAttachment, ...]
    headers: dict[str, str]  # lower-cased names of the headers loop protection reads
    notes: tuple[str, ...] = ()  # what was skipped or noticed (oversize attachment, TNEF)
    report: DeliveryReport | None = None
    content_type: str = "text/plain"


_LOOP_HEADERS = (
    "auto-submitted",
    "precedence",
    "list-id",
    "list-unsubscribe",
    "x-autoreply",
    "x-autorespond",
    "x-auto-response-suppress",
    "return-path",
    "x-failed-recipients",
    "content-type",
)


def parse_message_ids(value: str | None) -> tuple[str, ...]:
    """Message-IDs in a header value (In-Reply-To, References), in order, without brackets."""
    if not value:
        return ()
    found = _MSGID.findall(value)
    if not found and value.strip() and " " not in value.strip():
        found = [value.strip()]
    return tuple(dict.fromkeys(found))


def check_limits(raw: bytes, limits: MimeLimits) -> None:
    """Refuse, from a byte scan alone, what the full parser must not be given."""
    if len(raw) > limits.max_message_bytes:
        raise MessageRefused(
            f"message of {len(raw):,} bytes is over the {limits.max_message_bytes:,} byte limit"
        )
    end = _HEADER_END.search(raw, 0, limits.max_header_bytes + 4)
    if end is None and len(raw) > limits.max_header_bytes:
        raise MessageRefused(f"header block is over the {limits.max_header_bytes:,} byte limit")
    delimiters = len(_BOUNDARY_LINE.findall(raw))  # about one per part, plus the closings
    if delimiters > 2 * limits.max_parts:
        raise MessageRefused(
            f"{delimiters:,} MIME boundary lines: over the {limits.max_parts} part limit"
        )
    multiparts = len(_MULTIPART.findall(raw))
    if multiparts > limits.max_depth * 4:
        raise MessageRefused(
            f"{multiparts:,} nested multiparts: over the {limits.max_depth} level limit"
        )


def parse_email(raw: bytes, limits: MimeLimits | None = None) -> ParsedEmail:
    """Parse one message; raises `MessageRefused` for hostile or unusable input."""
    limits = limits or MimeLimits()
    check_limits(raw, limits)
    try:
        msg = BytesParser(policy=policy.default).parsebytes(raw)
    except Exception as exc:  # the stdlib parser is lenient; anything it raises is a refusal
        raise MessageRefused(f"unparseable: {type(exc).__name__}") from exc
    assert isinstance(msg, EmailMessage)
    return _Walker(limits).parse(msg)


def _header(msg: EmailMessage, name: str) -> str:
    try:
        value = msg.get(name)
    except Exception:  # a malformed header the policy cannot fold: read it raw
        raw = msg.get_all(name, failobj=[]) if hasattr(msg, "get_all") else []
        value = str(raw[0]) if raw else None
    return " ".join(str(value).split()) if value is not None else ""


class _Walker:
    """Collects text, HTML and attachments from a parsed tree, iteratively and within limits."""

    def __init__(self, limits: MimeLimits) -> None:
        self.limits = limits
        self.texts: list[str] = []
        self.htmls: list[str] = []
        self.attachments: list[ParsedAttachment] = []
        self.notes: list[str] = []
        self.report: DeliveryReport | None = None

    def parse(self, msg: EmailMessage) -> ParsedEmail:
        self._walk(msg)
        raw: dict[str, str] = {}  # unparsed values: the policy's header objects cost ~0.1 ms each
        for key, value in msg.raw_items():
            raw.setdefault(key.lower(), " ".join(str(value).split()))
        name, address = _sender(_header(msg, "from"))
        html = "\n".join(self.htmls) if self.htmls else None
        text = "\n\n".join(t.strip("\n") for t in self.texts if t.strip())
        if not text and html is not None:
            text = html_to_text(html)
        if len(text) > self.limits.max_text_chars:
            text = text[: self.limits.max_text_chars]
            self.notes.append(f"text truncated to {self.limits.max_text_chars:,} characters")
        return ParsedEmail(
            message_id=next(iter(parse_message_ids(raw.get("message-id"))), ""),
            in_reply_to=parse_message_ids(raw.get("in-reply-to")),
            references=parse_message_ids(raw.get("references")),
            subject=_header(msg, "subject"),
            from_address=address.strip().lower(),
            from_name=name.strip(),
            to=tuple(a.lower() for _, a in getaddresses([_header(msg, "to")]) if a),
            date=_date(raw.get("date", "")),
            text=text,
            html=sanitize_html(html) if html is not None else None,
            attachments=tuple(self.attachments),
            headers={h: v for h in _LOOP_HEADERS if (v := raw.get(h, ""))},
            notes=tuple(self.notes),
            report=self.report,
            content_type=msg.get_content_type(),
        )

    def _walk(self, root: EmailMessage) -> None:
        stack: list[tuple[EmailMessage, int]] = [(root, 0)]
        seen = 0
        while stack:
            part, depth = stack.pop()
            seen += 1
            if seen > self.limits.max_parts:
                raise MessageRefused(f"over {self.limits.max_parts} MIME parts")
            if depth > self.limits.max_depth:
                raise MessageRefused(f"MIME nesting deeper than {self.limits.max_depth} levels")
            ctype = part.get_content_type()
            if ctype == "multipart/report" and self.report is None:
                self.report = parse_report(part)
            if part.is_multipart():
                children = [c for c in part.iter_parts() if isinstance(c, EmailMessage)]
                if ctype == "multipart/alternative":
                    children = _preferred_alternative(children)
                stack.extend((c, depth + 1) for c in reversed(children))
                continue
            self._leaf(part, ctype)

    def _leaf(self, part: EmailMessage, ctype: str) -> None:
        disposition = part.get_content_disposition()
        filename = part.get_filename() or ""
        if ctype in ("text/plain", "text/html") and disposition != "attachment" and not filename:
            data = part.get_payload(decode=True)
            if not isinstance(data, bytes):
                return
            body = decode_text(data, part.get_content_charset()).replace("\r\n", "\n")
            (self.texts if ctype == "text/plain" else self.htmls).append(body)
            return
        if ctype.startswith("message/") or ctype == "text/rfc822-headers":
            return  # a report's parts and forwarded originals are read by parse_report
        data = part.get_payload(decode=True)
        if not isinstance(data, bytes):
            return
        if ctype == "application/ms-tnef" or filename.lower() == "winmail.dat":
            self.notes.append("TNEF (winmail.dat): Outlook rich text, kept as an attachment")
        content_id = _header(part, "content-id").strip("<>")
        inline = disposition == "inline" or (disposition is None and bool(content_id))
        if not filename:
            ext = ctype.split("/")[-1].split("+")[0][:10]
            filename = f"{'inline' if inline else 'attachment'}-{len(self.attachments) + 1}.{ext}"
        if len(data) > self.limits.max_attachment_bytes:
            self.notes.append(
                f"attachment {filename!r} ({len(data):,} bytes) skipped: over the "
                f"{self.limits.max_attachment_bytes:,} byte limit"
            )
            return
        self.attachments.append(ParsedAttachment(filename, ctype, data, inline, content_id))


def _preferred_alternative(children: list[EmailMessage]) -> list[EmailMessage]:
    """Of the alternatives, the plain text when there is one (plus HTML for display)."""
    typed = [(c.get_content_type(), c) for c in children]
    plain = [c for t, c in typed if t == "text/plain"]
    html = [c for t, c in typed if t == "text/html"]
    others = [c for _, c in typed if c.is_multipart()]
    if plain or html:
        return plain[:1] + (html[:1] or others[-1:])
    return others[-1:] or children[-1:]


def _sender(value: str) -> tuple[str, str]:
    """(display name, address) of a From header, even a malformed one."""
    parsed = getaddresses([value])
    name, address = parsed[0] if parsed else ("", "")
    if not _ADDRESS.fullmatch(address):
        found = _ADDRESS_IN.findall(value)
        name, address = "", found[-1] if found else ""
    return name, address


def _date(value: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo is not None else None
