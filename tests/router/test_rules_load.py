"""Loading valid rules: the compiled model, versions, warnings and the file helper."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from router import RulesError, RuleSet, load_rules, load_rules_file


def test_compiled_model(ruleset: RuleSet) -> None:
    """Sections become typed objects; conditions are ordered cheapest first."""
    assert ruleset.agents["alice"].weight("email") == 0.5
    assert ruleset.weight("bob", "email") == 1.0
    assert ruleset.teams["support"] == ("alice", "bob")
    billing = ruleset.queues["billing"]
    assert (billing.strategy, billing.overflow_after, billing.overflow_to) == (
        "round_robin",
        timedelta(minutes=30),
        "support",
    )
    assert ruleset.sla["standard"].calendar is ruleset.calendars["office"]
    assert [c.expr for c in ruleset.rules[1].conditions] == [
        "channel: [email, whatsapp]",
        "text.matches: /refund|возврат/",
    ]
    assert [(cost, spec.name) for cost, spec in ruleset.overflow_chain("billing")] == [
        (timedelta(0), "billing"),
        (timedelta(minutes=30), "support"),
    ]


def test_version_changes_with_the_text(rules_text: str) -> None:
    """The version is a short hash of the text: equal texts agree, edits differ."""
    assert load_rules(rules_text).version == load_rules(rules_text).version
    assert load_rules(rules_text + "\n# edited\n").version != load_rules(rules_text).version
    assert len(load_rules(rules_text).version) == 12


def test_all_errors_are_reported_together() -> None:
    """Independent mistakes in different sections are all listed, in line order."""
    text = (
        "version: 1\n"
        "agents: {a: {capacity: -1}}\n"
        "teams: {t: [a, zed]}\n"
        "queues: {q: {team: t, sla: nope}}\n"
        "rules:\n"
        "  - name: x\n"
        "    then: {task: {queue: qq}}\n"
    )
    with pytest.raises(RulesError) as caught:
        load_rules(text)
    assert [(i.line, i.path) for i in caught.value.errors] == [
        (2, "agents.a.capacity"),
        (3, "teams.t[1]"),
        (4, "queues.q.sla"),
        (7, "rules[0].then.task.queue"),
    ]


def test_yaml_anchors_and_merge_keys_work() -> None:
    """Anchors and << merges are resolved like the safe loader does."""
    ruleset = load_rules(
        "version: 1\n"
        "agents:\n  a: &base {capacity: 2, skills: [en]}\n  b: {<<: *base, capacity: 4}\n"
        "teams: {t: [a, b]}\n"
    )
    assert (ruleset.agents["b"].capacity, ruleset.agents["b"].skills) == (4, frozenset({"en"}))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "must be a mapping"),
        ("[1, 2]", "must be a mapping"),
        ("version: 1\nrules: {}\n", "must be a list"),
    ],
    ids=["empty", "list", "rules mapping"],
)
def test_wrong_document_shapes(text: str, message: str) -> None:
    """A file that is not the expected shape fails with a clear error, not a crash."""
    with pytest.raises(RulesError) as caught:
        load_rules(text)
    assert message in str(caught.value)


def test_load_rules_file_names_the_file(tmp_path: Path) -> None:
    """Issues from a file carry the path given to load_rules_file."""
    path = tmp_path / "custom.yaml"
    path.write_text("version: 1\nagents: {a: {capacity: x}}\n", encoding="utf-8")
    with pytest.raises(RulesError) as caught:
        load_rules_file(path)
    assert str(caught.value).startswith(f"{path}:2: agents.a.capacity:")
