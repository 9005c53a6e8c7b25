"""decide(): run the rules top to bottom over one message's facts. Pure and deterministic.

Rules are evaluated in file order. A matching rule applies its actions; a rule that makes a task
stops the evaluation unless it says ``continue: true``; a rule that makes no task always goes on.
Scalar actions (priority, sla, assign, auto_reply) take the value of the last rule that sets
them; ``sla`` and ``assign`` apply to the tasks of that rule and of the rules after it. Tags
accumulate in order, and a ``tag:`` condition sees the tags added by rules above it.

The trace is recorded as a few references per rule and rendered only when read, which keeps a
decision over 1,000 rules well under a millisecond.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from router.decision import ConditionTrace, Decision, Facts, RuleTrace, TaskPlan
from router.language import detect_language
from router.model import Rule, RuleSet
from router.regex_prefilter import fold_for_literals
from router.templates import Template, one_line

# a matched rule: (tags its conditions saw, tags after it, effects, stopped)
_Matched = tuple[frozenset[str], frozenset[str], tuple[str, ...], bool]


class _Context:
    """The facts as flat attributes (fast to read) plus lazy case-folded text and language."""

    __slots__ = (
        "_folded",
        "_language",
        "_language_known",
        "_literal",
        "channel",
        "contact_attrs",
        "contact_tags",
        "facts",
        "is_automated",
        "is_first_message",
        "kind",
        "matches",
        "now",
        "tags",
        "text",
    )

    def __init__(self, facts: Facts, tags: frozenset[str]) -> None:
        self.facts = facts
        self.tags = tags
        self.channel = facts.channel
        self.kind = facts.kind
        self.text = facts.text
        self.contact_tags = facts.contact_tags
        self.contact_attrs = facts.contact_attrs
        self.is_first_message = facts.is_first_message
        self.is_automated = facts.is_automated
        self.now = facts.now
        self._folded: str | None = None
        self._literal: str | None = None
        self._language: str | None = facts.language
        self._language_known = facts.language is not None
        self.matches: dict[re.Pattern[str], re.Match[str] | None] = {}

    @property
    def literal_text(self) -> str:
        if self._literal is None:
            self._literal = fold_for_literals(self.text)
        return self._literal

    @property
    def folded_text(self) -> str:
        if self._folded is None:
            self._folded = self.text.casefold()
        return self._folded

    @property
    def language(self) -> str | None:
        if not self._language_known:
            self._language = detect_language(self.text)
            self._language_known = True
        return self._language

    @property
    def language_if_known(self) -> str | None:
        return self._language if self._language_known else None

    def with_tags(self, tags: frozenset[str]) -> _Context:
        view = _Context(self.facts, tags)
        view._folded, view._language = self._folded, self._language
        view._language_known = self._language_known
        view.matches = self.matches  # the text is the same: so are its matches
        return view


def _render(template: Template, ctx: _Context) -> str:
    """The template over this message's values; only the fields it uses are worked out (a
    title is often plain text)."""
    fields = template.fields
    if not fields:
        return template.render({})
    facts = ctx.facts
    values = {"channel": facts.channel, "contact_name": facts.contact_name, "kind": facts.kind}
    if "text" in fields:
        values["text"] = one_line(facts.text) or f"({facts.kind})"
    if "language" in fields:
        values["language"] = ctx.language or "unknown"
    return template.render(values)


class _Outcome:
    """What the matched rules have decided so far."""

    __slots__ = ("added", "assign", "auto_reply", "priority", "sla", "tasks")

    def __init__(self) -> None:
        self.added: list[str] = []
        self.tasks: list[TaskPlan] = []
        self.priority = "normal"
        self.auto_reply: str | None = None
        self.sla: str | None = None
        self.assign: str | None = None


def decide(ruleset: RuleSet, facts: Facts) -> Decision:
    """Route one inbound message: tags, priority, tasks, auto-reply, and the trace of why."""
    ctx = _Context(facts, facts.dialog_tags)
    outcome = _Outcome()
    plan = ruleset.static_plans.get(
        (facts.channel, facts.kind, facts.is_first_message, facts.is_automated)
    )
    # per rule: the failing condition's 1-based position, -1 when it matched; the rules
    # after the one that stopped were not evaluated and are cut off below
    failed_at = list(plan.failed_at)
    matched: dict[int, _Matched] = {}
    evaluated = len(failed_at)
    steps = plan.gates.open_steps(ctx) if plan.gates is not None else plan.steps
    for step in steps:
        for at, condition in enumerate(step.conditions, step.offset + 1):
            if not condition.test(ctx):
                failed_at[step.position] = at
                break
        else:
            failed_at[step.position] = -1
            done = matched[step.rule.index] = _apply(ruleset, step.rule, ctx, outcome)
            if done[3]:
                evaluated = step.position + 1
                break
    return Decision(
        tags=tuple(outcome.added),
        priority=outcome.priority,
        tasks=tuple(outcome.tasks),
        auto_reply=outcome.auto_reply,
        rules_version=ruleset.version,
        language=ctx.language_if_known,
        trace_source=_trace_renderer(ruleset, ctx, failed_at[:evaluated], matched),
    )


def _apply(ruleset: RuleSet, rule: Rule, ctx: _Context, outcome: _Outcome) -> _Matched:
    """Apply a matched rule's actions; return (tags seen, tags after, effects, stopped)."""
    seen = ctx.tags
    effects: list[str] = []
    actions = rule.actions
    new_tags = [tag for tag in actions.tags if tag not in outcome.added]
    if new_tags:
        outcome.added.extend(new_tags)
        ctx.tags = ctx.tags | frozenset(new_tags)
        effects.append("tag " + ", ".join(f"+{tag}" for tag in new_tags))
    if actions.priority is not None:
        outcome.priority = actions.priority
        effects.append(f"priority {actions.priority}")
    if actions.sla is not None:
        outcome.sla = actions.sla
        effects.append(f"sla {actions.sla}")
    if actions.assign is not None:
        outcome.assign = actions.assign
        effects.append(f"assign to {actions.assign}")
    if actions.auto_reply is not None:
        if ctx.is_automated:
            effects.append("auto_reply suppressed: the sender is automated")
        else:
            outcome.auto_reply = _render(actions.auto_reply, ctx)
            effects.append(f"auto_reply {outcome.auto_reply!r}")
    if actions.queue is not None:
        effects.append(_plan_task(ruleset, rule, ctx, outcome))
    return seen, ctx.tags, tuple(effects), rule.stops


