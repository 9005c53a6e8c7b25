"""Property test: a simulated help desk under random events never breaks the assignment rules.

The simulation lives here, not in router/: tasks arrive and are completed, agents come and go,
capacities change (a rules reload), time passes; after every event the plan is made and applied.
Eligibility is re-implemented independently below, so the checks do not trust the planner.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from hypothesis import example, given, settings
from hypothesis import strategies as st

from router import AgentState, AssignmentPlan, WaitingTask, load_rules, plan_assignments
from router import queue_order_key as order

RULES = load_rules("""\
version: 1
agents:
  ann: {capacity: 2, skills: [en, ru], weights: {email: 0.5}}
  ben: {capacity: 3, skills: [en]}
  cid: {capacity: 1, skills: [ru]}
  dee: {capacity: 2, skills: [en, ru], weights: {widget: 1.5}}
teams:
  front: [ann, ben]
  money: [cid, dee]
  vips: [dee]
queues:
  support: {team: front, strategy: least_loaded, sticky: true}
  billing: {team: money, strategy: round_robin, overflow: {after: 30m, to: support}}
  vip:     {team: vips, skills: [en], overflow: {after: 10m, to: billing}}
""")
LOGINS = ("ann", "ben", "cid", "dee")
SKILLS = {"ann": {"en", "ru"}, "ben": {"en"}, "cid": {"ru"}, "dee": {"en", "ru"}}
TEAMS = {"front": {"ann", "ben"}, "money": {"cid", "dee"}, "vips": {"dee"}}
# queue -> [(total wait that reaches the tier, team of the tier)], written out by hand
TIERS = {
    "support": [(0, "front")],
    "billing": [(0, "money"), (30, "front")],
    "vip": [(0, "vips"), (10, "money"), (40, "front")],
}
QUEUE_SKILLS = {"support": set(), "billing": set(), "vip": {"en"}}
WEIGHTS = {("ann", "email"): 0.5, ("dee", "widget"): 1.5}
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@dataclass
class Desk:
    now: datetime = START
    online: dict[str, bool] = field(default_factory=lambda: dict.fromkeys(LOGINS, True))
    capacity: dict[str, int] = field(
        default_factory=lambda: {"ann": 2, "ben": 3, "cid": 1, "dee": 2}
    )
    last: dict[str, datetime | None] = field(default_factory=lambda: dict.fromkeys(LOGINS))
    waiting: dict[int, WaitingTask] = field(default_factory=dict)
    assigned: dict[int, tuple[WaitingTask, str]] = field(default_factory=dict)
    done: set[int] = field(default_factory=set)
    rr: dict[str, str] = field(default_factory=dict)
    next_id: int = 1

    def load(self) -> dict[str, float]:
        loads = dict.fromkeys(LOGINS, 0.0)
        for task, login in self.assigned.values():
            loads[login] += WEIGHTS.get((login, task.channel or ""), 1.0)
        return loads

    def agents(self) -> list[AgentState]:
        loads = self.load()
        return [
            AgentState(
                x, self.online[x], self.capacity[x], loads[x], frozenset(SKILLS[x]), self.last[x]
            )
            for x in LOGINS
        ]


def can_take(desk: Desk, loads: dict[str, float], login: str, task: WaitingTask) -> bool:
    """Independent eligibility: online, in a reached tier's team, skills, room for the weight."""
    waited = (desk.now - task.created_at) / timedelta(minutes=1)
    teams = [team for need, team in TIERS[task.queue] if waited >= need]
    weight = WEIGHTS.get((login, task.channel or ""), 1.0)
    return (
        desk.online[login]
        and any(login in TEAMS[team] for team in teams)
        and (set(task.skills) | QUEUE_SKILLS[task.queue]) <= SKILLS[login]
        and loads[login] + weight <= desk.capacity[login] + 1e-9
    )


