"""The regex prefilter is exact: it never turns away a text the regex would match."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from router.regex_prefilter import fold_for_literals, required_literals


@pytest.mark.parametrize(
    ("pattern", "literals"),
    [
        (r"\brefund\w*\s+#?42\b", ("refund",)),
        (r"\border\w*\s+#?123\b", ("order", "123")),
        (r"refund|возврат|zwrot", ()),
        (r"ab?cdef", ("cdef",)),
        (r"[a-z]+XYZ123", ("xyz123",)),
        (r"(?x) r e f u n d", ("refund",)),
        (r"возврат денег", ()),
        (r"ab", ()),
        (r"(refund)", ()),
        (r"abc\d+abc", ("abc",)),
    ],
    ids=[
        "word-boundaries",
        "two-runs",
        "alternation",
        "optional-char",
        "class-then-literal",
        "verbose",
        "non-ascii",
        "too-short",
        "group",
        "repeated-run",
    ],
)
def test_required_literals(pattern: str, literals: tuple[str, ...]) -> None:
    """The literals are the top-level ASCII runs every match must contain, longest first."""
    assert required_literals(re.compile(pattern, re.IGNORECASE)) == literals


@pytest.mark.parametrize(
    "text",
    ["REFUND please", "ıncome refund", "Reſund", "Kelvin: \u212aiwi"],
    ids=["upper", "dotless-i", "long-s", "kelvin"],
)
def test_case_variants_re_matches_are_kept(text: str) -> None:
    """Letters re.IGNORECASE pairs with ASCII (İ ı ſ K) do not hide a literal."""
    for pattern in (r"refund", r"income", r"kiwi"):
        compiled = re.compile(pattern, re.IGNORECASE)
        literals = required_literals(compiled)
        if compiled.search(text):
            assert literals and all(lit in fold_for_literals(text) for lit in literals)


ALPHABET = st.sampled_from(list("abcDEFiIsSkK ıİſ\u212a#0123-_ßΣσ"))
ATOMS = st.sampled_from(
    [
        "a",
        "b",
        "c",
        "i",
        "s",
        "k",
        "I",
        "S",
        "K",
        "x?",
        "[ab]",
        "\\d",
        ".",
        " ",
        "\\b",
        "(?:ab|c)",
        "s+",
        "ki",
        "sik",
    ]
)


@settings(max_examples=400, deadline=None)
@given(atoms=st.lists(ATOMS, min_size=1, max_size=8), text=st.text(ALPHABET, max_size=30))
def test_prefilter_never_rejects_a_match(atoms: list[str], text: str) -> None:
    """Whenever the regex matches a text, the text contains each of its required literals."""
    compiled = re.compile("".join(atoms), re.IGNORECASE)
    if compiled.search(text):
        folded = fold_for_literals(text)
        assert all(literal in folded for literal in required_literals(compiled))
