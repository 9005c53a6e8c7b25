"""What a Telegram message carries besides text: files to fetch, places and contact cards.

Pure: returns references (file ids) for the adapter to download, and readable text plus
structured data for the non-file kinds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiogram.types import Message


@dataclass(frozen=True, slots=True)
class FileRef:
    """A file to fetch with getFile and store as an attachment."""

    file_id: str
    filename: str
    content_type: str
    size: int | None = None


@dataclass(frozen=True, slots=True)
class Content:
    kind: str
    files: tuple[FileRef, ...] = ()
    text: str = ""  # readable text for kinds without a caption (location, contact)
    data: dict[str, Any] | None = None  # the structured value, kept in the message's raw


def parse_content(m: Message) -> Content:
    """The kind of a message and the files or structured data it carries."""
    if m.photo:
        largest = max(m.photo, key=lambda p: (p.width * p.height, p.file_size or 0))
        name = f"photo_{largest.file_unique_id}.jpg"
        return Content("photo", (FileRef(largest.file_id, name, "image/jpeg", largest.file_size),))
    if m.document:
        d = m.document
        ref = FileRef(
            d.file_id,
            d.file_name or f"document_{d.file_unique_id}",
            d.mime_type or "application/octet-stream",
            d.file_size,
        )
        return Content("document", (ref,))
    if m.voice:
        v = m.voice
        name = f"voice_{v.file_unique_id}.ogg"
        return Content(
            "voice", (FileRef(v.file_id, name, v.mime_type or "audio/ogg", v.file_size),)
        )
    if m.audio:
        a = m.audio
        name = a.file_name or f"audio_{a.file_unique_id}.mp3"
        ref = FileRef(a.file_id, name, a.mime_type or "audio/mpeg", a.file_size)
        return Content("audio", (ref,))
    if m.video:
        v2 = m.video
        name = v2.file_name or f"video_{v2.file_unique_id}.mp4"
        ref = FileRef(v2.file_id, name, v2.mime_type or "video/mp4", v2.file_size)
        return Content("video", (ref,))
    if m.video_note:
        n = m.video_note
        name = f"video_note_{n.file_unique_id}.mp4"
        return Content("video_note", (FileRef(n.file_id, name, "video/mp4", n.file_size),))
    if m.animation:
        g = m.animation
        name = g.file_name or f"animation_{g.file_unique_id}.mp4"
        ref = FileRef(g.file_id, name, g.mime_type or "video/mp4", g.file_size)
        return Content("animation", (ref,))
    if m.sticker:
        s = m.sticker
        if s.is_animated:
            ext, mime = "tgs", "application/x-tgsticker"
        elif s.is_video:
            ext, mime = "webm", "video/webm"
        else:
            ext, mime = "webp", "image/webp"
        ref = FileRef(s.file_id, f"sticker_{s.file_unique_id}.{ext}", mime, s.file_size)
        return Content("sticker", (ref,), text=s.emoji or "", data={"set_name": s.set_name})
    if m.venue:
        place = m.venue
        data = {
            "latitude": place.location.latitude,
            "longitude": place.location.longitude,
            "title": place.title,
            "address": place.address,
        }
        return Content("venue", text=f"Venue: {place.title}, {place.address}", data=data)
    if m.location:
        loc = m.location
        data = {"latitude": loc.latitude, "longitude": loc.longitude}
        return Content("location", text=f"Location: {loc.latitude}, {loc.longitude}", data=data)
    if m.contact:
        c = m.contact
        name = " ".join(p for p in (c.first_name, c.last_name) if p)
        data = {"phone_number": c.phone_number, "name": name, "user_id": c.user_id}
        return Content("contact", text=f"Contact: {name}, {c.phone_number}", data=data)
    return Content("text")
