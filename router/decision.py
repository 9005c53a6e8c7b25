"""What the router decides for one message, and why: facts in, decision and trace out."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import field
from datetime import datetime
from typing import Any

from router.schema import PRIORITIES
from router.values import value


@value
class Facts:
    """Everything a rule may look at. ``now`` must be timezone-aware.

    ``language`` None means "detect from the text if a rule needs it". ``dialog_tags`` are the tags
    the dialog has before this message; ``contact_attrs`` are the contact's attributes as text.
    """

    channel: str
    text: str = ""
    kind: str = "text"
    dialog_tags: frozenset[str] = frozenset()
    contact_tags: frozenset[str] = frozenset()
    contact_attrs: Mapping[str, str] = field(default_factory=dict)
    contact_name: str = ""
    is_first_message: bool = True
    is_automated: bool = False
    language: str | None = None
    now: datetime = field(kw_only=True)

    def __post_init__(self) -> None:
        if self.now.tzinfo is None or self.now.utcoffset() is None:
            raise ValueError("Facts.now must be a timezone-aware datetime")
        for name in ("dialog_tags", "contact_tags"):
            tags = getattr(self, name)
            if not isinstance(tags, frozenset):
                object.__setattr__(self, name, frozenset(tags))


@value
class TaskPlan:
    """A task the decision asks for; ``skills`` are required on top of the queue's."""

    queue: str
    title: str
    sla: str | None
    assign_to: str | None
    rule: str
    skills: frozenset[str] = frozenset()


@value
class ConditionTrace:
    expr: str
    ok: bool
    detail: str


@value
class RuleTrace:
    """One evaluated rule. Conditions are listed in evaluation order, up to the first failure."""

    index: int
    name: str
    line: int
    matched: bool
    conditions: tuple[ConditionTrace, ...]
    effects: tuple[str, ...]
    stopped: bool


@value(slots=False)  # trace and fired are cached on the instance
class Decision:
    """The router's output for one message. ``trace`` is rendered on first access."""

    tags: tuple[str, ...]
    priority: str
    tasks: tuple[TaskPlan, ...]
    auto_reply: str | None
    rules_version: str
    language: str | None = None
    # Renders the trace: every evaluated rule, or (True) only the rules that matched.
    trace_source: Callable[[bool], tuple[RuleTrace, ...]] = field(
        default=lambda matched_only: (), repr=False, compare=False
    )

    def __post_init__(self) -> None:
        if self.priority not in PRIORITIES:
            raise ValueError(f"unknown priority {self.priority!r}")

    @functools.cached_property
    def trace(self) -> tuple[RuleTrace, ...]:
        return self.trace_source(False)

    @functools.cached_property
    def fired(self) -> tuple[RuleTrace, ...]:
        """The trace of the rules that matched only: cheaper, and what a stored decision keeps."""
        return self.trace_source(True)

    @property
    def matched_rules(self) -> tuple[str, ...]:
        """Names of the rules that matched, in order."""
        return tuple(rule.name for rule in self.fired)

    def to_dict(self, *, full_trace: bool = True) -> dict[str, Any]:
        """A JSON-able form; `full_trace=False` keeps only the rules that matched (storage)."""
        return {
            "rules_version": self.rules_version,
            "tags": list(self.tags),
            "priority": self.priority,
            "language": self.language,
            "auto_reply": self.auto_reply,
            "tasks": [
                {
                    "queue": t.queue,
                    "title": t.title,
                    "sla": t.sla,
                    "assign_to": t.assign_to,
                    "rule": t.rule,
                    "skills": sorted(t.skills),
                }
                for t in self.tasks
            ],
            "trace": [
                {
                    "index": r.index,
                    "name": r.name,
                    "line": r.line,
                    "matched": r.matched,
                    "stopped": r.stopped,
                    "effects": list(r.effects),
                    "conditions": [
                        {"expr": c.expr, "ok": c.ok, "detail": c.detail} for c in r.conditions
                    ],
                }
                for r in (self.trace if full_trace else self.fired)
            ],
        }

    def explain(self) -> str:
        """A multi-line, human-readable account: the outcome, then every evaluated rule."""
        lines = [f"decision (rules version {self.rules_version})"]
        lines.append(f"  tags:       {', '.join(self.tags) or '-'}")
        lines.append(f"  priority:   {self.priority}")
        lines.append(f"  language:   {self.language or '-'}")
        lines.append(f"  auto reply: {self.auto_reply!r}" if self.auto_reply else "  auto reply: -")
        if not self.tasks:
            lines.append("  tasks:      none")
        for task in self.tasks:
            extra = f", assign to {task.assign_to}" if task.assign_to else ""
            skills = f", skills {', '.join(sorted(task.skills))}" if task.skills else ""
            lines.append(
                f"  task:       queue {task.queue}: {task.title!r} "
                f"(sla {task.sla or '-'}{extra}{skills}; rule {task.rule!r})"
            )
        lines.append("rules:")
        for rule in self.trace:
            verdict = "MATCH" if rule.matched else "no   "
            stop = "  [stop]" if rule.stopped else ""
            lines.append(f"  {verdict} #{rule.index} {rule.name!r} (line {rule.line}){stop}")
            if not rule.conditions and rule.matched:
                lines.append("        (no conditions: matches every message)")
            for cond in rule.conditions:
                mark = "yes" if cond.ok else "NO "
                lines.append(f"        {mark} {cond.expr}  -- {cond.detail}")
            lines.extend(f"        => {effect}" for effect in rule.effects)
        return "\n".join(lines)
