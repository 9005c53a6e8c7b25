"""Static plans skip rules by channel, kind and flags without changing any decision or trace."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from router import Facts, RuleSet, decide, load_rules
from router.static_plan import PlanCache

NOW = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)

# Static conditions first, last, negated, alone, nested and mixed with tags that rules add.
RULES = """\
version: 1
agents: {alice: {capacity: 3}}
teams: {support: [alice]}
queues: {support: {team: support}, billing: {team: support}, photos: {team: support}}
rules:
  - name: email first message
    when: {channel: email, first_message: true}
    then: {tag: new-mail}
  - name: automated
    when: {automated: true}
    then: {tag: robot}
  - name: not chat
    when: {not: {channel: [telegram, widget]}, text: {contains: order}}
    then: {tag: order}
  - name: tagged by a rule above
    when: {tag: order, channel: [email, api]}
    then: {tag: order-mail}
  - name: photo
    when: {kind: photo, channel: [telegram, whatsapp]}
    then: {task: {queue: photos}}
    continue: true
  - name: refund on whatsapp
    when: {channel: whatsapp, text: {matches: "refund|возврат"}}
    then: {task: {queue: billing}}
  - name: any of
    when: {any: [{channel: api}, {kind: voice}]}
    then: {tag: special}
  - name: follow-up on telegram
    when: {channel: telegram, first_message: false, kind: text}
    then: {task: {queue: support}}
  - name: everything else
    then: {task: {queue: support}}
"""


def naive(ruleset: RuleSet) -> RuleSet:
    """The same rules evaluated from every rule's first condition, with nothing skipped."""
    copied = copy.copy(ruleset)
    copied.__dict__["static_plans"] = PlanCache(ruleset.rules, static=lambda _: False)
    return copied


facts = st.builds(
    Facts,
    channel=st.sampled_from(["email", "telegram", "whatsapp", "widget", "api"]),
    kind=st.sampled_from(["text", "photo", "voice", "document"]),
    text=st.sampled_from(["", "my order", "refund please", "Хочу возврат", "hello"]),
    dialog_tags=st.frozensets(st.sampled_from(["order", "vip"])),
    is_first_message=st.booleans(),
    is_automated=st.booleans(),
    now=st.just(NOW),
)


@settings(max_examples=300, deadline=None)
@given(facts)
def test_decisions_and_traces_are_those_of_full_evaluation(f: Facts) -> None:
    """Every field of the decision and every line of its full trace match full evaluation."""
    ruleset = load_rules(RULES, "static.yaml")
    assert decide(ruleset, f).to_dict() == decide(naive(ruleset), f).to_dict()


def test_rules_failing_on_static_facts_are_not_evaluated() -> None:
    """A telegram text follow-up walks only the rules its static facts do not rule out."""
    ruleset = load_rules(RULES, "static.yaml")
    plan = ruleset.static_plans.get(("telegram", "text", False, False))
    walked = [step.rule.name for step in plan.steps]
    assert walked == ["not chat", "any of", "follow-up on telegram", "everything else"]
    assert plan.failed_at[0] == 1 and plan.failed_at[4] == 1  # channel: email; kind: photo
    follow_up = next(s for s in plan.steps if s.rule.name == "follow-up on telegram")
    assert follow_up.offset == 3 and follow_up.conditions == ()  # all three decided statically
