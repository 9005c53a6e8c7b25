"""A dry run of one message: the decision under some rules, and who would take each task now."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from dialogs.dispatch_plan import build_agent_states
from router import Facts, RuleSet, WaitingTask, decide, explain_choice, sla_due_times
from storage import Database
from storage.assignment import load_agents, load_rr_state


async def dry_run(
    db: Database,
    ruleset: RuleSet,
    *,
    channel: str,
    text: str,
    tags: Sequence[str],
    contact_tags: Sequence[str],
    now: datetime,
) -> dict[str, Any]:
    """Decide the message under `ruleset` and explain each task's assignment against live load."""
    decision = decide(
        ruleset,
        Facts(
            channel=channel,
            text=text,
            dialog_tags=frozenset(tags),
            contact_tags=frozenset(contact_tags),
            now=now,
        ),
    )
    async with db.read() as tx:
        agents = build_agent_states(ruleset, await tx.run_sync(load_agents))
        rr = await tx.run_sync(load_rr_state)
    lines = [decision.explain(), "assignment:"]
    tasks = []
    for plan in decision.tasks:
        due = sla_due_times(ruleset, plan.sla, now)[0] if plan.sla else None
        task = WaitingTask(0, plan.queue, decision.priority, due, now, plan.skills, None, channel)
        choice = explain_choice(ruleset, task, agents, now, rr)
        tasks.append(
            {
                "queue": plan.queue,
                "agent": choice.login,
                "outcome": f"assign to {choice.login}" if choice.login else "waits in queue",
                "reason": choice.reason,
                "candidates": [c.to_dict() for c in choice.candidates],
            }
        )
        lines.append(f"  queue {plan.queue}: " + choice.explain().split("\n", 1)[1].lstrip())
    return {
        "rules_version": ruleset.version,
        "decision": decision.to_dict(),
        "tasks": tasks,
        "explain": "\n".join(lines),
    }
