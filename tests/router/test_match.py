"""decide(): rule order, stopping, accumulated effects, templates and the trace."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import pytest

from router import Facts, RuleSet, decide, load_rules

MONDAY_NOON_UTC = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
FLOW = """\
version: 1
agents: {alice: {capacity: 2}, bob: {capacity: 2}}
teams: {t: [alice, bob]}
queues: {a: {team: t}, b: {team: t, sla: slow}}
sla: {slow: {resolution: 2d}, fast: {first_response: 5m}}
rules:
  - name: mark vip
    when: {contact.tag: vip}
    then: {tag: vip, priority: high, sla: fast, assign: alice}
  - name: vip sees its own tag
    when: {tag: vip}
    then: {tag: seen-vip}
  - name: first task, continue
    when: {text: {contains: both}}
    then: {task: {queue: a, title: "A {contact_name}: {text:.10}"}}
    continue: true
  - name: same queue again
    when: {text: {contains: both}}
    then: {task: {queue: a}}
    continue: true
  - name: lower priority later
    when: {text: {contains: calm}}
    then: {priority: low}
  - name: greet
    when: {first_message: true}
    then: {auto_reply: "Hi {contact_name}, we got your {kind}."}
  - name: to b
    then: {task: {queue: b}}
  - name: after the catch-all
    then: {tag: never}
"""


@pytest.fixture(scope="module")
def flow() -> RuleSet:
    return load_rules(FLOW)


def facts(channel: str = "telegram", text: str = "", **extra: object) -> Facts:
    return Facts(channel, text, now=MONDAY_NOON_UTC, **extra)  # type: ignore[arg-type]


def test_refund_by_email_goes_to_billing(ruleset: RuleSet) -> None:
    """The refunds rule tags, sets the urgent SLA, titles the task and stops there."""
    decision = decide(ruleset, facts("email", "I want a refund for order 42"))
    assert decision.tags == ("refund",)
    assert [(t.queue, t.sla, t.title, t.rule) for t in decision.tasks] == [
        ("billing", "urgent", "Refund: I want a refund for", "refunds")
    ]
    assert [r.name for r in decision.trace] == ["vip", "refunds"]
    assert decision.trace[-1].stopped


def test_vip_on_telegram_falls_through_to_support(ruleset: RuleSet) -> None:
    """A rule without a task goes on; the catch-all task gets the queue's SLA."""
    decision = decide(ruleset, facts("telegram", "refund", contact_tags=frozenset({"vip"})))
    assert decision.tags == ("vip",)
    assert decision.priority == "high"
    assert [(t.queue, t.sla) for t in decision.tasks] == [("support", "standard")]
    assert decision.matched_rules == ("vip", "everything else")


def test_effects_accumulate_in_order(flow: RuleSet) -> None:
    """Tags accumulate, tag: sees earlier tags, sla/assign carry to later tasks, duplicates join."""
    decision = decide(
        flow, facts(text="both\nlines", contact_name="Ann", contact_tags=frozenset({"vip"}))
    )
    assert decision.tags == ("vip", "seen-vip")
    assert [(t.queue, t.sla, t.assign_to) for t in decision.tasks] == [
        ("a", "fast", "alice"),
        ("b", "fast", "alice"),
    ]
    assert decision.tasks[0].title == "A Ann: both lines"
    joined = next(r for r in decision.trace if r.name == "same queue again")
    assert joined.effects == (
        "task: joins the task already planned in queue a by 'first task, continue'",
    )
    assert "after the catch-all" not in decision.matched_rules


def test_last_priority_wins_and_queue_sla_applies(flow: RuleSet) -> None:
    """A later rule's priority replaces an earlier one; without sla: the queue's SLA applies."""
    decision = decide(flow, facts(text="calm", contact_tags=frozenset({"vip"})))
    assert decision.priority == "low"
    no_vip = decide(flow, facts(text="calm"))
    assert [(t.queue, t.sla, t.assign_to) for t in no_vip.tasks] == [("b", "slow", None)]


AUTO_REPLY = [
    ("human first message", {"contact_name": "Ann", "kind": "photo"}, "Hi Ann, we got your photo."),
    ("automated sender", {"is_automated": True}, None),
    ("follow-up message", {"is_first_message": False}, None),
]


@pytest.mark.parametrize(
    ("extra", "expected"), [c[1:] for c in AUTO_REPLY], ids=[c[0] for c in AUTO_REPLY]
)
def test_auto_reply(flow: RuleSet, extra: dict[str, object], expected: str | None) -> None:
    """The auto-reply is rendered for people and suppressed for automated senders."""
    decision = decide(flow, facts(**extra))
    assert decision.auto_reply == expected


