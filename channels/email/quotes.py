"""Reply text: the customer's new words, without the quoted history and the signature.

Pure and line based. The text is cut at the first line that starts quoted history:
an attribution ("On … wrote:", "… писал(а):", "… napisał(a):", possibly wrapped over two
lines), an Outlook separator ("-----Original Message-----") or header block ("From: …"
then "Sent: …"; "От: …" then "Отправлено: …"; "Od: …" then "Wysłano: …"), or a "-- "
signature separator. Lines quoted with ">" are dropped wherever they are. When nothing
is left, the whole text is kept: a reply never becomes empty. The full original is kept
by the caller for display.
"""

from __future__ import annotations

import re

_ATTRIBUTION = re.compile(
    r"""(?ix)
    (?:^|\s)(?:
        wrote |                                   # On Mon, 1 Jan 2024, Ann <a@b> wrote:
        (?:на)?писал(?:а|\(а\))? |                # 1 января 2024 г., Анна <a@b> писал(а):
        napisał(?:a|\(a\))? |                     # W dniu 1.01.2024 Anna <a@b> napisał(a):
        schrieb | a\s+écrit | escribió            # a few more, for free
    )\s*:\s*$
    """
)
_SEPARATOR = re.compile(
    r"""(?ix)^\s*(?:
        -{2,}\s*(?:original\s+message|исходное\s+сообщение|wiadomość\s+oryginalna)\s*-{2,}
        | _{10,}
    )\s*$"""
)
_FROM = re.compile(r"(?i)^\s*\*?(?:from|от|od)\s*:\*?\s+\S")
_SENT = re.compile(r"(?i)^\s*\*?(?:sent|date|отправлено|дата|wysłano|data)\s*:\*?\s+\S")
_SIGNATURE = re.compile(r"^--\s?$")


def strip_reply(text: str) -> str:
    """The new part of a reply; the whole text when stripping would leave nothing."""
    lines = text.replace("\r\n", "\n").split("\n")
    cut = next((i for i in range(len(lines)) if _starts_history(lines, i)), len(lines))
    kept = [line for line in lines[:cut] if not line.lstrip().startswith(">")]
    reply = "\n".join(kept).strip()
    return reply or text.strip()


def _starts_history(lines: list[str], i: int) -> bool:
    line = lines[i]
    if _SIGNATURE.match(line) or _SEPARATOR.match(line):
        return True
    if _ATTRIBUTION.search(line):
        return True
    nxt = lines[i + 1] if i + 1 < len(lines) else ""
    if line.strip() and nxt.strip() and _ATTRIBUTION.search(f"{line} {nxt}"):
        return _looks_like_attribution_start(line)
    if _FROM.match(line):
        return any(_SENT.match(x) for x in lines[i + 1 : i + 5])
    return False


def _looks_like_attribution_start(line: str) -> bool:
    """The first half of a wrapped attribution, not a sentence that ends a paragraph."""
    return bool(re.match(r"(?i)^\s*(?:on|w dniu|\d|[а-яё]{2,}\s*,?\s*\d|le|am|el)\b", line))
