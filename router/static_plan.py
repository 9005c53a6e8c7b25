"""Per message shape, the rules worth evaluating: static conditions decided once, not per message.

A message's channel, kind and first/automated flags are known before any rule runs and no rule
changes them, and those conditions cost least, so they come first in every rule's evaluation
order. For one combination of them (a few dozen in practice), a rule whose leading static
conditions fail is known to fail at that position, and one whose leading static conditions
pass starts at its first other condition.

A remaining rule whose first condition looks for text (`text.contains`, or a regex with
required literals) or for a contact tag is also indexed under those strings: a message that
has none of them fails that rule at that condition, so `Gates.open_steps` hands `decide` only the
rules whose first condition can pass, plus the rules it cannot judge ahead. Neither the text
nor the contact's tags change while the rules run, which keeps this exact.

`decide` walks only the rules that remain; the trace is exactly what evaluating every rule
from its first condition would have recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from router.conditions import AnyTag, Condition, Context, IsFlag, OneOf, TextContains, TextMatches
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


Index = tuple[tuple[str, tuple[int, ...]], ...]  # a string and the steps (by index) it opens


@dataclass(frozen=True, slots=True)
class Gates:
    """The steps whose first condition needs a string, indexed by those strings."""

    steps: tuple[Step, ...]
    always: tuple[int, ...]  # steps that are walked for every message
    needles: Index  # text.contains: any needle opens the step (in the casefolded text)
    literals: Index  # text.matches: every required literal must be there (in literal_text)
    wanted: dict[int, int]  # steps that need more than one literal: how many
    contact_tags: dict[str, tuple[int, ...]]

    def open_steps(self, ctx: Context) -> list[Step]:
        """The steps whose first condition may pass for this message, in rule order."""
        opened = set(self.always)
        if self.needles:
            text = ctx.folded_text
            for needle, indexes in self.needles:
                if needle in text:
                    opened.update(indexes)
        if self.literals:
            text = ctx.literal_text
            counts: dict[int, int] = {}
            for literal, indexes in self.literals:
                if literal in text:
                    for index in indexes:
                        counts[index] = counts.get(index, 0) + 1
            wanted = self.wanted
            opened.update(i for i, n in counts.items() if n >= wanted.get(i, 1))
        for tag in ctx.contact_tags:
            opened.update(self.contact_tags.get(tag, ()))
        steps = self.steps
        return [steps[i] for i in sorted(opened)]


@dataclass(frozen=True, slots=True)
class StaticPlan:
    steps: tuple[Step, ...]
    # per rule position: the 1-based position of its failing static condition, 0 when it is
    # in `steps` (decided per message); for a gated step, the position of its first condition
    # (which fails unless `gates` opens the step)
    failed_at: tuple[int, ...]
    gates: Gates | None = None


def is_static(condition: Condition) -> bool:
    return isinstance(condition, OneOf | IsFlag) and condition.attr in _STATIC_ATTRS


def _gate_of(condition: Condition) -> tuple[str, tuple[str, ...]] | None:
    """Which index a first condition can be looked up in, and under which strings."""
    if isinstance(condition, TextContains):
        return "needles", condition.needles
    if isinstance(condition, TextMatches) and condition.required:
        return "literals", condition.required
    if isinstance(condition, AnyTag) and condition.attr == "contact_tags":
        return "contact_tags", tuple(sorted(condition.values))
    return None


def _gates(steps: Sequence[Step], failed_at: list[int]) -> Gates | None:
    always: list[int] = []
    index: dict[str, dict[str, list[int]]] = {"needles": {}, "literals": {}, "contact_tags": {}}
    wanted: dict[int, int] = {}
    for i, step in enumerate(steps):
        gate = _gate_of(step.conditions[0]) if step.conditions else None
        if gate is None:
            always.append(i)
            continue
        kind, strings = gate
        for string in strings:
            index[kind].setdefault(string, []).append(i)
        if kind == "literals" and len(strings) > 1:
            wanted[i] = len(strings)
        failed_at[step.position] = step.offset + 1
    if len(always) == len(steps):
        return None

    def frozen(kind: str) -> Index:
        return tuple((string, tuple(indexes)) for string, indexes in index[kind].items())

    return Gates(
        tuple(steps),
        tuple(always),
        frozen("needles"),
        frozen("literals"),
        wanted,
        dict(frozen("contact_tags")),
    )


def build_plan(
    rules: Sequence[Rule],
    key: StaticKey,
    static: Callable[[Condition], bool] = is_static,
    *,
    gated: bool = True,
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
    gates = _gates(steps, failed_at) if gated else None
    return StaticPlan(tuple(steps), tuple(failed_at), gates)


class PlanCache:
    """Plans by static key, built on first use. Bounded: keys come from a few small sets."""

    __slots__ = ("_gated", "_limit", "_plans", "_rules", "_static")

    def __init__(
        self,
        rules: Sequence[Rule],
        *,
        static: Callable[[Condition], bool] = is_static,
        gated: bool = True,
        limit: int = 1024,
    ) -> None:
        self._rules = rules
        self._static = static
        self._gated = gated
        self._limit = limit
        self._plans: dict[StaticKey, StaticPlan] = {}

    def get(self, key: StaticKey) -> StaticPlan:
        plan = self._plans.get(key)
        if plan is None:
            if len(self._plans) >= self._limit:  # channels and kinds are closed sets; still
                self._plans.clear()
            plan = self._plans[key] = build_plan(self._rules, key, self._static, gated=self._gated)
        return plan
