"""Normalisation of recorded-shape updates: pure, one data file per case."""

from __future__ import annotations

from typing import Any

import pytest

from channels.telegram.entities import normalize_entities, utf16_len
from channels.telegram.normalize import (
    BotIdentity,
    Edit,
    Ignored,
    Incoming,
    Membership,
    normalize_update,
)
from tests.channels.telegram.conftest import update
from tests.fakes.telegram_api import BOT_ID, BOT_USERNAME

BOT = BotIdentity(BOT_ID, BOT_USERNAME)
ANNA = "555000111"
GROUP = -1001234567890

# file -> (kind, external_id, text, files fetched, thread_key, expected hints, expected raw keys)
MESSAGES: list[tuple[str, str, str, str, list[str], str, dict[str, Any], set[str]]] = [
    (
        "text_private",
        "text",
        f"{ANNA}:2001",
        "Где мой заказ? Order 1234",
        [],
        "",
        {"chat_id": int(ANNA)},
        set(),
    ),
    (
        "text_emoji_entities",
        "text",
        f"{ANNA}:2002",
        "👋 Привет! Заказ #1234 🚚 не пришёл, см. https://shop.example/o/1234 и 𝐁𝐎𝐋𝐃",
        [],
        "",
        {},
        {"entities"},
    ),
    ("photo", "photo", f"{ANNA}:2005", "Вот фото упаковки", ["photo-large"], "", {}, set()),
    ("document", "document", f"{ANNA}:2006", "invoice attached", ["doc-1"], "", {}, set()),
    ("voice", "voice", f"{ANNA}:2007", "", ["voice-1"], "", {}, set()),
    ("video", "video", f"{ANNA}:2008", "", ["video-1"], "", {}, set()),
    ("sticker", "sticker", f"{ANNA}:2009", "😡", ["sticker-1"], "", {}, {"sticker"}),
    (
        "album_1",
        "photo",
        f"{ANNA}:2010",
        "Две фотографии повреждений",
        ["album-a"],
        "",
        {"media_group_id": "13579246801357924"},
        set(),
    ),
    (
        "album_2",
        "photo",
        f"{ANNA}:2011",
        "",
        ["album-b"],
        "",
        {"media_group_id": "13579246801357924"},
        set(),
    ),
    (
        "location",
        "location",
        f"{ANNA}:2012",
        "Location: 55.751244, 37.618423",
        [],
        "",
        {},
        {"location"},
    ),
    (
        "contact",
        "contact",
        f"{ANNA}:2013",
        "Contact: Анна Петрова, +79001234567",
        [],
        "",
        {},
        {"contact"},
    ),
    (
        "reply",
        "text",
        f"{ANNA}:2014",
        "Это про заказ выше",
        [],
        "",
        {"reply_to": f"{ANNA}:1990"},
        set(),
    ),
    (
        "forwarded_user",
        "text",
        f"{ANNA}:2015",
        "Мне пришло это сообщение",
        [],
        "",
        {},
        {"forward_origin"},
    ),
    (
        "forwarded_channel",
        "text",
        f"{ANNA}:2016",
        "Акция: скидка 20%",
        [],
        "",
        {},
        {"forward_origin"},
    ),
    (
        "callback_query",
        "callback",
        "callback:4382bfdwdsb323b2d9",
        "rate:5",
        [],
        "",
        {"reply_to": f"{ANNA}:1995"},
        set(),
    ),
    (
        "group_mention",
        "text",
        f"{GROUP}:3001",
        "@relaydesk_test_bot 🙂 где мой заказ?",
        [],
        f"chat:{GROUP}",
        {"chat_id": GROUP},
        {"entities"},
    ),
    (
        "group_mention_after_emoji",
        "text",
        f"{GROUP}:3002",
        "Привет 👋👋 @relaydesk_test_bot, помогите",
        [],
        f"chat:{GROUP}",
        {},
        {"entities"},
    ),
    (
        "group_reply_to_bot",
        "text",
        f"{GROUP}:3003",
        "Still waiting",
        [],
        f"chat:{GROUP}",
        {"reply_to": f"{GROUP}:3000"},
        set(),
    ),
    (
        "group_command",
        "text",
        f"{GROUP}:3005",
        "/help@relaydesk_test_bot",
        [],
        f"chat:{GROUP}",
        {},
        {"entities"},
    ),
]


