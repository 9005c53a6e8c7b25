"""Offline language detection for ``language:`` conditions."""

from __future__ import annotations

import pytest

from router import SUPPORTED_LANGUAGES, detect_language

SAMPLES = [
    ("russian", "Здравствуйте, у меня не проходит оплата", "ru"),
    ("short russian is not ukrainian", "Хочу возврат", "ru"),
    ("ukrainian", "Привіт, у мене не працює оплата", "uk"),
    ("english", "Hello, my payment fails every time", "en"),
    ("polish", "Dzień dobry, mam problem z płatnością", "pl"),
    ("german", "Wo ist meine Bestellung?", "de"),
    ("kazakh", "Сәлеметсіз бе, тапсырысым келмеді", "kk"),
    ("too short", "hi", None),
    ("no letters", "12345 !!!", None),
]


@pytest.mark.parametrize(
    ("text", "expected"), [s[1:] for s in SAMPLES], ids=[s[0] for s in SAMPLES]
)
def test_detect_language(text: str, expected: str | None) -> None:
    """Common support messages get their ISO 639-1 code; undecidable ones get None."""
    assert detect_language(text) == expected


def test_detected_codes_are_supported() -> None:
    """Every code the detector can answer is one a rule may name."""
    assert {"en", "ru", "uk", "pl", "de", "kk"} <= SUPPORTED_LANGUAGES
