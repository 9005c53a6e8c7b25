"""Decision.fired: the stored trace is exactly the matched part of the full one."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from router import Facts, decide, load_rules_file
from tests.conftest import ROOT

NOW = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("channel", "text", "contact_tags"),
    [
        ("email", "I want a refund for order 5", frozenset()),
        ("telegram", "Хочу возврат денег", frozenset({"vip"})),
        ("widget", "hello", frozenset()),
    ],
    ids=["refund-email", "vip-ru", "plain"],
)
def test_fired_is_the_matched_part_of_trace(
    channel: str, text: str, contact_tags: frozenset[str]
) -> None:
    """Rendering only matched rules gives the same entries as filtering the full trace."""
    ruleset = load_rules_file(ROOT / "rules.yaml")
    facts = Facts(channel=channel, text=text, contact_tags=contact_tags, now=NOW)
    full = decide(ruleset, facts)
    fired_only = decide(ruleset, facts)
    assert fired_only.fired == tuple(t for t in full.trace if t.matched)
    assert fired_only.fired  # every shipped-rules message matches at least one rule
    stored = fired_only.to_dict(full_trace=False)
    assert [t["name"] for t in stored["trace"]] == list(full.matched_rules)
    assert len(full.to_dict()["trace"]) > len(stored["trace"])
