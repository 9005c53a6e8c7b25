"""From a storage snapshot to assignments: the router's planner plus returned-task handling. Pure.

A task taken back from an agent who did not reply is offered first (the head of the queue)
to every eligible agent but that one; if none of them can take it, it joins the ordinary plan,
where it keeps its place (priority, SLA due, age) and may go back to the same agent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from router import (
    AgentState,
    Assignment,
    CandidateView,
    RuleSet,
    WaitingTask,
    add_business_time,
    format_duration,
    plan_assignments,
    queue_order_key,
)
from storage.assignment import AgentRow, AssignRow, AwaitingReply, WaitingRow


@dataclass(frozen=True, slots=True)
class DispatchPlan:
    assignments: list[AssignRow]
    rr_state: dict[str, str]


def iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def build_waiting_task(row: WaitingRow) -> WaitingTask:
    return WaitingTask(
        id=row.id,
        queue=row.queue,
        priority=row.priority,
        sla_due=row.sla_due,
        created_at=row.created_at,
        skills=row.skills,
        sticky_login=row.sticky_login,
        channel=row.channel,
    )


def build_agent_states(ruleset: RuleSet, rows: Sequence[AgentRow]) -> list[AgentState]:
    """Accounts joined with their routing profile; no profile means capacity 0."""
    out = []
    for row in rows:
        profile = ruleset.agents.get(row.login)
        out.append(
            AgentState(
                login=row.login,
                online=row.status == "online",
                capacity=profile.capacity if profile else 0,
                load=row.load,
                skills=profile.skills if profile else frozenset(),
                last_assigned_at=row.last_assigned_at,
            )
        )
    return out


class _Explainer:
    """What tasks.assignment stores for each assignment of one plan: the reason and every
    candidate's verdict.

    A candidate's entry is built once per verdict (the planner reuses a verdict while the
    agent's load is unchanged) and shared by the explanations of every task that saw it: they
    are stored as JSON in the plan's transaction, never changed in memory.
    """

    def __init__(self, ruleset: RuleSet, now: datetime) -> None:
        self._version = ruleset.version
        self._at = iso(now)
        self._entries: dict[int, dict[str, Any]] = {}  # id(view) -> entry; the views outlive it

    def __call__(self, assignment: Assignment) -> dict[str, Any]:
        entries = self._entries
        candidates = []
        for c in assignment.candidates:
            entry = entries.get(id(c))
            if entry is None:
                entry = entries[id(c)] = c.to_dict()
            candidates.append(entry)
        return {
            "reason": assignment.reason,
            "rules_version": self._version,
            "at": self._at,
            "candidates": candidates,
        }


def has_room(ruleset: RuleSet, agent_rows: Sequence[AgentRow]) -> bool:
    """True when some online agent could take at least a light task."""
    return any(a.online and a.load < a.capacity for a in build_agent_states(ruleset, agent_rows))


def plan_dispatch(
    ruleset: RuleSet,
    waiting: Sequence[WaitingRow],
    agent_rows: Sequence[AgentRow],
    now: datetime,
    rr_state: Mapping[str, str],
) -> DispatchPlan:
    states = {a.login: a for a in build_agent_states(ruleset, agent_rows)}
    by_id = {row.id: row for row in waiting}
    rr = dict(rr_state)
    chosen = _reserved_assignments(ruleset, waiting, states, now)
    waiting = [r for r in waiting if r.assign_to is None]
    returned = sorted(
        (build_waiting_task(r) for r in waiting if r.returned_from), key=queue_order_key
    )
    for task in returned:
        others = [s for s in states.values() if s.login != by_id[task.id].returned_from]
        plan = plan_assignments(ruleset, [task], others, now, rr)
        for a in plan.assignments:
            chosen.append(a)
            agent = states[a.login]
            weight = ruleset.weight(a.login, task.channel)
            states[a.login] = replace(agent, load=agent.load + weight, last_assigned_at=now)
            rr = dict(plan.rr_state)
    taken = {a.task_id for a in chosen}
    rest = [build_waiting_task(r) for r in waiting if r.id not in taken]
    plan = plan_assignments(ruleset, rest, list(states.values()), now, rr)
    chosen.extend(plan.assignments)
    rows = []
    explain = _Explainer(ruleset, now)
    for a in chosen:
        explained = explain(a)
        if previous := by_id[a.task_id].returned_from:
            explained["returned_from"] = previous
            explained["reason"] = f"back in the queue after {previous} did not reply; {a.reason}"
        row = by_id[a.task_id]
        weight = ruleset.weight(a.login, row.channel)
        rows.append(AssignRow(a.task_id, a.login, weight, explained, row.dialog_id, row.queue))
    return DispatchPlan(rows, dict(plan.rr_state))


def _reserved_assignments(
    ruleset: RuleSet, waiting: Sequence[WaitingRow], states: dict[str, AgentState], now: datetime
) -> list[Assignment]:
    """Tasks a rule's `assign:` reserved for one agent go to that agent only, when they have room.

    They wait (in queue order) while the agent is offline or full, and no one else takes them.
    `states` is updated with the load they add.
    """
    out = []
    reserved = sorted(
        (r for r in waiting if r.assign_to), key=lambda r: queue_order_key(build_waiting_task(r))
    )
    for row in reserved:
        agent = states.get(row.assign_to or "")
        if agent is None or not agent.online:
            continue
        weight = ruleset.weight(agent.login, row.channel)
        if agent.load + weight > agent.capacity:
            continue
        view = CandidateView(
            agent.login, True, None, agent.load, agent.capacity, agent.online, agent.skills
        )
        reason = (
            f"reserved for {agent.login} by a rule's assign: (load {agent.load:g}/{agent.capacity})"
        )
        out.append(Assignment(row.id, agent.login, reason, (view,)))
        states[agent.login] = replace(agent, load=agent.load + weight, last_assigned_at=now)
    return out


def reply_deadline(
    ruleset: RuleSet, sla_policy: str | None, assigned_at: datetime, timeout: timedelta
) -> datetime:
    """When an assigned task goes back to its queue: `timeout` of its SLA's business time.

    Never earlier than assigned_at + timeout (business time runs no faster than the clock),
    and later for a later assigned_at: callers rely on both to pre-filter in SQL.
    """
    policy = ruleset.sla.get(sla_policy) if sla_policy else None
    return add_business_time(assigned_at, timeout, policy.calendar if policy else None)


def returned_explanation(task: AwaitingReply, timeout: timedelta, now: datetime) -> dict[str, Any]:
    return {
        "reason": (
            f"returned to the queue: {task.assignee} did not take it up within "
            f"{format_duration(timeout)} of business time"
        ),
        "returned_from": task.assignee,
        "at": iso(now),
        "candidates": [],
    }
