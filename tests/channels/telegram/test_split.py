"""Long Telegram replies cut into parts of at most 4,096 UTF-16 units at line, then word, breaks."""

from __future__ import annotations

import pytest

from channels.telegram.entities import utf16_len
from channels.telegram.outbound import TEXT_LIMIT, split_text

EMOJI = "😀"  # outside the BMP: two UTF-16 units, one Python character

CASES = [
    ("fits exactly", "a" * 4096, [4096]),
    ("one unit over", "a" * 4097, [4096, 1]),
    ("emoji fit exactly", EMOJI * 2048, [4096]),
    ("one emoji over", EMOJI * 2049, [4096, 2]),
    ("emoji never halved", "a" + EMOJI * 2048, [4095, 2]),
    ("cut at the line break", "a" * 3000 + "\n" + "b" * 2000, [3000, 2000]),
    (
        "line break beats a later space",
        "a" * 2000 + "\n" + "b" * 1500 + " " + "c" * 1000,
        [2000, 2501],
    ),
    ("cut at the last space", "word " * 1000, [4094, 904]),
    ("emoji words cut at a space", (EMOJI * 9 + " ") * 300, [4084, 1614]),
]


@pytest.mark.parametrize(("text", "sizes"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_parts_fit_and_cut_where_expected(text: str, sizes: list[int]) -> None:
    """Each part is at most 4,096 UTF-16 units, cut at the expected place, losing no words."""
    parts = split_text(text)
    assert [utf16_len(p) for p in parts] == sizes
    assert all(utf16_len(p) <= TEXT_LIMIT for p in parts)
    assert " ".join(parts).split() == text.split() or "".join(parts) == text


def test_no_part_starts_or_ends_with_the_whitespace_it_was_cut_at() -> None:
    """Parts are trimmed at the cut, so no message begins with a blank line or a space."""
    parts = split_text(("line of text " * 30 + "\n\n") * 40)
    assert len(parts) > 1
    assert all(p == p.strip() for p in parts)
