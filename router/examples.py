"""Run the ``tests:`` section of a rules file: routing examples kept as data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from router.decision import Decision, Facts
from router.match import decide
from router.model import Example, RuleSet


@dataclass(frozen=True, slots=True)
class ExampleFailure:
    """An example whose decision differs from its ``expect:``."""

    file: str
    line: int
    name: str
    problems: tuple[str, ...]
    decision: Decision

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: example {self.name!r}: " + "; ".join(self.problems)


def run_examples(ruleset: RuleSet, now: datetime) -> list[ExampleFailure]:
    """Decide every example (at its ``at:`` or at ``now``) and report those that differ."""
    failures = []
    for example in ruleset.examples:
        facts = Facts(**example.facts, now=example.at or now)
        decision = decide(ruleset, facts)
        problems = check_expectations(example, decision)
        if problems:
            failures.append(
                ExampleFailure(ruleset.filename, example.line, example.name, problems, decision)
            )
    return failures


def check_expectations(example: Example, decision: Decision) -> tuple[str, ...]:
    """What in ``decision`` contradicts ``example.expect`` (empty when it all holds)."""
    expect = example.expect
    problems: list[str] = []
    queues = [task.queue for task in decision.tasks]
    if "queue" in expect and queues != list(expect["queue"]):
        problems.append(f"expected queue {_names(expect['queue'])}, got {_names(queues)}")
    if expect.get("no_task") and queues:
        problems.append(f"expected no task, got {_names(queues)}")
    if expect.get("no_task") is False and not queues:
        problems.append("expected a task, got none")
    if "tags" in expect:
        missing = [tag for tag in expect["tags"] if tag not in decision.tags]
        if missing:
            have = ", ".join(decision.tags) or "none"
            problems.append(f"expected tags {', '.join(missing)}; the decision has {have}")
    if "priority" in expect and decision.priority != expect["priority"]:
        problems.append(f"expected priority {expect['priority']}, got {decision.priority}")
    if "sla" in expect:
        slas = sorted({task.sla or "none" for task in decision.tasks}) or ["none (no task)"]
        if slas != [expect["sla"]]:
            problems.append(f"expected sla {expect['sla']}, got {', '.join(slas)}")
    if "auto_reply" in expect and (decision.auto_reply is not None) != expect["auto_reply"]:
        want = "an auto-reply" if expect["auto_reply"] else "no auto-reply"
        got = repr(decision.auto_reply) if decision.auto_reply else "none"
        problems.append(f"expected {want}, got {got}")
    return tuple(problems)


def _names(values: list[str]) -> str:
    if not values:
        return "none"
    return values[0] if len(values) == 1 else "[" + ", ".join(values) + "]"
