"""Telegram message entities: offsets and lengths count UTF-16 code units, Python's str does not.

`normalize_entities` turns them into code-point offsets with the covered text spelled out,
so nothing downstream has to know about UTF-16.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aiogram.types import MessageEntity


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def utf16_slice(text: str, offset: int, length: int) -> str:
    """The part of `text` at UTF-16 `offset` spanning `length` UTF-16 code units."""
    data = text.encode("utf-16-le")
    return data[2 * offset : 2 * (offset + length)].decode("utf-16-le", errors="replace")


def _code_points(text: str, utf16_offset: int) -> int:
    data = text.encode("utf-16-le")
    return len(data[: 2 * utf16_offset].decode("utf-16-le", errors="replace"))


def normalize_entities(text: str, entities: Sequence[MessageEntity] | None) -> list[dict[str, Any]]:
    """Entities as {type, offset, length, text[, url, user_id, language, custom_emoji_id]},
    with offset and length in code points of `text`."""
    out: list[dict[str, Any]] = []
    for e in entities or ():
        start = _code_points(text, e.offset)
        end = _code_points(text, e.offset + e.length)
        item: dict[str, Any] = {
            "type": e.type,
            "offset": start,
            "length": end - start,
            "text": text[start:end],
        }
        if e.url:
            item["url"] = e.url
        if e.user is not None:
            item["user_id"] = e.user.id
        if e.language:
            item["language"] = e.language
        if e.custom_emoji_id:
            item["custom_emoji_id"] = e.custom_emoji_id
        out.append(item)
    return out


def mentions_bot(
    text: str, entities: Sequence[MessageEntity] | None, *, bot_id: int, username: str
) -> bool:
    """True when an entity names the bot: @username, a text mention, or /command@username."""
    handle = f"@{username}".lower()
    for e in entities or ():
        if e.type == "text_mention" and e.user is not None and e.user.id == bot_id:
            return True
        if e.type == "mention" and utf16_slice(text, e.offset, e.length).lower() == handle:
            return True
        if e.type == "bot_command":  # a bare /command is for every bot in the group
            command = utf16_slice(text, e.offset, e.length).lower()
            if "@" not in command or command.endswith(handle):
                return True
    return False
