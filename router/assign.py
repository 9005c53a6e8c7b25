"""Pure assignment: which waiting task goes to which online agent, and why.

``plan_assignments`` takes a snapshot (waiting tasks, agents with their load) and plans greedily
in queue order: priority (urgent first), then SLA due time (earliest first, none last), then age,
then id. For each task the eligible agents are the online members of its queue's team with the
required skills and room for the task's weight; once the task has waited ``overflow.after`` the
team of the overflow queue is eligible too (after the home team, never instead of it).

Load is in weight units: a task on channel C weighs ``agents.<login>.weights.C`` (default 1), and
an agent takes a task only if ``load + weight <= capacity``. Callers compute ``AgentState.load``
as the sum of those weights over the agent's open tasks (``RuleSet.weight(login, channel)``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from router.assign_pick import Live, pick_agent, why_not
from router.durations import format_duration
from router.model import QueueSpec, RuleSet
from router.schema import PRIORITIES
from router.values import value

PRIORITY_RANK: Mapping[str, int] = {name: rank for rank, name in enumerate(PRIORITIES)}


@value
class AgentState:
    """An agent right now: presence, capacity and load (in weight units), skills."""

    login: str
    online: bool
    capacity: int
    load: float
    skills: frozenset[str] = frozenset()
    last_assigned_at: datetime | None = None


@value
class WaitingTask:
    """A task waiting in a queue. ``channel`` selects the per-agent load weight."""

    id: int
    queue: str
    priority: str
    sla_due: datetime | None
    created_at: datetime
    skills: frozenset[str] = frozenset()
    sticky_login: str | None = None
    channel: str | None = None

    def __post_init__(self) -> None:
        if self.priority not in PRIORITY_RANK:
            raise ValueError(f"unknown priority {self.priority!r} for task {self.id}")


@value
class CandidateView:
    """How one agent looked when a task was placed; ``why_not`` is None when eligible."""

    login: str
    eligible: bool
    why_not: str | None
    load: float
    capacity: int
    online: bool
    skills: frozenset[str]

    def to_dict(self) -> dict[str, Any]:
        """As explanations store and show it (skills are the profile's, not repeated)."""
        return {
            "login": self.login,
            "eligible": self.eligible,
            "why_not": self.why_not,
            "load": self.load,
            "capacity": self.capacity,
            "online": self.online,
        }


@value
class Assignment:
    task_id: int
    login: str
    reason: str
    candidates: tuple[CandidateView, ...]


@value
class Choice:
    """The outcome for a single task: an agent, or ``login`` None when it waits in its queue."""

    task_id: int
    login: str | None
    reason: str
    candidates: tuple[CandidateView, ...]

    def explain(self) -> str:
        head = f"task {self.task_id}: " + (
            f"assign to {self.login}" if self.login else "waits in queue"
        )
        lines = [head, f"  {self.reason}"]
        for c in self.candidates:
            verdict = "eligible" if c.eligible else f"no: {c.why_not}"
            lines.append(
                f"  - {c.login}: load {c.load:g}/{c.capacity}, "
                f"{'online' if c.online else 'offline'} -> {verdict}"
            )
        return "\n".join(lines)


@value
class AssignmentPlan:
    """Assignments in the order they were made, the new round-robin state, what still waits."""

    assignments: tuple[Assignment, ...]
    rr_state: Mapping[str, str]
    waiting: tuple[int, ...] = ()


def queue_order_key(task: WaitingTask) -> tuple[int, bool, datetime, datetime, int]:
    """Sort key: priority, then SLA due (earliest first, none last), then age, then id."""
    due = task.sla_due if task.sla_due is not None else task.created_at
    return (PRIORITY_RANK[task.priority], task.sla_due is None, due, task.created_at, task.id)


def _reached(
    ruleset: RuleSet, task: WaitingTask, now: datetime
) -> list[tuple[timedelta, QueueSpec]]:
    waited = now - task.created_at
    return [(need, spec) for need, spec in ruleset.overflow_chain(task.queue) if waited >= need]


@dataclass(slots=True)
class _Outcome:
    agent: Live | None
    reason: str
    via: QueueSpec | None  # the queue whose team the agent came from
    rotates: bool  # advances the round-robin pointer of ``via``
    considered: list[str]
    required: frozenset[str]
    # by login, as judged: the plan's current verdicts, read (views) before the next task
    seen: dict[str, CandidateView] = field(default_factory=dict)


@dataclass(slots=True)
class _Judged:
    """A plan's verdicts on the members of one task shape's tiers. A verdict changes only
    with its agent's load, the one thing a plan changes: an agent that took a task is marked
    ``stale`` and judged again when a task of this shape next asks."""

    tiers: list[tuple[Sequence[str], list[str]]]  # per tier: members, considered up to it
    seen: dict[str, CandidateView]  # login -> its current verdict
    stale: set[str] = field(default_factory=set)


class _WeightsOf(dict[str, float]):
    """login -> weight of a task on one channel, each looked up in the rules when first asked."""

    def __init__(self, ruleset: RuleSet, channel: str | None) -> None:
        super().__init__()
        self._ruleset = ruleset
        self._channel = channel

    def __missing__(self, login: str) -> float:
        weight = self[login] = self._ruleset.weight(login, self._channel)
        return weight


class _Planner:
    def __init__(
        self,
        ruleset: RuleSet,
        agents: Sequence[AgentState],
        now: datetime,
        rr_state: Mapping[str, str],
    ) -> None:
        self.ruleset = ruleset
        self.now = now
        self.rr = dict(rr_state)
        self.live = {a.login: Live.of(a) for a in agents}
        # An agent's verdict for a task depends on its load (the only thing a plan changes)
        # and the task's skills and weight: consecutive tasks mostly meet unchanged agents.
        self._verdicts: dict[tuple[str, float, frozenset[str], float], CandidateView] = {}
        self._weights: dict[str | None, dict[str, float]] = {}  # channel -> login -> weight
        # (tier queues, required skills, channel) -> its members as judged so far
        self._judged: dict[tuple[tuple[str, ...], frozenset[str], str | None], _Judged] = {}

    def weights(self, channel: str | None) -> dict[str, float]:
        """Each agent's weight of a task on ``channel`` (looked up once per plan)."""
        weights = self._weights.get(channel)
        if weights is None:
            weights = self._weights[channel] = _WeightsOf(self.ruleset, channel)
        return weights

    def weight(self, login: str, channel: str | None) -> float:
        return self.weights(channel)[login]

    def verdict(
        self, login: str, required: frozenset[str], weights: dict[str, float]
    ) -> CandidateView:
        """How ``login`` looks to a task needing ``required`` of the given ``weights``:
        eligible, or why not."""
        agent = self.live.get(login)
        weight = weights[login]
        key = (login, agent.load if agent is not None else -1.0, required, weight)
        view = self._verdicts.get(key)
        if view is None:
            reason = why_not(agent, required, weight)
            if agent is None:
                view = CandidateView(login, False, reason, 0.0, 0, False, frozenset())
            else:
                view = CandidateView(
                    login,
                    reason is None,
                    reason,
                    agent.load,
                    agent.capacity,
                    agent.online,
                    agent.skills,
                )
            self._verdicts[key] = view
        return view

    def outcome(self, task: WaitingTask, tiers: list[tuple[timedelta, QueueSpec]]) -> _Outcome:
        if not tiers:
            reason = f"waits: queue {task.queue!r} is not in the rules"
            return _Outcome(None, reason, None, False, [], task.skills)
        home = tiers[0][1]
        required = task.skills | home.skills
        judged = self._judged_for(tiers, required, task.channel)
        seen, live = judged.seen, self.live
        for depth, (need, spec) in enumerate(tiers):
            members, considered = judged.tiers[depth]
            eligible = [live[login] for login in members if seen[login].eligible]
            if not eligible:
                continue
            sticky = task.sticky_login if home.sticky else None
            agent, how, rotates = pick_agent(
                spec, members, eligible, sticky, self.rr.get(spec.name)
            )
            if depth:
                waited = format_duration(self.now - task.created_at)
                how = (
                    f"overflow from {home.name} to {spec.name} (waited {waited}, "
                    f"overflow after {format_duration(need)}): {how}"
                )
            return _Outcome(agent, how, spec, rotates, considered, required, seen)
        teams = ", ".join(dict.fromkeys(spec.team for _, spec in tiers))
        reason = f"waits in queue {home.name}: no online agent of team {teams} can take it now"
        return _Outcome(None, reason, None, False, judged.tiers[-1][1], required, seen)

    def _judged_for(
        self,
        tiers: list[tuple[timedelta, QueueSpec]],
        required: frozenset[str],
        channel: str | None,
    ) -> _Judged:
        """The members of ``tiers`` as judged for a task needing ``required`` on ``channel``:
        judged once per plan, then again only where an agent's load changed."""
        key = (tuple(spec.name for _, spec in tiers), required, channel)
        judged = self._judged.get(key)
        weights = self.weights(channel)
        if judged is None:
            judged = self._judged[key] = _Judged([], {})
            considered: list[str] = []
            for _, spec in tiers:
                members = self.ruleset.teams.get(spec.team, ())
                for login in members:
                    if login not in judged.seen:
                        considered.append(login)
                        judged.seen[login] = self.verdict(login, required, weights)
                judged.tiers.append((members, list(considered)))
        elif judged.stale:
            for login in judged.stale:
                judged.seen[login] = self.verdict(login, required, weights)
            judged.stale.clear()
        return judged

    def views(self, outcome: _Outcome) -> tuple[CandidateView, ...]:
        """Every considered agent as the outcome judged it (before it is applied)."""
        return tuple(map(outcome.seen.__getitem__, outcome.considered))

    def apply(self, task: WaitingTask, outcome: _Outcome) -> None:
        agent = outcome.agent
        assert agent is not None and outcome.via is not None
        agent.took(self.weight(agent.login, task.channel), self.now)
        for judged in self._judged.values():
            if agent.login in judged.seen:
                judged.stale.add(agent.login)
        if outcome.rotates:
            self.rr[outcome.via.name] = agent.login


def plan_assignments(
    ruleset: RuleSet,
    waiting: Sequence[WaitingTask],
    agents: Sequence[AgentState],
    now: datetime,
    rr_state: Mapping[str, str] | None = None,
) -> AssignmentPlan:
    """Plan who takes which waiting task now; never exceeds capacity, only online agents."""
    planner = _Planner(ruleset, agents, now, rr_state or {})
    if len({task.id for task in waiting}) != len(waiting):
        raise ValueError("a task id is listed twice in waiting")
    teams_with_room = {
        team
        for team, members in ruleset.teams.items()
        if any(m in planner.live and planner.live[m].has_room() for m in members)
    }
    assignments: list[Assignment] = []
    if teams_with_room:
        reached = [(task, _reached(ruleset, task, now)) for task in waiting]
        workable = [
            (task, tiers)
            for task, tiers in reached
            if any(spec.team in teams_with_room for _, spec in tiers)
        ]
        workable.sort(key=lambda pair: queue_order_key(pair[0]))
        failed: set[tuple[str, frozenset[str], str | None, int]] = set()
        for task, tiers in workable:
            signature = (task.queue, task.skills, task.channel, len(tiers))
            if signature in failed:
                continue  # room only shrinks during a plan: it cannot fit now either
            outcome = planner.outcome(task, tiers)
            if outcome.agent is None:
                failed.add(signature)
                continue
            candidates = planner.views(outcome)
            planner.apply(task, outcome)
            assignments.append(Assignment(task.id, outcome.agent.login, outcome.reason, candidates))
    chosen = {a.task_id for a in assignments}
    rest = sorted((t for t in waiting if t.id not in chosen), key=queue_order_key)
    return AssignmentPlan(tuple(assignments), dict(planner.rr), tuple(t.id for t in rest))


def explain_choice(
    ruleset: RuleSet,
    task: WaitingTask,
    agents: Sequence[AgentState],
    now: datetime,
    rr_state: Mapping[str, str] | None = None,
) -> Choice:
    """What ``plan_assignments`` would do with ``task`` alone, with every candidate's verdict."""
    planner = _Planner(ruleset, agents, now, rr_state or {})
    outcome = planner.outcome(task, _reached(ruleset, task, now))
    login = outcome.agent.login if outcome.agent else None
    return Choice(task.id, login, outcome.reason, planner.views(outcome))
