"""Loop protection: is this mail from a machine? Then nothing may answer it automatically.

Pure: reads only the parsed headers. Automated are: Auto-Submitted other than "no"
(RFC 3834), Precedence bulk/list/junk, a List-Id (mailing lists), X-Autoreply /
X-Autorespond, Microsoft's X-Auto-Response-Suppress on an auto-reply, mailer-daemon and
postmaster senders or an empty Return-Path (bounces), and delivery or read reports.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from channels.email.mime import ParsedEmail

_DAEMON = re.compile(r"^(?:mailer-daemon|postmaster|mail-daemon|no-?reply|bounces?)(?:[+@-]|$)")


@dataclass(frozen=True, slots=True)
class Automation:
    is_automated: bool
    reasons: tuple[str, ...]


def detect_automation(mail: ParsedEmail) -> Automation:
    h = mail.headers
    reasons: list[str] = []
    auto_submitted = h.get("auto-submitted", "").split(";")[0].strip().lower()
    if auto_submitted and auto_submitted != "no":
        reasons.append(f"Auto-Submitted: {auto_submitted}")
    precedence = h.get("precedence", "").strip().lower()
    if precedence in ("bulk", "list", "junk", "auto_reply"):
        reasons.append(f"Precedence: {precedence}")
    if "list-id" in h:
        reasons.append("List-Id")
    for name in ("x-autoreply", "x-autorespond"):
        if name in h and h[name].strip().lower() not in ("no", "false", "0"):
            reasons.append(name.title())
    suppress = h.get("x-auto-response-suppress", "").lower()
    if suppress and ("all" in suppress or "oof" in suppress) and _looks_like_auto_reply(mail):
        reasons.append("X-Auto-Response-Suppress")
    if _DAEMON.match(mail.from_address):
        reasons.append("mailer-daemon sender")
    if h.get("return-path", "").strip() == "<>":
        reasons.append("empty Return-Path")
    if mail.report is not None:
        reasons.append(f"{mail.report.kind} report")
    return Automation(bool(reasons), tuple(reasons))


def _looks_like_auto_reply(mail: ParsedEmail) -> bool:
    subject = mail.subject.lower()
    return subject.startswith(("automatic reply", "auto:", "out of office", "автоответ"))
