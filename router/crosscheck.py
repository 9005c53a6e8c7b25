"""Whole-file checks of rules.yaml: references between sections, cycles, unreachable rules."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from router.issues import IssueCollector, Path, did_you_mean
from router.model import Example, QueueSpec, Rule
from router.schema import SlaModel


def check_references(
    issues: IssueCollector,
    *,
    names: Mapping[str, set[str]],
    teams: Mapping[str, tuple[str, ...]],
    queues: Mapping[str, QueueSpec],
    sla_models: Mapping[str, SlaModel],
    rules: Sequence[Rule],
    examples: Sequence[Example],
) -> None:
    """Report every reference to an undeclared name and every structural problem."""

    def ref(kind: str, value: str | None, path: Path) -> bool:
        if value is None or value in names[kind]:
            return True
        issues.error(path, f"unknown {kind} {value!r}{did_you_mean(value, names[kind])}")
        return False

    members_anywhere: set[str] = set()
    for team, members in teams.items():
        if not members:
            issues.warning(
                ("teams", team), f"team {team!r} has no members: its queues never assign"
            )
        for index, login in enumerate(members):
            ref("agent", login, ("teams", team, index))
            members_anywhere.add(login)
    for login in sorted(names["agent"] - members_anywhere):
        issues.warning(("agents", login), f"agent {login!r} is in no team and gets no tasks")

    for name, queue in queues.items():
        ref("team", queue.team, ("queues", name, "team"))
        ref("sla", queue.sla, ("queues", name, "sla"))
        ref("queue", queue.overflow_to, ("queues", name, "overflow", "to"))
    _check_overflow_cycles(issues, queues)

    for name, policy in sla_models.items():
        ref("calendar", policy.hours, ("sla", name, "hours"))
        if policy.first_response is None and policy.resolution is None:
            issues.error(("sla", name), "an SLA policy needs first_response and/or resolution")

    _check_rules(issues, rules, teams, queues, ref)

    for example in examples:
        path: Path = ("tests", example.index, "expect")
        queue_names = example.expect.get("queue", [])
        for index, queue_name in enumerate(queue_names):
            ref("queue", queue_name, (*path, "queue", index))
        ref("sla", example.expect.get("sla"), (*path, "sla"))
        if example.expect.get("no_task") and queue_names:
            issues.error((*path, "no_task"), "no_task: true contradicts queue:")


Ref = Callable[[str, str | None, Path], bool]


def _check_rules(
    issues: IssueCollector,
    rules: Sequence[Rule],
    teams: Mapping[str, tuple[str, ...]],
    queues: Mapping[str, QueueSpec],
    ref: Ref,
) -> None:
    first_line: dict[str, int] = {}
    blocker: Rule | None = None
    for rule in rules:
        path: Path = ("rules", rule.index)
        if rule.name in first_line:
            issues.error(
                (*path, "name"),
                f"duplicate rule name {rule.name!r} (first used on line {first_line[rule.name]})",
            )
        first_line.setdefault(rule.name, issues.line_of((*path, "name")))
        actions = rule.actions
        ref("queue", actions.queue, (*path, "then", "task", "queue"))
        ref("sla", actions.sla, (*path, "then", "sla"))
        if ref("agent", actions.assign, (*path, "then", "assign")) and actions.assign:
            queue = queues.get(actions.queue or "")
            if queue is not None and actions.assign not in teams.get(queue.team, ()):
                issues.warning(
                    (*path, "then", "assign"),
                    f"agent {actions.assign!r} is not in team {queue.team!r} "
                    f"of queue {queue.name!r}",
                )
        if blocker is not None:
            issues.warning(
                path,
                f"rule {rule.name!r} is unreachable: rule {blocker.name!r} "
                f"(line {blocker.line}) matches every message and stops",
            )
        elif not rule.conditions and rule.stops:
            blocker = rule


def _check_overflow_cycles(issues: IssueCollector, queues: Mapping[str, QueueSpec]) -> None:
    reported: set[str] = set()
    for start in queues:
        chain = [start]
        current = queues[start].overflow_to
        while current is not None and current in queues and current not in chain:
            chain.append(current)
            current = queues[current].overflow_to
        if current == start and start not in reported:
            reported.update(chain)
            route = " -> ".join([*chain, start])
            issues.error(("queues", start, "overflow", "to"), f"overflow cycle: {route}")
