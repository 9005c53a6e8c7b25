"""The compiled, validated rules: what ``load_rules`` returns and the router reads."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from router.conditions import Condition, needs_language
from router.hours import Calendar
from router.issues import RuleIssue
from router.templates import Template

if TYPE_CHECKING:
    from router.static_plan import PlanCache

DEFAULT_WEIGHT = 1.0


@dataclass(frozen=True, slots=True)
class AgentProfile:
    """An agent's routing profile; ``weights`` maps a channel kind to a task's load (default 1)."""

    login: str
    capacity: int
    skills: frozenset[str] = frozenset()
    weights: Mapping[str, float] = field(default_factory=dict)

    def weight(self, channel: str | None) -> float:
        return self.weights.get(channel, DEFAULT_WEIGHT) if channel else DEFAULT_WEIGHT


@dataclass(frozen=True, slots=True)
class QueueSpec:
    name: str
    team: str
    strategy: str = "least_loaded"
    skills: frozenset[str] = frozenset()
    sticky: bool = False
    overflow_after: timedelta | None = None
    overflow_to: str | None = None
    sla: str | None = None


@dataclass(frozen=True, slots=True)
class SlaPolicy:
    name: str
    first_response: timedelta | None
    resolution: timedelta | None
    calendar: Calendar | None


@dataclass(frozen=True, slots=True)
class Actions:
    """A rule's ``then:``; ``queue`` is None for a rule that makes no task."""

    tags: tuple[str, ...] = ()
    priority: str | None = None
    queue: str | None = None
    title: Template | None = None
    task_skills: frozenset[str] = frozenset()
    sla: str | None = None
    auto_reply: Template | None = None
    assign: str | None = None


@dataclass(frozen=True, slots=True)
class Rule:
    """One compiled rule; ``conditions`` are in evaluation order (cheapest first)."""

    index: int
    name: str
    line: int
    conditions: tuple[Condition, ...]
    actions: Actions
    continue_: bool = False

    @property
    def makes_task(self) -> bool:
        return self.actions.queue is not None

    @property
    def stops(self) -> bool:
        """True when matching this rule ends the evaluation."""
        return self.makes_task and not self.continue_


@dataclass(frozen=True, slots=True)
class Example:
    """One entry of ``tests:``: message facts (without ``now``) and what to expect."""

    index: int
    line: int
    name: str
    facts: Mapping[str, Any]
    at: datetime | None
    expect: Mapping[str, Any]


@dataclass(frozen=True)
class RuleSet:
    """A validated rules file. ``version`` is a short sha256 of its text."""

    version: str
    filename: str
    agents: Mapping[str, AgentProfile]
    teams: Mapping[str, tuple[str, ...]]
    queues: Mapping[str, QueueSpec]
    sla: Mapping[str, SlaPolicy]
    calendars: Mapping[str, Calendar]
    rules: tuple[Rule, ...]
    examples: tuple[Example, ...] = ()
    warnings: tuple[RuleIssue, ...] = ()
    team_sets: Mapping[str, frozenset[str]] = field(default_factory=dict, repr=False)

    def weight(self, login: str, channel: str | None) -> float:
        """The load a task on ``channel`` puts on ``login`` (1.0 without a profile weight)."""
        profile = self.agents.get(login)
        return profile.weight(channel) if profile else DEFAULT_WEIGHT

    def overflow_chain(self, queue: str) -> tuple[tuple[timedelta, QueueSpec], ...]:
        """``queue`` and the queues it overflows to, each with the total wait that reaches it."""
        chain: list[tuple[timedelta, QueueSpec]] = []
        waited = timedelta(0)
        spec = self.queues.get(queue)
        while spec is not None and all(spec.name != seen.name for _, seen in chain):
            chain.append((waited, spec))
            if spec.overflow_to is None or spec.overflow_after is None:
                break
            waited += spec.overflow_after
            spec = self.queues.get(spec.overflow_to)
        return tuple(chain)

    @functools.cached_property
    def static_plans(self) -> PlanCache:
        """The rules to evaluate per message shape (see router/static_plan.py)."""
        from router.static_plan import PlanCache

        return PlanCache(self.rules)

    @property
    def uses_language(self) -> bool:
        """True when some rule needs the message's language (so detection may run)."""
        conditions = (c for rule in self.rules for c in rule.conditions)
        return any(needs_language(c) for c in conditions) or any(
            "language" in template.fields
            for rule in self.rules
            for template in (rule.actions.title, rule.actions.auto_reply)
            if template is not None
        )
