"""Threading hints: what the store needs to put an email into the right dialog.

Pure. The store (storage/threads.py) tries, in order: the Message-IDs this mail answers
(In-Reply-To, References) against stored messages of the same contact, ours and theirs;
then the subject token our outbound mail carries ("[#123]", a dialog id), again only
within the same contact; then, when configured, the same contact's dialog with the same
normalised subject active within a window. Otherwise the mail starts a thread keyed by
the root Message-ID of its References (or its own).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from channels.email.mime import ParsedEmail

_TOKEN = re.compile(r"\[#(\d{1,12})\]")
_PREFIX = re.compile(
    r"""(?ix)^\s*(?:
        re | fwd? | aw | wg | sv | vs | odp | pd | tr | rif | antw |
        ответ | отв | пересл | fw
    )\s*(?:\[\d+\]|\(\d+\))?\s*:\s*"""
)


def find_subject_token(subject: str) -> int | None:
    found = _TOKEN.findall(subject)
    return int(found[-1]) if found else None


def normalize_subject(subject: str) -> str:
    """Without reply/forward prefixes, our token, case and extra spaces."""
    s = _TOKEN.sub(" ", subject)
    while True:
        stripped = _PREFIX.sub("", s, count=1)
        if stripped == s:
            break
        s = stripped
    return " ".join(s.split()).casefold()


def subject_with_token(subject: str, dialog_id: int) -> str:
    """The subject of our reply: "Re: <theirs> [#<dialog>]", the token once."""
    base = _TOKEN.sub("", subject).strip() or "Your request"
    if not re.match(r"(?i)^re\s*:", base):
        base = f"Re: {base}"
    return f"{base} [#{dialog_id}]"


def thread_key_of(mail: ParsedEmail, external_id: str) -> str:
    """A new thread is keyed by its root: the first reference, else the mail itself."""
    chain = mail.references or mail.in_reply_to
    return (chain[0] if chain else external_id)[:500]


def build_thread_hints(mail: ParsedEmail, *, subject_window: timedelta | None) -> dict[str, Any]:
    refs = list(dict.fromkeys([*mail.references, *mail.in_reply_to]))
    hints: dict[str, Any] = {"message_id": mail.message_id, "references": refs[-50:]}
    token = find_subject_token(mail.subject)
    if token is not None:
        hints["subject_token"] = token
    subject_key = normalize_subject(mail.subject)
    if subject_key:
        hints["subject_key"] = subject_key
        if subject_window is not None:
            hints["subject_window_s"] = int(subject_window.total_seconds())
    return hints