@pytest.mark.parametrize(
    ("name", "kind", "external_id", "text", "file_ids", "thread_key", "hints", "raw_keys"),
    MESSAGES,
    ids=[m[0] for m in MESSAGES],
)
def test_message_normalised(
    name: str,
    kind: str,
    external_id: str,
    text: str,
    file_ids: list[str],
    thread_key: str,
    hints: dict[str, Any],
    raw_keys: set[str],
) -> None:
    """Each recorded update becomes one inbound message of the right kind, id, text and files."""
    result = normalize_update(update(name), BOT)
    assert isinstance(result, Incoming)
    m = result.message
    assert (m.kind, m.external_id, m.text, m.thread_key) == (kind, external_id, text, thread_key)
    assert [f.file_id for f in result.files] == file_ids
    assert hints.items() <= dict(m.thread_hints).items()
    assert raw_keys <= set(m.raw or {})
    assert m.channel == "telegram"


IGNORED = [
    ("group_not_addressed", "not addressed"),
    ("message_from_bot", "from a bot"),
    ("channel_post", "unsupported update type"),
    ("my_chat_member_group_left", "supergroup"),
]


@pytest.mark.parametrize(("name", "reason"), IGNORED, ids=[i[0] for i in IGNORED])
def test_update_ignored(name: str, reason: str) -> None:
    """Updates that are not a customer writing to the bot are ignored, with a reason."""
    result = normalize_update(update(name), BOT)
    assert isinstance(result, Ignored)
    assert reason in result.reason


def test_entity_offsets_counted_in_utf16() -> None:
    """Entity offsets after emoji (two UTF-16 units each) still cover the right text."""
    result = normalize_update(update("text_emoji_entities"), BOT)
    assert isinstance(result, Incoming)
    entities = (result.message.raw or {})["entities"]
    assert [e["text"] for e in entities] == ["#1234", "https://shop.example/o/1234", "𝐁𝐎𝐋𝐃"]
    text = result.message.text
    for e in entities:
        assert text[e["offset"] : e["offset"] + e["length"]] == e["text"]
    assert utf16_len(text) > len(text)  # the case is only meaningful with astral characters


def test_text_link_keeps_its_url() -> None:
    """A text link's URL is kept beside the words it hides behind."""
    result = normalize_update(update("text_link_entity"), BOT)
    assert isinstance(result, Incoming)
    [entity] = (result.message.raw or {})["entities"]
    assert (entity["type"], entity["text"], entity["url"]) == (
        "text_link",
        "ссылка",
        "https://example.com/help",
    )


def test_mention_after_emoji_addresses_the_bot() -> None:
    """The bot's @name found through UTF-16 offsets after emoji makes a group message count."""
    assert isinstance(normalize_update(update("group_mention_after_emoji"), BOT), Incoming)
    other_bot = BotIdentity(BOT_ID + 1, "another_bot")
    assert isinstance(normalize_update(update("group_mention_after_emoji"), other_bot), Ignored)


def test_normalize_entities_with_no_entities() -> None:
    assert normalize_entities("plain", None) == []


def test_edit_carries_new_text_and_time() -> None:
    """An edited message names the stored message and brings its new text and edit time."""
    result = normalize_update(update("edited_message"), BOT)
    assert isinstance(result, Edit)
    assert result.incoming.message.external_id == f"{ANNA}:2001"
    assert result.incoming.message.text == "Где мой заказ? Order 1235 (typo fixed)"
    assert result.edited_at.timestamp() == 1764590460
    assert result.addressed


def test_forward_origin_noted() -> None:
    """A forwarded message keeps who wrote it first."""
    result = normalize_update(update("forwarded_user"), BOT)
    assert isinstance(result, Incoming)
    origin = (result.message.raw or {})["forward_origin"]
    assert (origin["type"], origin["name"], origin["user_id"]) == ("user", "Bob", 777000222)
    channel = normalize_update(update("forwarded_channel"), BOT)
    assert isinstance(channel, Incoming)
    assert (channel.message.raw or {})["forward_origin"]["name"] == "Shop news"


def test_contact_profile_from_sender() -> None:
    """The contact is the Telegram user: id as address, full name, username kept."""
    result = normalize_update(update("text_private"), BOT)
    assert isinstance(result, Incoming)
    c = result.message.contact
    assert (c.address, c.name, c.attrs["username"]) == (ANNA, "Анна Петрова", "anna_p")


@pytest.mark.parametrize(
    ("name", "reachable"),
    [("my_chat_member_kicked", False), ("my_chat_member_member", True)],
    ids=["blocked", "unblocked"],
)
def test_membership_changes(name: str, reachable: bool) -> None:
    """Blocking the bot in a private chat makes the contact unreachable; unblocking undoes it."""
    result = normalize_update(update(name), BOT)
    assert isinstance(result, Membership)
    assert (result.address, result.reachable) == (ANNA, reachable)
