"""Static plans skip rules by channel, kind, flags, text and contact tags without changing any
decision or trace."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from router import Facts, RuleSet, decide, load_rules
from router.conditions import Context
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
  - name: contains first
    when: {text: {contains: [order, заказ]}, language: [ru, en]}
    then: {tag: order-vip}
  - name: regex with two literals
    when: {text: {matches: 'order\\s+#?123'}}
    then: {tag: order-123}
  - name: contact tag first
    when: {contact.tag: [gold, vip], text: {contains: order}}
    then: {tag: gold-order}
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
    copied.__dict__["static_plans"] = PlanCache(ruleset.rules, static=lambda _: False, gated=False)
    return copied


facts = st.builds(
    Facts,
    channel=st.sampled_from(["email", "telegram", "whatsapp", "widget", "api"]),
    kind=st.sampled_from(["text", "photo", "voice", "document"]),
    text=st.sampled_from(
        [
            "",
            "my order",
            "refund please",
            "Хочу возврат",
            "hello",
            "ORDER #123",
            "order 12",
            "мой ЗАКАЗ",
            "123 order",
        ]
    ),
    dialog_tags=st.frozensets(st.sampled_from(["order", "vip"])),
    contact_tags=st.frozensets(st.sampled_from(["gold", "vip", "new"])),
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
    assert walked == [
        "not chat", "contains first", "regex with two literals", "contact tag first", "any of",
        "follow-up on telegram", "everything else",
    ]  # fmt: skip
    assert plan.failed_at[0] == 1 and plan.failed_at[4] == 1  # channel: email; kind: photo
    follow_up = next(s for s in plan.steps if s.rule.name == "follow-up on telegram")
    assert follow_up.offset == 3 and follow_up.conditions == ()  # all three decided statically


def test_rules_whose_first_condition_needs_absent_text_are_not_walked() -> None:
    """Text and contact-tag gates open only the rules whose first condition can pass."""
    ruleset = load_rules(RULES, "static.yaml")
    plan = ruleset.static_plans.get(("telegram", "text", False, False))
    assert plan.gates is not None

    def walked(text: str, contact_tags: frozenset[str] = frozenset()) -> list[str]:
        f = Facts(channel="telegram", text=text, contact_tags=contact_tags, now=NOW)
        return [step.rule.name for step in plan.gates.open_steps(_context(f))]  # type: ignore[union-attr]

    always = ["not chat", "any of", "follow-up on telegram", "everything else"]
    assert walked("hello") == always
    assert walked("Мой ЗАКАЗ") == ["not chat", "contains first", *always[1:]]
    assert walked("order 12") == ["not chat", "contains first", *always[1:]]  # no "123"
    assert walked("ORDER #123") == [
        "not chat",
        "contains first",
        "regex with two literals",
        *always[1:],
    ]
    assert walked("hi", frozenset({"vip", "new"})) == ["not chat", "contact tag first", *always[1:]]
    assert plan.failed_at[6] == 1  # "contact tag first" fails at its first condition unless opened


def _context(f: Facts) -> Context:
    from router.match import _Context

    return _Context(f, f.dialog_tags)