def test_suppressed_auto_reply_is_explained(flow: RuleSet) -> None:
    """The trace of the greeting rule says why no auto-reply was produced."""
    decision = decide(flow, facts(is_automated=True))
    greet = next(r for r in decision.trace if r.name == "greet")
    assert greet.effects == ("auto_reply suppressed: the sender is automated",)


def test_no_rule_matching_gives_an_empty_decision(rules_text: str) -> None:
    """Without a matching rule there is no task, no tag and normal priority."""
    ruleset = load_rules(
        rules_text.replace("  - name: everything else\n    then: {task: {queue: support}}\n", "")
    )
    decision = decide(ruleset, facts("widget", "hello"))
    assert (decision.tasks, decision.tags, decision.priority) == ((), (), "normal")


def test_title_of_a_message_without_text(ruleset: RuleSet) -> None:
    """A photo without a caption gets '(photo)' as its text in templates."""
    decision = decide(ruleset, facts("email", "", kind="photo"))
    assert decision.tasks[0].title == "(photo)"


def test_trace_lists_conditions_with_details(ruleset: RuleSet) -> None:
    """A failed rule shows the condition that failed and why; matched ones show effects."""
    decision = decide(ruleset, facts("telegram", "refund"))
    refunds = decision.trace[1]
    assert not refunds.matched
    assert [(c.expr, c.ok, c.detail) for c in refunds.conditions] == [
        ("channel: [email, whatsapp]", False, "channel is telegram")
    ]
    assert decision.trace[2].effects[0].startswith("task in queue support")


def test_explain_and_to_dict(ruleset: RuleSet, rules_text: str) -> None:
    """explain() names every evaluated rule; to_dict() survives JSON."""
    decision = decide(ruleset, facts("whatsapp", "возврат денег"))
    text = decision.explain()
    assert "MATCH #1 'refunds'" in text
    assert "matched 'возврат'" in text
    data = json.loads(json.dumps(decision.to_dict()))
    assert data["tasks"][0]["queue"] == "billing"
    assert data["trace"][1]["conditions"][-1]["ok"] is True
    assert data["rules_version"] == hashlib.sha256(rules_text.encode()).hexdigest()[:12]


def test_decide_is_deterministic(ruleset: RuleSet) -> None:
    """The same facts give equal decisions and equal traces."""
    one = decide(ruleset, facts("email", "refund"))
    two = decide(ruleset, facts("email", "refund"))
    assert one == two
    assert one.trace == two.trace


def test_facts_need_an_aware_now() -> None:
    """A naive clock is refused: business-hours checks would be ambiguous."""
    with pytest.raises(ValueError, match="timezone-aware"):
        Facts("email", "hi", now=datetime(2026, 3, 2, 12, 0))


def test_unreachable_rule_is_a_warning_not_an_error(flow: RuleSet) -> None:
    """A rule after an unconditional stopping rule loads, with a warning naming both rules."""
    assert [w.path for w in flow.warnings] == ["rules[7]"]
    assert "'after the catch-all' is unreachable: rule 'to b'" in flow.warnings[0].message
    assert flow.warnings[0].severity == "warning"


def test_regex_details_report_each_rules_own_result() -> None:
    """A matched regex condition's detail is the match its test found; a failed one, and one
    whose required literal was missing (never searched), say "no match"."""
    ruleset = load_rules(
        """version: 1
agents: {alice: {capacity: 1}}
teams: {support: [alice]}
queues: {support: {team: support}}
rules:
  - name: order number
    when: {text: {matches: "order #(\\\\d+)"}}
    then: {tag: order}
    continue: true
  - name: refund
    when: {text: {matches: "(?i)refund|zwrot"}}
    then: {tag: refund}
    continue: true
  - name: refund again
    when: {text: {matches: "(?i)refund|zwrot"}}
    then: {task: {queue: support}}
"""
    )
    details = {
        r.name: [c.detail for c in r.conditions]
        for r in decide(ruleset, facts("api", "Zwrot please")).trace
    }
    assert details == {
        "order number": ["no match"],
        "refund": ["matched 'Zwrot'"],
        "refund again": ["matched 'Zwrot'"],
    }
    other = decide(ruleset, facts("api", "order #42 lost")).trace
    assert [c.detail for r in other for c in r.conditions] == [
        "matched 'order #42'",
        "no match",
        "no match",
    ]
