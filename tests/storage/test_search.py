"""Full-text search behind GET /api/v1/dialogs?q=: word prefixes, any case, any script."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import update

from inbox.context import SERVICES
from storage import search
from storage.search import search_terms
from storage.tables import messages
from tests.builders import api_message
from tests.conftest import AUTH

TEXTS = {
    "en": "I want a Refund for order 4417",
    "ru": "Хочу ВОЗВРАТ денег за заказ",
    "pl": "Proszę o zwrot, zamówienie 4417",
    "markup": '<b>bold</b> claims; don\'t "quote" me OR NOT',
}


async def found(client: TestClient, q: str) -> list[str]:
    r = await client.get("/api/v1/dialogs", params={"q": q}, headers=AUTH)
    assert r.status == 200, await r.text()
    items: list[dict[str, Any]] = (await r.json())["items"]
    return sorted(d["contact"]["identities"][0]["address"] for d in items)


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("refund", ["en"]),
        ("REFU", ["en"]),
        ("возврат", ["ru"]),
        ("возв", ["ru"]),
        ("4417", ["en", "pl"]),
        ("4417 zwrot", ["pl"]),
        ("zwrot refund", []),
        ('"quote" OR NOT', ["markup"]),
        ("NEAR(", []),
        ("*", []),
        ("don't", ["markup"]),
    ],
    ids=[
        "word",
        "prefix-any-case",
        "cyrillic",
        "cyrillic-prefix",
        "number",
        "all-words",
        "no-message-has-both",
        "syntax-is-text",
        "fts-operator",
        "star-only",
        "apostrophe",
    ],
)
async def test_search_finds_words(client: TestClient, q: str, expected: list[str]) -> None:
    """Each word must appear (as a prefix) in one message; query syntax is never interpreted."""
    for contact, text in TEXTS.items():
        await client.post(
            "/api/v1/messages", json=api_message(contact, contact=contact, text=text), headers=AUTH
        )
    assert await found(client, q) == expected


async def test_edited_text_is_searched_by_its_new_words(client: TestClient) -> None:
    """The index follows edits of a message's text."""
    sent = await (
        await client.post(
            "/api/v1/messages",
            json=api_message("e1", contact="e", text="first words"),
            headers=AUTH,
        )
    ).json()
    async with client.app[SERVICES].db.write() as tx:
        await tx.execute(
            update(messages).where(messages.c.id == sent["id"]).values(text="second thoughts")
        )
    assert await found(client, "first") == []
    assert await found(client, "second") == ["e"]


def test_terms_are_words_only() -> None:
    """Operators and quotes never reach the engines' query syntax."""
    assert search_terms('a"b* OR (c) NEAR/2 д_е') == ["a", "b", "or", "c", "near", "2", "д", "е"]


async def test_many_hits_path_finds_the_same(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL's walk-the-dialogs path (for common words) answers like the lookup path."""
    for i in range(6):
        body = api_message(f"m{i}", contact=f"c{i}", text="refund" if i % 2 else "hello")
        await client.post("/api/v1/messages", json=body, headers=AUTH)
    few = await found(client, "refu")
    monkeypatch.setattr(search, "FEW_HITS", 2)
    assert await found(client, "refu") == few == ["c1", "c3", "c5"]
