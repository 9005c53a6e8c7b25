"""Pure: an outbox message -> the RFC 5322 mail that carries it, with threading headers.

Our Message-ID is derived from our message id, so a retried send carries the same id
(receivers deduplicate it) and the bounce or answer that names it finds its message.
"""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from channels.base import OutboundMessage
from channels.email.threads import subject_with_token

MAX_REFERENCES = 20  # RFC 5322 suggests trimming; the root and the latest are what matter


def our_message_id(message_id: int, dialog_id: int, domain: str) -> str:
    """Without angle brackets, as message ids are stored."""
    return f"rd.{message_id}.{dialog_id}@{domain}"


def domain_of(address: str) -> str:
    _, addr = parseaddr(address)
    return addr.rpartition("@")[2] or "relaydesk.invalid"


def build_email(message: OutboundMessage, *, sender: str, now: datetime) -> EmailMessage:
    """The mail for `message`, from `sender` (a formatted From address)."""
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = message.address
    mail["Subject"] = subject_with_token(message.subject, message.dialog_id)
    mail["Date"] = format_datetime(now)
    mail["Message-ID"] = (
        f"<{our_message_id(message.message_id, message.dialog_id, domain_of(sender))}>"
    )
    chain = list(message.references)
    parent = message.reply_to_external_id or (chain[-1] if chain else None)
    if parent is not None:
        if parent not in chain:
            chain.append(parent)
        if len(chain) > MAX_REFERENCES:
            chain = chain[:1] + chain[-(MAX_REFERENCES - 1) :]
        mail["In-Reply-To"] = f"<{parent}>"
        mail["References"] = " ".join(f"<{r}>" for r in chain)
    if message.automated:
        mail["Auto-Submitted"] = "auto-replied"  # RFC 3834: nothing may answer it automatically
        mail["X-Auto-Response-Suppress"] = "All"  # and Exchange sends no out-of-office back
    mail.set_content(message.text or " ")
    for a in message.attachments:
        maintype, _, subtype = a.content_type.partition("/")
        mail.add_attachment(
            a.data,
            maintype=maintype or "application",
            subtype=subtype or "octet-stream",
            filename=a.filename,
        )
    return mail
