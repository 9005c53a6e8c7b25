"""Every ``when:`` condition, one table: (condition, message facts) -> matches or not."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from router import Facts, decide, load_rules

HEADER = """\
version: 1
agents: {alice: {capacity: 1}}
teams: {t: [alice]}
queues: {q: {team: t}}
hours:
  office: {timezone: Europe/Moscow, days: mon-fri, time: "09:00-18:00"}
rules:
  - name: probe
    when: %s
    then: {tag: hit}
"""
NOON_MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # 12:00 in Moscow
SUNDAY = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

CASES: list[tuple[str, str, dict[str, Any], bool]] = [
    ("channel equal", "{channel: email}", {"channel": "email"}, True),
    ("channel differs", "{channel: email}", {"channel": "telegram"}, False),
    ("channel in list", "{channel: [email, whatsapp]}", {"channel": "whatsapp"}, True),
    (
        "contains is case-insensitive",
        "{text: {contains: REFUND}}",
        {"text": "a Refund please"},
        True,
    ),
    ("contains any of list", "{text: {contains: [zwrot, возврат]}}", {"text": "ВОЗВРАТ!"}, True),
    ("contains misses", "{text: {contains: refund}}", {"text": "hello"}, False),
    ("matches regex", "{text: {matches: 'order\\s+#?\\d+'}}", {"text": "Order #123 late"}, True),
    (
        "matches is case-insensitive unicode",
        "{text: {matches: 'привет'}}",
        {"text": "ПРИВЕТ"},
        True,
    ),
    ("matches misses", "{text: {matches: '^refund$'}}", {"text": "no refund"}, False),
    (
        "contains and matches both needed",
        "{text: {contains: a, matches: z}}",
        {"text": "abc"},
        False,
    ),
    ("kind", "{kind: [photo, document]}", {"kind": "photo"}, True),
    ("kind differs", "{kind: voice}", {"kind": "text"}, False),
    ("dialog tag", "{tag: vip}", {"dialog_tags": {"vip"}}, True),
    ("dialog tag any of", "{tag: [a, b]}", {"dialog_tags": {"b", "c"}}, True),
    ("dialog tag missing", "{tag: vip}", {"contact_tags": {"vip"}}, False),
    ("contact tag", "{contact.tag: vip}", {"contact_tags": {"vip"}}, True),
    ("contact attribute", "{contact.plan: pro}", {"contact_attrs": {"plan": "pro"}}, True),
    (
        "contact attribute list",
        "{contact.plan: [pro, team]}",
        {"contact_attrs": {"plan": "team"}},
        True,
    ),
    (
        "contact attribute number as text",
        "{contact.seats: 10}",
        {"contact_attrs": {"seats": "10"}},
        True,
    ),
    ("contact attribute absent", "{contact.plan: pro}", {}, False),
    (
        "language detected",
        "{language: ru}",
        {"text": "Здравствуйте, у меня не проходит оплата"},
        True,
    ),
    ("language given wins", "{language: en}", {"text": "Здравствуйте", "language": "en"}, True),
    (
        "language list",
        "{language: [de, pl]}",
        {"text": "Dzień dobry, mam problem z płatnością"},
        True,
    ),
    ("language of too short text", "{language: en}", {"text": "ok"}, False),
    ("first message", "{first_message: true}", {}, True),
    ("not first message", "{first_message: false}", {"is_first_message": False}, True),
    ("automated sender", "{automated: true}", {"is_automated": True}, True),
    ("business hours inside", "{business_hours: office}", {"now": NOON_MONDAY}, True),
    ("business hours on sunday", "{business_hours: office}", {"now": SUNDAY}, False),
    ("not business hours", "{not: {business_hours: office}}", {"now": SUNDAY}, True),
    ("any: one holds", "{any: [{channel: api}, {tag: vip}]}", {"dialog_tags": {"vip"}}, True),
    ("any: none holds", "{any: [{channel: api}, {tag: vip}]}", {}, False),
    ("all: both hold", "{all: [{channel: email}, {kind: text}]}", {"channel": "email"}, True),
    ("all: one fails", "{all: [{channel: email}, {kind: photo}]}", {"channel": "email"}, False),
    (
        "not of two keys is not-(a and b)",
        "{not: {channel: email, kind: text}}",
        {"channel": "email"},
        False,
    ),
    ("keys are ANDed", "{channel: email, contact.tag: vip}", {"channel": "email"}, False),
    ("nested any inside not", "{not: {any: [{channel: api}, {channel: email}]}}", {}, True),
    ("empty when matches everything", "{}", {}, True),
]


@pytest.mark.parametrize(
    ("when", "facts", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_condition(when: str, facts: dict[str, Any], expected: bool) -> None:
    """The probe rule tags the message exactly when its condition holds."""
    ruleset = load_rules(HEADER % when)
    values: dict[str, Any] = {"channel": "telegram", "now": NOON_MONDAY, **facts}
    decision = decide(ruleset, Facts(**values))
    assert ("hit" in decision.tags) is expected, decision.explain()
    assert decision.trace[0].matched is expected


def test_regex_is_compiled_once_at_load() -> None:
    """The compiled rule holds a re.Pattern, so deciding never compiles."""
    ruleset = load_rules(HEADER % "{text: {matches: 'a+'}}")
    condition = ruleset.rules[0].conditions[0]
    assert condition.pattern.pattern == "a+"  # type: ignore[attr-defined]


def test_language_is_detected_only_when_a_rule_needs_it() -> None:
    """With no language condition the decision leaves language undetected (None)."""
    ruleset = load_rules(HEADER % "{channel: telegram}")
    decision = decide(ruleset, Facts("telegram", "Здравствуйте, как дела", now=NOON_MONDAY))
    assert decision.language is None
    assert not ruleset.uses_language