def _plan_task(ruleset: RuleSet, rule: Rule, ctx: _Context, outcome: _Outcome) -> str:
    queue = rule.actions.queue
    assert queue is not None
    tasks, sla = outcome.tasks, outcome.sla
    for planned in tasks:
        if planned.queue == queue:
            return f"task: joins the task already planned in queue {queue} by {planned.rule!r}"
    spec = ruleset.queues[queue]
    policy = sla if sla is not None else spec.sla
    title = _render(rule.actions.title, ctx).strip() if rule.actions.title else ""
    title = title or f"({ctx.kind})"
    skills = rule.actions.task_skills
    tasks.append(TaskPlan(queue, title, policy, outcome.assign, rule.name, skills))
    return f"task in queue {queue}: {title!r} (sla {policy or '-'})"


def _trace_renderer(
    ruleset: RuleSet, ctx: _Context, failed_at: list[int], matched: dict[int, _Matched]
) -> Callable[[bool], tuple[RuleTrace, ...]]:
    def render(matched_only: bool) -> tuple[RuleTrace, ...]:
        out = []
        tags = ctx.facts.dialog_tags
        for rule, position in zip(ruleset.rules, failed_at, strict=False):
            conditions = rule.conditions
            if matched_only and position >= 0:
                continue
            if position < 0:
                seen, tags, effects, stopped = matched[rule.index]
                view = ctx.with_tags(seen)
                checks = tuple(ConditionTrace(c.expr, True, c.detail(view)) for c in conditions)
                out.append(
                    RuleTrace(rule.index, rule.name, rule.line, True, checks, effects, stopped)
                )
                continue
            view = ctx.with_tags(tags)
            checks = tuple(
                ConditionTrace(c.expr, i < position - 1, c.detail(view))
                for i, c in enumerate(conditions[:position])
            )
            out.append(RuleTrace(rule.index, rule.name, rule.line, False, checks, (), False))
        return tuple(out)

    return render
