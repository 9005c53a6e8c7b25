"""The ``tests:`` section: examples run against the rules, failures name their line."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from router import load_rules, load_rules_file, run_examples

NOW = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)  # Wednesday 12:00 in Moscow


def test_shipped_rules_are_valid_and_their_examples_pass(shipped_rules_path: Path) -> None:
    """The default rules.yaml loads without warnings, routes to a queue admin serves, passes."""
    ruleset = load_rules_file(shipped_rules_path)
    assert ruleset.warnings == ()
    assert len(ruleset.examples) >= 4
    assert run_examples(ruleset, NOW) == []
    assert all("admin" in ruleset.team_sets[q.team] for q in ruleset.queues.values())


def test_failing_example_names_its_line_and_differences() -> None:
    """A wrong expectation is reported with the example's line and each difference."""
    ruleset = load_rules(
        "version: 1\n"
        "agents: {a: {capacity: 1}}\n"
        "teams: {t: [a]}\n"
        "queues: {support: {team: t}, billing: {team: t}}\n"
        "rules:\n"
        "  - name: all\n"
        "    then: {tag: seen, task: {queue: support}}\n"
        "tests:\n"
        "  - message: {channel: email, text: hi}\n"
        "    expect: {queue: support, tags: [seen]}\n"
        "  - name: wrong\n"
        "    message: {channel: email, text: refund}\n"
        "    expect: {queue: billing, tags: [refund], priority: high, auto_reply: true}\n",
        filename="mine.yaml",
    )
    failures = run_examples(ruleset, NOW)
    assert [(f.line, f.name) for f in failures] == [(11, "wrong")]
    assert failures[0].problems == (
        "expected queue billing, got support",
        "expected tags refund; the decision has seen",
        "expected priority high, got normal",
        "expected an auto-reply, got none",
    )
    assert str(failures[0]).startswith("mine.yaml:11: example 'wrong': expected queue billing")


def test_no_task_expectation() -> None:
    """no_task: true fails when a task is planned and holds when none is."""
    ruleset = load_rules(
        "version: 1\nagents: {a: {capacity: 1}}\nteams: {t: [a]}\nqueues: {q: {team: t}}\n"
        "rules:\n  - name: mail only\n    when: {channel: email}\n    then: {task: {queue: q}}\n"
        "tests:\n"
        "  - message: {channel: telegram}\n    expect: {no_task: true}\n"
        "  - message: {channel: email}\n    expect: {no_task: true}\n"
    )
    failures = run_examples(ruleset, NOW)
    assert [(f.line, f.problems) for f in failures] == [(12, ("expected no task, got q",))]
