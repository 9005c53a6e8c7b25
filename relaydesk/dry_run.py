"""`rules test` without the I/O: who would take each planned task, and how to say it. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from router import (
    AgentState,
    CandidateView,
    Choice,
    Decision,
    RuleSet,
    TaskPlan,
    WaitingTask,
    explain_choice,
    sla_due_times,
)


@dataclass(frozen=True, slots=True)
class TaskOutlook:
    """A planned task with its SLA due times and who would take it now (None: unknown)."""

    number: int
    plan: TaskPlan
    first_response_due: datetime | None
    resolution_due: datetime | None
    choice: Choice | None
    summary: str

    def to_dict(self) -> dict[str, Any]:
        choice = self.choice
        return {
            "queue": self.plan.queue,
            "title": self.plan.title,
            "sla": self.plan.sla,
            "rule": self.plan.rule,
            "assign_to": self.plan.assign_to,
            "first_response_due": _iso(self.first_response_due),
            "resolution_due": _iso(self.resolution_due),
            "agent": choice.login if choice else self.plan.assign_to,
            "summary": self.summary,
            "reason": choice.reason if choice else None,
            "candidates": [
                {
                    "login": c.login,
                    "eligible": c.eligible,
                    "why_not": c.why_not,
                    "online": c.online,
                    "load": c.load,
                    "capacity": c.capacity,
                }
                for c in (choice.candidates if choice else ())
            ],
        }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def build_outlook(
    ruleset: RuleSet,
    decision: Decision,
    channel: str,
    at: datetime,
    agents: Sequence[AgentState] | None,
    rr_state: Mapping[str, str] | None = None,
) -> list[TaskOutlook]:
    """Each planned task's due times and, with ``agents`` known, who would take it at ``at``."""
    out = []
    for number, plan in enumerate(decision.tasks, 1):
        first_due, resolution_due = (
            sla_due_times(ruleset, plan.sla, at) if plan.sla else (None, None)
        )
        choice = None
        if plan.assign_to:
            summary = f"{plan.assign_to} (assigned directly by rule {plan.rule!r})"
        elif agents is None:
            summary = "unknown without a database; candidates: " + rules_candidates(ruleset, plan)
        else:
            waiting = WaitingTask(
                number, plan.queue, decision.priority, first_due, at, plan.skills, None, channel
            )
            choice = explain_choice(ruleset, waiting, agents, at, rr_state)
            summary = choice_summary(choice)
        out.append(TaskOutlook(number, plan, first_due, resolution_due, choice, summary))
    return out


def choice_summary(choice: Choice) -> str:
    """``alice (load 1/5, least loaded)`` or ``waits in queue: bob offline, carol full (3/3)``."""
    if choice.login is not None:
        me = next(c for c in choice.candidates if c.login == choice.login)
        how = choice.reason.split(":", 1)[0]
        how = {"least_loaded in": "least loaded", "round_robin in": "round robin"}.get(
            how.rsplit(" ", 1)[0], how
        )
        return f"{me.login} (load {me.load:g}/{me.capacity}, {how})"
    if not choice.candidates:
        return "waits in queue: its team has no agents"
    return "waits in queue: " + ", ".join(_why_not(c) for c in choice.candidates)


def _why_not(c: CandidateView) -> str:
    reason = c.why_not or "eligible"
    if reason == "offline":
        return f"{c.login} offline"
    if reason.startswith("full"):
        return f"{c.login} full ({c.load:g}/{c.capacity})"
    if reason.startswith("no presence"):
        return f"{c.login} has no account"
    return f"{c.login} {reason}"


def rules_candidates(ruleset: RuleSet, plan: TaskPlan) -> str:
    """The agents the rules file allows for ``plan``'s queue (and its overflow), with profiles."""
    seen: list[str] = []
    for _, spec in ruleset.overflow_chain(plan.queue):
        seen.extend(m for m in ruleset.teams.get(spec.team, ()) if m not in seen)
    if not seen:
        return "none (the queue's team has no members)"
    parts = []
    for login in seen:
        profile = ruleset.agents[login]
        skills = ", ".join(sorted(profile.skills)) or "no skills"
        parts.append(f"{login} (capacity {profile.capacity}, {skills})")
    return "; ".join(parts)


def render_outlook(outlooks: Sequence[TaskOutlook], source: str, tz: Any) -> list[str]:
    """The assignment section of `rules test` as text lines."""
    lines = [f"assignment ({source}):"]
    if not outlooks:
        lines.append("  no task: nobody is assigned")
    for o in outlooks:
        lines.append(f"  task {o.number} in queue {o.plan.queue}: {o.plan.title!r}")
        if o.plan.sla:
            lines.append(
                f"    sla {o.plan.sla}: first response due {_local(o.first_response_due, tz)}, "
                f"resolution due {_local(o.resolution_due, tz)}"
            )
        else:
            lines.append("    sla: none")
        lines.append(f"    -> {o.summary}")
        if o.choice is not None:
            lines.append(f"       {o.choice.reason}")
            for c in o.choice.candidates:
                verdict = "eligible" if c.eligible else f"no: {c.why_not}"
                presence = "online" if c.online else "offline"
                lines.append(
                    f"       - {c.login}: load {c.load:g}/{c.capacity}, {presence}: {verdict}"
                )
    return lines


def _local(value: datetime | None, tz: Any) -> str:
    return value.astimezone(tz).isoformat(timespec="minutes") if value is not None else "-"
