"""Reply text: quoted history and signatures are cut, the customer's words kept."""

from __future__ import annotations

import pytest

from channels.email.quotes import strip_reply

CASES = [
    ("english", "Yes.\n\nOn Tue, 3 Sep 2024, Support <s@x.test> wrote:\n> old", "Yes."),
    (
        "english wrapped",
        "Fine.\nOn Tue, 3 Sep 2024 at 10:00, Support <\ns@x.test> wrote:\n> old",
        "Fine.",
    ),
    ("russian", "Да.\n\n3 сент. 2024 г., Поддержка <s@x.test> писал(а):\n> старое", "Да."),
    ("russian feminine", "Да.\nАнна написала:\n> старое", "Да."),
    (
        "russian outlook",
        "Ок.\n\nОт: Поддержка\nОтправлено: 3 сентября 2024 г.\nТема: Re\n\nстарое",
        "Ок.",
    ),
    ("polish", "Tak.\n\nW dniu 3.09.2024 Obsługa <s@x.test> napisał(a):\n> stare", "Tak."),
    ("outlook separator", "OK\n-----Original Message-----\nFrom: a\n\nold", "OK"),
    ("outlook headers", "OK\n\nFrom: Support <s@x.test>\nSent: Tuesday\nTo: me\n\nold", "OK"),
    ("signature", "Thanks!\n-- \nKate\nCEO", "Thanks!"),
    ("only quotes keep everything", "> all quoted\n> nothing new", "> all quoted\n> nothing new"),
    ("a From line in prose stays", "From: the manual, page 3.\nIt says nothing.", None),
    ("crlf", "Hi\r\n\r\nOn Mon, Bob wrote:\r\n> x", "Hi"),
]


@pytest.mark.parametrize(("text", "want"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_strip_reply(text: str, want: str | None) -> None:
    """Each attribution style and separator starts the quoted history."""
    assert strip_reply(text) == (want if want is not None else text)
