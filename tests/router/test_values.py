"""router.values.value: value classes compare, hash and validate as frozen dataclasses do."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from router import CandidateView, Facts, TaskPlan, WaitingTask
from router.decision import Decision, RuleTrace

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def test_equal_values_hash_alike_and_dedupe_in_a_set() -> None:
    """Two values with equal fields are equal, hash alike, and a set keeps one of them."""
    a = TaskPlan("billing", "Refund", None, None, "refunds", frozenset({"de"}))
    b = TaskPlan("billing", "Refund", None, None, "refunds", frozenset({"de"}))
    c = TaskPlan("billing", "Refund", None, None, "other rule")
    assert a == b and a != c
    assert hash(a) == hash(b)
    assert len({a, b, c}) == 2


def test_value_classes_take_no_attributes_beyond_their_fields() -> None:
    """Slots: a misspelt attribute is an error, not a silent new field."""
    view = CandidateView("alice", True, None, 1.0, 3, True, frozenset())
    with pytest.raises(AttributeError):
        view.lod = 2.0  # type: ignore[attr-defined]


def test_post_init_still_validates_and_normalises() -> None:
    """Facts turns tag collections into frozensets and rejects a naive clock; WaitingTask
    rejects an unknown priority."""
    facts = Facts(channel="email", dialog_tags=["vip"], now=NOW)  # type: ignore[arg-type]
    assert facts.dialog_tags == frozenset({"vip"})
    with pytest.raises(ValueError, match="timezone-aware"):
        Facts(channel="email", now=datetime(2026, 3, 2, 12, 0))
    with pytest.raises(ValueError, match="unknown priority"):
        WaitingTask(1, "billing", "whenever", None, NOW)


def test_decision_caches_its_rendered_trace() -> None:
    """Decision has no slots so its trace, rendered on first access, is kept."""
    renders: list[bool] = []
    rule = RuleTrace(0, "refunds", 3, True, (), ("tag refund",), False)

    def render(matched_only: bool) -> tuple[RuleTrace, ...]:
        renders.append(matched_only)
        return (rule,)

    decision = Decision((), "normal", (), None, "v1", trace_source=render)
    assert decision.fired == (rule,) and decision.fired == (rule,)
    assert decision.matched_rules == ("refunds",)
    assert renders == [True]