def check_and_apply(desk: Desk, plan: AssignmentPlan) -> None:
    loads = desk.load()
    still = dict(desk.waiting)
    seen: set[int] = set()
    for assignment in plan.assignments:
        task_id, login = assignment.task_id, assignment.login
        assert task_id in still, f"task {task_id} is not waiting (or assigned twice)"
        assert task_id not in seen
        seen.add(task_id)
        task = still.pop(task_id)
        assert can_take(desk, loads, login, task), (
            f"{login} cannot take {task}: {assignment.reason}"
        )
        for other in still.values():  # nothing ahead of it in its queue could have gone to login
            if other.queue == task.queue and order(other) < order(task):
                assert not can_take(desk, loads, login, other), f"{other.id} was ahead of {task_id}"
        loads[login] += WEIGHTS.get((login, task.channel or ""), 1.0)
        desk.assigned[task_id] = (task, login)
        desk.last[login] = desk.now
    desk.waiting = still
    desk.rr = dict(plan.rr_state)
    assert set(plan.waiting) == set(still)
    for task in still.values():  # no free, capable, online agent idles while this waits
        assert not any(can_take(desk, loads, x, task) for x in LOGINS), f"{task} left waiting"
    everything = set(desk.waiting) | set(desk.assigned) | desk.done
    assert everything == set(range(1, desk.next_id))
    assert not (set(desk.waiting) & set(desk.assigned)) and not (desk.done & set(desk.assigned))


arrive = st.tuples(
    st.just("arrive"),
    st.sampled_from(sorted(TIERS)),
    st.sampled_from(["low", "normal", "high", "urgent"]),
    st.sampled_from(["email", "telegram", "widget"]),
    st.sampled_from([frozenset(), frozenset({"ru"}), frozenset({"en"})]),
    st.sampled_from([None, *LOGINS]),
    st.one_of(st.none(), st.integers(0, 120)),
)
complete = st.tuples(st.just("complete"), st.integers(0, 50))
presence = st.tuples(st.just("presence"), st.sampled_from(LOGINS), st.booleans())
reload = st.tuples(st.just("reload"), st.dictionaries(st.sampled_from(LOGINS), st.integers(0, 4)))
tick = st.tuples(st.just("tick"), st.integers(1, 45))
EVENTS = st.lists(st.one_of(arrive, arrive, arrive, complete, presence, reload, tick), max_size=60)
START_CAPACITY = st.fixed_dictionaries({x: st.integers(0, 2) for x in LOGINS})


def apply_event(desk: Desk, event: tuple) -> None:  # type: ignore[type-arg]
    kind = event[0]
    if kind == "arrive":
        _, queue, priority, channel, skills, sticky, due = event
        sla_due = None if due is None else desk.now + timedelta(minutes=due)
        desk.waiting[desk.next_id] = WaitingTask(
            desk.next_id, queue, priority, sla_due, desk.now, skills, sticky, channel
        )
        desk.next_id += 1
    elif kind == "complete" and desk.assigned:
        task_id = sorted(desk.assigned)[event[1] % len(desk.assigned)]
        del desk.assigned[task_id]
        desk.done.add(task_id)
    elif kind == "presence":
        desk.online[event[1]] = event[2]
    elif kind == "reload":
        desk.capacity.update(event[1])
    elif kind == "tick":
        desk.now += timedelta(minutes=event[1])


SCARCE_SLOT = [  # two tasks wait, then one slot opens: the older one must get it
    ("arrive", "support", "normal", "telegram", frozenset(), None, None),
    ("arrive", "support", "normal", "telegram", frozenset(), None, None),
    ("reload", {"ann": 1}),
]


@settings(max_examples=300, deadline=None)
@given(events=EVENTS, capacity=START_CAPACITY)
@example(events=SCARCE_SLOT, capacity=dict.fromkeys(LOGINS, 0))
def test_random_event_sequences_keep_every_invariant(
    events: list[tuple],  # type: ignore[type-arg]
    capacity: dict[str, int],
) -> None:
    """Capacity, presence, skills, teams, queue order, no idling and no lost or doubled task."""
    desk = Desk(capacity=capacity)
    for event in events:
        apply_event(desk, event)
        plan = plan_assignments(
            RULES, list(desk.waiting.values()), desk.agents(), desk.now, desk.rr
        )
        check_and_apply(desk, plan)
