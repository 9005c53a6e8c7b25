"""Replaying routing: compare a stored decision with a new one, and tally the differences. Pure."""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from router import Decision


@dataclass(frozen=True, slots=True)
class Outcome:
    """The parts of a decision that routing acts on: queues, tags, priority, SLAs, assignees."""

    queues: tuple[str, ...]
    tags: tuple[str, ...]
    priority: str
    slas: tuple[str | None, ...]
    assignees: tuple[str | None, ...]

    @classmethod
    def of_body(cls, body: Mapping[str, Any]) -> Outcome:
        """From a stored decision body (``Decision.to_dict()`` as saved in ``decisions``)."""
        tasks = [t for t in body.get("tasks") or [] if isinstance(t, Mapping)]
        return cls(
            queues=tuple(str(t.get("queue")) for t in tasks),
            tags=tuple(sorted(str(tag) for tag in body.get("tags") or [])),
            priority=str(body.get("priority") or "normal"),
            slas=tuple(t.get("sla") for t in tasks),
            assignees=tuple(t.get("assign_to") for t in tasks),
        )

    @classmethod
    def of_decision(cls, decision: Decision) -> Outcome:
        return cls(
            queues=tuple(t.queue for t in decision.tasks),
            tags=tuple(sorted(decision.tags)),
            priority=decision.priority,
            slas=tuple(t.sla for t in decision.tasks),
            assignees=tuple(t.assign_to for t in decision.tasks),
        )


@dataclass(frozen=True, slots=True)
class Change:
    """How one message's routing differs; ``fields`` names what differs, ``rule`` decides now."""

    old: Outcome
    new: Outcome
    fields: tuple[str, ...]
    rule: str

    def describe(self) -> str:
        """``queue support -> billing; priority normal -> urgent`` for the differing fields."""
        parts = []
        for name in self.fields:
            before, after = _field(self.old, name), _field(self.new, name)
            parts.append(f"{name} {before} -> {after}")
        return "; ".join(parts)


def _field(outcome: Outcome, name: str) -> str:
    if name == "priority":
        return outcome.priority
    values: tuple[str | None, ...] = {
        "queue": outcome.queues,
        "tags": outcome.tags,
        "sla": outcome.slas,
        "assign": outcome.assignees,
    }[name]
    shown = [v if v is not None else "-" for v in values]
    return ",".join(shown) if shown else "-"


def deciding_rule(decision: Decision) -> str:
    """The rule that made the (first) task, else the last rule that matched."""
    if decision.tasks:
        return decision.tasks[0].rule
    matched = decision.matched_rules
    return matched[-1] if matched else "(no rule matched)"


def _when_any(values: tuple[str | None, ...]) -> tuple[str | None, ...]:
    """Per-task values, or () when no task has one (so one task fewer alone is no SLA change)."""
    return values if any(v is not None for v in values) else ()


def compare(old_body: Mapping[str, Any], new_decision: Decision) -> Change | None:
    """None when ``new_decision`` routes the message as the stored decision did."""
    old, new = Outcome.of_body(old_body), Outcome.of_decision(new_decision)
    fields = tuple(
        name
        for name, differs in (
            ("queue", old.queues != new.queues),
            ("tags", old.tags != new.tags),
            ("priority", old.priority != new.priority),
            ("sla", _when_any(old.slas) != _when_any(new.slas)),
            ("assign", _when_any(old.assignees) != _when_any(new.assignees)),
        )
        if differs
    )
    if not fields:
        return None
    return Change(old, new, fields, deciding_rule(new_decision))


@dataclass
class Tally:
    """Counts over a replay: messages, changes, and per-queue / per-agent task counts."""

    examined: int = 0
    changed: int = 0
    undecided: int = 0  # stored messages with no stored decision (not routed yet)
    old_queues: Counter[str] = field(default_factory=Counter)
    new_queues: Counter[str] = field(default_factory=Counter)
    old_agents: Counter[str] = field(default_factory=Counter)
    new_agents: Counter[str] = field(default_factory=Counter)
    old_versions: Counter[str] = field(default_factory=Counter)

    def add(self, old_body: Mapping[str, Any], new: Decision, change: Change | None) -> None:
        self.examined += 1
        self.changed += change is not None
        old = change.old if change else Outcome.of_body(old_body)
        new_outcome = change.new if change else Outcome.of_decision(new)
        self.old_queues.update(old.queues)
        self.new_queues.update(new_outcome.queues)
        self.old_agents.update(a for a in old.assignees if a)
        self.new_agents.update(a for a in new_outcome.assignees if a)
        self.old_versions[str(old_body.get("rules_version") or "?")] += 1

    def queue_rows(self) -> list[tuple[str, int, int, int]]:
        """(queue, old count, new count, delta), by name."""
        return _rows(self.old_queues, self.new_queues)

    def agent_rows(self) -> list[tuple[str, int, int, int]]:
        """(agent, old count, new count, delta) for tasks that rules assign by hand."""
        return _rows(self.old_agents, self.new_agents)


def _rows(old: Counter[str], new: Counter[str]) -> list[tuple[str, int, int, int]]:
    return [(name, old[name], new[name], new[name] - old[name]) for name in sorted(old | new)]


def preview(text: str, width: int = 50) -> str:
    """A one-line, quoted, escaped excerpt: control and format characters become \\uXXXX."""
    cut = text if len(text) <= width else text[: width - 1] + "…"
    out = ['"']
    for ch in cut:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp"):
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)
