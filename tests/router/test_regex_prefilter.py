"""The regex prefilter is exact: it never turns away a text the regex would match."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from router.regex_prefilter import fold_for_literals, required_literal


@pytest.mark.parametrize(
    ("pattern", "literal"),
    [
        (r"\brefund\w*\s+#?42\b", "refund"),
        (r"refund|возврат|zwrot", None),
        (r"ab?cdef", "cdef"),
        (r"[a-z]+XYZ123", "xyz123"),
        (r"(?x) r e f u n d", "refund"),
        (r"возврат денег", None),
        (r"ab", None),
        (r"(refund)", None),
    ],
    ids=["word-boundaries", "alternation", "optional-char", "class-then-literal", "verbose",
         "non-ascii", "too-short", "group"],
)
def test_required_literal(pattern: str, literal: str | None) -> None:
    """The literal is the longest top-level ASCII run every match must contain, or None."""
    assert required_literal(re.compile(pattern, re.IGNORECASE)) == literal


@pytest.mark.parametrize("text", ["REFUND please", "ıncome refund", "Reſund", "Kelvin: \u212aiwi"],
                         ids=["upper", "dotless-i", "long-s", "kelvin"])
def test_case_variants_re_matches_are_kept(text: str) -> None:
    """Letters re.IGNORECASE pairs with ASCII (İ ı ſ K) do not hide a literal."""
    for pattern in (r"refund", r"income", r"kiwi"):
        compiled = re.compile(pattern, re.IGNORECASE)
        literal = required_literal(compiled)
        if compiled.search(text):
            assert literal is not None and literal in fold_for_literals(text)


ALPHABET = st.sampled_from(list("abcDEFiIsSkK ıİſ\u212a#0123-_ßΣσ"))
ATOMS = st.sampled_from(["a", "b", "c", "i", "s", "k", "I", "S", "K", "x?", "[ab]", "\\d", ".", " ",
                         "\\b", "(?:ab|c)", "s+", "ki", "sik"])


@settings(max_examples=400, deadline=None)
@given(atoms=st.lists(ATOMS, min_size=1, max_size=8), text=st.text(ALPHABET, max_size=30))
def test_prefilter_never_rejects_a_match(atoms: list[str], text: str) -> None:
    """Whenever the regex matches a text, the text contains the pattern's required literal."""
    compiled = re.compile("".join(atoms), re.IGNORECASE)
    literal = required_literal(compiled)
    if literal is not None and compiled.search(text):
        assert literal in fold_for_literals(text)
