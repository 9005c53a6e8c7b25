"""plan_assignments / explain_choice: strategies, limits, overflow, queue order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from router import (
    AgentState,
    RuleSet,
    WaitingTask,
    explain_choice,
    load_rules,
    plan_assignments,
    queue_order_key,
)

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
EARLIER = NOW - timedelta(hours=1)


def agent(
    login: str,
    load: float = 0,
    *,
    online: bool = True,
    capacity: int | None = None,
    skills: str = "en",
    last: datetime | None = None,
) -> AgentState:
    caps = {"alice": 3, "bob": 2, "carol": 2}
    return AgentState(
        login,
        online,
        caps.get(login, 2) if capacity is None else capacity,
        load,
        frozenset(skills.split()),
        last,
    )


def task(
    task_id: int = 1,
    queue: str = "support",
    *,
    priority: str = "normal",
    age: timedelta = timedelta(minutes=1),
    sla_due: datetime | None = None,
    sticky: str | None = None,
    channel: str | None = "telegram",
    skills: frozenset[str] = frozenset(),
) -> WaitingTask:
    return WaitingTask(task_id, queue, priority, sla_due, NOW - age, skills, sticky, channel)


PICKS = [
    (
        "least loaded by ratio",
        [task()],
        [agent("alice", 2), agent("bob", 1)],
        "bob",
        "least_loaded in support: bob has the lowest load 1/2",
    ),
    (
        "tie broken by least recently assigned",
        [task()],
        [agent("alice", last=EARLIER), agent("bob", last=NOW - timedelta(minutes=5))],
        "alice",
        "tie with bob broken by least recently assigned",
    ),
    (
        "never assigned beats assigned",
        [task()],
        [agent("alice", last=EARLIER), agent("bob")],
        "bob",
        "tie with alice broken by least recently assigned",
    ),
    (
        "sticky agent with room",
        [task(sticky="alice")],
        [agent("alice", 2), agent("bob")],
        "alice",
        "sticky: alice served this contact last",
    ),
    (
        "sticky agent full falls back",
        [task(sticky="bob")],
        [agent("alice", 1), agent("bob", 2)],
        "alice",
        "least_loaded",
    ),
    (
        "offline agent skipped",
        [task()],
        [agent("alice", 2), agent("bob", online=False)],
        "alice",
        "least_loaded",
    ),
    (
        "required queue skill",
        [task(queue="polish")],
        [agent("alice"), agent("bob"), agent("carol", 1, skills="en pl")],
        "carol",
        "least_loaded",
    ),
    (
        "task skill",
        [task(skills=frozenset({"ru"}))],
        [agent("alice", 2, skills="en ru"), agent("bob")],
        "alice",
        "least_loaded",
    ),
    (
        "email weighs half for alice",
        [task(channel="email")],
        [agent("alice", 2.5), agent("bob", 2)],
        "alice",
        "least_loaded",
    ),
    (
        "overflow after 30 minutes",
        [task(queue="billing", age=timedelta(minutes=45))],
        [agent("carol", 2), agent("alice", 1), agent("bob", 1)],
        "alice",
        "overflow from billing to support (waited 45m, overflow after 30m)",
    ),
    (
        "home team first even after overflow",
        [task(queue="billing", age=timedelta(hours=2))],
        [agent("carol", 1), agent("bob")],
        "carol",
        "round_robin in billing",
    ),
]


@pytest.mark.parametrize(
    ("waiting", "agents", "login", "reason"), [c[1:] for c in PICKS], ids=[c[0] for c in PICKS]
)
def test_pick(
    ruleset: RuleSet, waiting: list[WaitingTask], agents: list[AgentState], login: str, reason: str
) -> None:
    """The single waiting task goes to the expected agent, for the stated reason."""
    plan = plan_assignments(ruleset, waiting, agents, NOW, {})
    assert [a.login for a in plan.assignments] == [login]
    assert reason in plan.assignments[0].reason
    assert plan.waiting == ()


WAITS = [
    ("everyone full", [task()], [agent("alice", 3), agent("bob", 2)]),
    ("telegram weighs 1 for alice", [task()], [agent("alice", 2.5), agent("bob", 2)]),
    ("only offline agents", [task()], [agent("alice", online=False), agent("bob", online=False)]),
    ("missing skill", [task(skills=frozenset({"de"}))], [agent("alice"), agent("bob")]),
    (
        "no overflow before 30 minutes",
        [task(queue="billing", age=timedelta(minutes=10))],
        [agent("carol", 2), agent("alice"), agent("bob")],
    ),
    ("queue no longer in the rules", [task(queue="gone")], [agent("alice"), agent("bob")]),
    ("capacity zero", [task()], [agent("alice", capacity=0), agent("bob", capacity=0)]),
]


@pytest.mark.parametrize(("waiting", "agents"), [c[1:] for c in WAITS], ids=[c[0] for c in WAITS])
def test_task_waits(ruleset: RuleSet, waiting: list[WaitingTask], agents: list[AgentState]) -> None:
    """No eligible agent: nothing is assigned and the task is reported as still waiting."""
    plan = plan_assignments(ruleset, waiting, agents, NOW, {})
    assert plan.assignments == ()
    assert plan.waiting == tuple(t.id for t in waiting)


def test_round_robin_rotates_and_returns_state() -> None:
    """Round robin starts after the last agent given and hands the new pointer back."""
    ruleset = load_rules(
        "version: 1\nagents: {a: {capacity: 5}, b: {capacity: 5}, c: {capacity: 5}}\n"
        "teams: {t: [a, b, c]}\nqueues: {q: {team: t, strategy: round_robin}}\n"
    )
    agents = [AgentState(x, True, 5, 0, frozenset(), None) for x in "abc"]
    waiting = [task(i, "q", age=timedelta(minutes=10 - i)) for i in range(1, 5)]
    plan = plan_assignments(ruleset, waiting, agents, NOW, {"q": "b"})
    assert [a.login for a in plan.assignments] == ["c", "a", "b", "c"]
    assert plan.rr_state == {"q": "c"}


def test_queue_order_key_sorts_priority_sla_age_id() -> None:
    """Urgent first; then earliest SLA due, tasks without SLA last; then oldest; then id."""
    due = NOW + timedelta(hours=1)
    tasks = [
        task(1, priority="low", age=timedelta(days=9)),
        task(2, sla_due=None, age=timedelta(hours=5)),
        task(3, sla_due=due + timedelta(minutes=1)),
        task(4, sla_due=due),
        task(5, priority="urgent"),
        task(6, sla_due=None, age=timedelta(hours=5)),
        task(7, priority="high", sla_due=due + timedelta(days=1)),
    ]
    assert [t.id for t in sorted(tasks, key=queue_order_key)] == [5, 7, 4, 3, 2, 6, 1]


def test_scarce_capacity_goes_in_queue_order(ruleset: RuleSet) -> None:
    """With one free slot, the urgent task gets it and the older normal task keeps waiting."""
    waiting = [task(1, age=timedelta(hours=3)), task(2, priority="urgent")]
    plan = plan_assignments(ruleset, waiting, [agent("alice", 2), agent("bob", 2)], NOW, {})
    assert [(a.task_id, a.login) for a in plan.assignments] == [(2, "alice")]
    assert plan.waiting == (1,)


def test_assignment_carries_candidate_views(ruleset: RuleSet) -> None:
    """Every team member appears as a candidate with its load, capacity, presence and verdict."""
    plan = plan_assignments(
        ruleset, [task()], [agent("alice", 1), agent("bob", online=False)], NOW, {}
    )
    views = {c.login: c for c in plan.assignments[0].candidates}
    assert (views["alice"].eligible, views["alice"].load, views["alice"].capacity) == (True, 1, 3)
    assert (views["bob"].eligible, views["bob"].why_not, views["bob"].online) == (
        False,
        "offline",
        False,
    )


def test_explain_choice_says_why_each_candidate_was_rejected(ruleset: RuleSet) -> None:
    """A task nobody can take 'waits in queue', listing each team member's reason."""
    choice = explain_choice(
        ruleset, task(skills=frozenset({"ru"})), [agent("alice", 3, skills="en ru")], NOW
    )
    assert choice.login is None
    assert choice.reason.startswith("waits in queue support")
    assert [(c.login, c.why_not) for c in choice.candidates] == [
        ("alice", "full: load 3 + 1 > capacity 3"),
        ("bob", "no presence (not signed in since start)"),
    ]
    assert "waits in queue" in choice.explain()


def test_duplicate_task_ids_are_refused(ruleset: RuleSet) -> None:
    """The same task listed twice is a caller bug and raises ValueError."""
    with pytest.raises(ValueError, match="twice"):
        plan_assignments(ruleset, [task(1), task(1)], [agent("alice")], NOW, {})


def test_many_waiting_tasks_with_full_agents(ruleset: RuleSet) -> None:
    """10,000 waiting tasks and 200 full agents: nothing assigned, everything still waiting."""
    waiting = [task(i, ("support", "billing", "polish")[i % 3]) for i in range(10_000)]
    agents = [AgentState(f"x{i}", True, 2, 2, frozenset({"en", "pl"}), None) for i in range(200)]
    agents += [agent("alice", 3), agent("bob", 2), agent("carol", 2)]
    plan = plan_assignments(ruleset, waiting, agents, NOW, {})
    assert plan.assignments == ()
    assert len(plan.waiting) == 10_000
