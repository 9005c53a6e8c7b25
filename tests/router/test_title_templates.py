"""Task-title and auto-reply templates: known fields only, no attribute access."""

from __future__ import annotations

import pytest

from router.templates import parse_template

VALUES = {
    "channel": "email",
    "contact_name": "Ann",
    "text": "I want my money back",
    "kind": "text",
    "language": "en",
}

RENDERS = [
    ("plain", "New message", "New message"),
    ("fields", "{channel} from {contact_name}", "email from Ann"),
    ("truncation", "{text:.8}", "I want m"),
    ("padding spec", "[{kind:>6}]", "[  text]"),
    ("escaped braces", "{{literal}} {language}", "{literal} en"),
]


@pytest.mark.parametrize(
    ("source", "expected"), [r[1:] for r in RENDERS], ids=[r[0] for r in RENDERS]
)
def test_render(source: str, expected: str) -> None:
    """Known fields render with their format spec; doubled braces are literal."""
    assert parse_template(source).render(VALUES) == expected


REJECTS = [
    ("unknown field", "{email}", "unknown template field {email}"),
    ("attribute access", "{text.__class__}", "unknown template field {text.__class__}"),
    ("indexing", "{text[0]}", "unknown template field {text[0]}"),
    ("conversion", "{text!r}", "conversions like {text!r}"),
    ("nested field", "{text:{channel}}", "nested fields"),
    ("bad spec", "{text:d}", "bad format 'd' for {text}"),
    ("unbalanced", "{text", "bad template"),
    ("positional", "{}", "unknown template field {}"),
]


@pytest.mark.parametrize(
    ("source", "message"), [r[1:] for r in REJECTS], ids=[r[0] for r in REJECTS]
)
def test_reject(source: str, message: str) -> None:
    """Anything beyond a known field with a format spec is refused at load time."""
    with pytest.raises(ValueError) as caught:
        parse_template(source)
    assert message in str(caught.value)
