"""The pure half of `rules replay`: comparing decisions, tallying, previews."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from relaydesk.replay import Tally, compare, preview
from router import Decision, Facts, RuleSet, decide, load_rules

RULES = """\
version: 1
agents:
  alice: {capacity: 3}
  bob: {capacity: 3}
teams:
  support: [alice, bob]
queues:
  support: {team: support}
  billing: {team: support}
sla:
  urgent: {first_response: 15m}
rules:
  - name: vip
    when: {contact.tag: vip}
    then: {tag: vip, priority: high, assign: bob}
  - name: refunds
    when: {text: {contains: refund}}
    then: {tag: refund, sla: urgent, task: {queue: billing}}
  - name: everything
    then: {task: {queue: support}}
"""
NOW = datetime(2026, 3, 4, 10, tzinfo=UTC)


@pytest.fixture(scope="module")
def ruleset() -> RuleSet:
    return load_rules(RULES)


def decision(ruleset: RuleSet, text: str, *contact_tags: str) -> Decision:
    return decide(ruleset, Facts(channel="api", text=text, contact_tags=contact_tags, now=NOW))


def test_same_routing_is_no_change(ruleset: RuleSet) -> None:
    """A stored body equal in queue, tags, priority, SLA and assignee compares as unchanged."""
    d = decision(ruleset, "refund", "vip")
    assert compare(d.to_dict(), d) is None


def test_change_names_each_differing_field_and_the_new_rule(ruleset: RuleSet) -> None:
    """Moving to billing changes queue, tags and SLA; the change says which rule decides now."""
    old = decision(ruleset, "hello").to_dict()
    change = compare(old, decision(ruleset, "refund"))
    assert change is not None
    assert change.fields == ("queue", "tags", "sla")
    assert change.rule == "refunds"
    assert change.describe() == "queue support -> billing; tags - -> refund; sla - -> urgent"


def test_tag_order_does_not_count_as_a_change(ruleset: RuleSet) -> None:
    """Tags compare as a set: the same tags in another order are no change."""
    new = decision(ruleset, "refund", "vip")
    old = {**new.to_dict(), "tags": list(reversed(new.tags))}
    assert compare(old, new) is None


def test_tally_counts_queues_and_hand_assignments(ruleset: RuleSet) -> None:
    """Per-queue and per-agent counts compare old with new, with deltas."""
    tally = Tally()
    old = decision(ruleset, "refund").to_dict()
    for new in (decision(ruleset, "refund", "vip"), decision(ruleset, "refund")):
        tally.add(old, new, compare(old, new))
    assert (tally.examined, tally.changed) == (2, 1)
    assert tally.queue_rows() == [("billing", 2, 2, 0)]
    assert tally.agent_rows() == [("bob", 0, 1, 1)]


def test_stored_body_of_an_older_shape_still_compares(ruleset: RuleSet) -> None:
    """Missing keys in a stored body read as no tasks, no tags, normal priority."""
    change = compare({"rules_version": "x"}, decision(ruleset, "hello"))
    assert change is not None and change.fields == ("queue",)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain", '"plain"'),
        ('a "quote"\nline\tx', '"a \\"quote\\"\\nline\\tx"'),
        ("\x1b[31mred\u202e", '"\\u001b[31mred\\u202e"'),
        ("x" * 60, '"' + "x" * 49 + '…"'),
    ],
    ids=["plain", "quotes-newline-tab", "terminal-escape-bidi", "long"],
)
def test_preview_is_one_escaped_line(text: str, expected: str) -> None:
    """Previews never carry raw newlines, terminal escapes or bidi overrides."""
    assert preview(text) == expected
