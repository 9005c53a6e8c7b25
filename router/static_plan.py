"""Per message shape, the rules worth evaluating: static conditions decided once, not per message.

A message's channel, kind and first/automated flags are known before any rule runs and no rule
changes them, and those conditions cost least, so they come first in every rule's evaluation
order. For one combination of them (a few dozen in practice), a rule whose leading static
conditions fail is known to fail at that position, and one whose leading static conditions
pass starts at its first other condition. `decide` walks only the rules that remain; the trace
is exactly what evaluating every rule from its first condition would have recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from router.conditions import Condition, IsFlag, OneOf
from router.model import Rule

StaticKey = tuple[str, str, bool, bool]  # channel, kind, is_first_message, is_automated

_STATIC_ATTRS = frozenset({"channel", "kind", "is_first_message", "is_automated"})


@dataclass(frozen=True, slots=True)
class _Facts:
    """The static facts as attributes, for the conditions' own `test`."""

    channel: str
    kind: str
    is_first_message: bool
    is_automated: bool


@dataclass(frozen=True, slots=True)
class Step:
    position: int  # the rule's place in the file (its index in RuleSet.rules)
    rule: Rule
    offset: int  # leading static conditions already passed
    conditions: tuple[Condition, ...]  # the rest, in evaluation order


@dataclass(frozen=True, slots=True)
class StaticPlan:
    steps: tuple[Step, ...]
    # per rule position: the 1-based position of its failing static condition, 0 when it is
    # in `steps` (decided per message)
    failed_at: tuple[int, ...]


def is_static(condition: Condition) -> bool:
    return isinstance(condition, OneOf | IsFlag) and condition.attr in _STATIC_ATTRS


def build_plan(
    rules: Sequence[Rule], key: StaticKey, static: Callable[[Condition], bool] = is_static
) -> StaticPlan:
    facts = _Facts(*key)
    steps: list[Step] = []
    failed_at: list[int] = []
    for position, rule in enumerate(rules):
        conditions = rule.conditions
        offset, failed = 0, 0
        while offset < len(conditions) and static(conditions[offset]):
            if not conditions[offset].test(facts):  # type: ignore[arg-type]
                failed = offset + 1
                break
            offset += 1
        failed_at.append(failed)
        if not failed:
            steps.append(Step(position, rule, offset, conditions[offset:]))
    return StaticPlan(tuple(steps), tuple(failed_at))


class PlanCache:
    """Plans by static key, built on first use. Bounded: keys come from a few small sets."""

    __slots__ = ("_limit", "_plans", "_rules", "_static")

    def __init__(
        self,
        rules: Sequence[Rule],
        *,
        static: Callable[[Condition], bool] = is_static,
        limit: int = 1024,
    ) -> None:
        self._rules = rules
        self._static = static
        self._limit = limit
        self._plans: dict[StaticKey, StaticPlan] = {}

    def get(self, key: StaticKey) -> StaticPlan:
        plan = self._plans.get(key)
        if plan is None:
            if len(self._plans) >= self._limit:  # channels and kinds are closed sets; still
                self._plans.clear()
            plan = self._plans[key] = build_plan(self._rules, key, self._static)
        return plan
