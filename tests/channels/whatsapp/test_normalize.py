"""Cloud API webhook bodies normalise to the right messages, media references and statuses."""

from __future__ import annotations

from typing import Any

import pytest

from channels.whatsapp.normalize import parse_webhook
from dialogs.model import MessageStatus
from tests.channels.whatsapp.helpers import load

CASES: list[tuple[str, str, str, dict[str, Any], str | None]] = [
    # file, kind, text contains, thread hints, media id
    ("text", "text", "Hello, my order is late", {}, None),
    ("image", "image", "the broken box", {}, "media-image"),
    ("audio", "audio", "", {}, "media-audio"),
    ("video", "video", "", {}, "media-video"),
    ("document", "document", "invoice", {}, "media-document"),
    ("sticker", "sticker", "", {}, "media-sticker"),
    ("location", "location", "Head office, 1 Main St, London (51.5072, -0.1276)", {}, None),
    ("contacts", "contacts", "Shared contact: Bob Stone (+1 555 0100)", {}, None),
    (
        "interactive_button_reply",
        "interactive",
        "Yes, refund",
        {"reply_to": "wamid.OUTBOUND1"},
        None,
    ),
    (
        "interactive_list_reply",
        "interactive",
        "Shipping — Where is my parcel",
        {"reply_to": "wamid.OUTBOUND2"},
        None,
    ),
    ("button", "button", "Talk to an agent", {"reply_to": "wamid.TEMPLATE1"}, None),
    ("reaction", "reaction", "Reacted 👍 to a message", {"reply_to": "wamid.OUTBOUND3"}, None),
    ("reply_with_context", "text", "Yes, that one", {"reply_to": "wamid.OUTBOUND4"}, None),
    (
        "order",
        "order",
        "Order: 2 × SKU-1 (9.99 EUR), 1 × SKU-7 (25 EUR)\nGift wrap please",
        {},
        None,
    ),
    ("unsupported", "unsupported", "Unsupported WhatsApp message", {}, None),
]


@pytest.mark.parametrize(
    ("name", "kind", "text", "hints", "media"), CASES, ids=[c[0] for c in CASES]
)
def test_message_types(
    name: str, kind: str, text: str, hints: dict[str, Any], media: str | None
) -> None:
    """Each recorded message type becomes one message of the right kind, text, hints and media."""
    parsed = parse_webhook(load(name))
    assert len(parsed.messages) == 1 and not parsed.statuses
    p = parsed.messages[0]
    m = p.message
    assert (m.channel, m.kind, dict(m.thread_hints)) == ("whatsapp", kind, hints)
    assert text in m.text
    assert m.contact.address == "447700900001" and m.contact.name == "Ann Lee"
    assert m.contact.phone == "+447700900001"
    assert m.external_id.startswith("wamid.") and m.provider_ts is not None
    assert (p.media.media_id if p.media else None) == media


def test_media_file_names_and_types() -> None:
    """Documents keep their file name; other media get a name from their type."""
    doc = parse_webhook(load("document")).messages[0].media
    audio = parse_webhook(load("audio")).messages[0].media
    assert doc is not None and (doc.filename, doc.mime_type) == (
        "invoice-42.pdf",
        "application/pdf",
    )
    assert audio is not None and (audio.filename, audio.mime_type) == ("audio.ogg", "audio/ogg")


def test_several_messages_match_contacts_by_wa_id() -> None:
    """Senders are matched to their contact by wa_id, not by position in the arrays."""
    messages = [p.message for p in parse_webhook(load("several_messages_and_contacts")).messages]
    assert [(m.contact.address, m.contact.name, m.text) for m in messages] == [
        ("15550200002", "Carl Diaz", "from Carl"),
        ("447700900001", "Ann Lee", "from Ann"),
    ]


def test_errors_make_no_message() -> None:
    """errors[] in the value is reported for logging and creates no message."""
    parsed = parse_webhook(load("errors_only"))
    assert not parsed.messages and [e["code"] for e in parsed.errors] == [131052]


@pytest.mark.parametrize("status", ["sent", "delivered", "read", "failed"])
def test_statuses(status: str) -> None:
    """Status webhooks become status updates; a failure carries a clear error with its code."""
    [update] = parse_webhook(load(f"status_{status}")).statuses
    assert update.status == MessageStatus(status)
    assert update.external_id == "WAMID_PLACEHOLDER"
    if status == "failed":
        assert update.error is not None and "template" in update.error and "131047" in update.error
    else:
        assert update.error is None


@pytest.mark.parametrize("body", [[], {"entry": "x"}, "text", {"object": "x"}], ids=str)
def test_not_a_webhook_body(body: Any) -> None:
    """Bodies without entry[] are refused with ValueError."""
    with pytest.raises(ValueError, match="entry"):
        parse_webhook(body)
