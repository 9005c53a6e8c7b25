"""A cheap necessary condition for a regex match: its required literal texts are present.

Most `text: {matches: ...}` rules do not match most messages, and a regex search costs
far more than a substring test. Every run of literal characters at a pattern's top level
(in its sequence, not inside a group or an alternation) must appear in every match. When a
run is ASCII, case-insensitive matching can only have matched it against ASCII letters or
the four non-ASCII letters Python's re pairs with them (İ ı ſ K). Folding those four to
their ASCII letters and lowering the text keeps the test exact: it never rejects a text
the regex would match.
"""

from __future__ import annotations

import importlib
import re
from typing import Any

# CPython's own regex parser (3.11+); typeshed has no stubs for these private modules.
sre_parse: Any = importlib.import_module("re._parser")
sre_constants: Any = importlib.import_module("re._constants")

# The non-ASCII letters re.IGNORECASE matches against ASCII letters (see the re docs).
_FOLD = str.maketrans({"İ": "i", "ı": "i", "ſ": "s", "K": "k"})
MIN_LITERAL = 3


def fold_for_literals(text: str) -> str:
    """The text as required literals are looked up in."""
    return text.translate(_FOLD).lower()


def required_literals(pattern: re.Pattern[str]) -> tuple[str, ...]:
    """The ASCII texts (lowered, longest first) every match of `pattern` contains."""
    try:
        parsed = sre_parse.parse(pattern.pattern, pattern.flags)
    except (re.error, RecursionError):  # pragma: no cover - the pattern compiled already
        return ()
    runs: list[str] = []
    run: list[str] = []
    for op, arg in [*parsed, (None, None)]:  # a sentinel ends the last run
        if op is sre_constants.LITERAL and arg < 128:
            run.append(chr(arg))
            continue
        if len(run) >= MIN_LITERAL:
            runs.append("".join(run).lower())
        run = []
    return tuple(sorted(dict.fromkeys(runs), key=len, reverse=True))
