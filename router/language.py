"""Language detection for ``language:`` conditions: py3langid, offline and deterministic.

py3langid ships its naive-Bayes model inside the wheel (about 4 MB, loaded once, lazily, in about
half a second) and classifies a short message in about 20 microseconds. Detection is restricted
to ``SUPPORTED_LANGUAGES``, which makes short texts far more reliable than the full 97-language
model, and it answers ``None`` for text too short or too ambiguous to call.
"""

from __future__ import annotations

import functools
from typing import Any

# ISO 639-1 codes a `language:` condition may name (validated at load time).
SUPPORTED_LANGUAGES: frozenset[str] = frozenset(
    {
        "ar",
        "be",
        "bg",
        "cs",
        "da",
        "de",
        "el",
        "en",
        "es",
        "et",
        "fa",
        "fi",
        "fr",
        "he",
        "hi",
        "hr",
        "hu",
        "id",
        "it",
        "ja",
        "kk",
        "ko",
        "lt",
        "lv",
        "ms",
        "nl",
        "no",
        "pl",
        "pt",
        "ro",
        "ru",
        "sk",
        "sl",
        "sr",
        "sv",
        "th",
        "tr",
        "uk",
        "vi",
        "zh",
    }
)
MIN_LETTERS = 3  # fewer letters than this: no language
MIN_CONFIDENCE = 0.15  # normalised probability below this: no language
_UKRAINIAN_ONLY = frozenset("іїєґІЇЄҐ")
_BELARUSIAN_ONLY = frozenset("іўІЎ")


@functools.cache
def _identifier() -> Any:
    # imported here: loading the model takes half a second, only rules with language: need it
    from py3langid.langid import (  # untyped: see [tool.mypy] overrides
        MODEL_FILE,
        LanguageIdentifier,
    )

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(sorted(SUPPORTED_LANGUAGES))
    return identifier


def warm_up_language_detector() -> None:
    """Load the model now (e.g. at server start) instead of on the first ``language:`` check."""
    _identifier()


@functools.lru_cache(maxsize=4096)
def detect_language(text: str) -> str | None:
    """The ISO 639-1 code of ``text``'s language, or None when it cannot be told reliably."""
    if sum(ch.isalpha() for ch in text) < MIN_LETTERS:
        return None
    code, confidence = _identifier().classify(text)
    if confidence < MIN_CONFIDENCE:
        return None
    # The model confuses short Russian with Ukrainian/Belarusian; those languages have letters
    # Russian lacks, so without any of them the text is Russian.
    if code == "uk" and not _UKRAINIAN_ONLY.intersection(text):
        return "ru"
    if code == "be" and not _BELARUSIAN_ONLY.intersection(text):
        return "ru"
    return str(code)
