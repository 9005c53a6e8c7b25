"""Choosing one agent among the eligible ones: sticky, least_loaded or round_robin."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from operator import attrgetter
from typing import Protocol

from router.model import QueueSpec

EPSILON = 1e-9  # float weights: 0.1 + 0.2 must fit into a capacity of 0.3


class _AgentLike(Protocol):
    @property
    def login(self) -> str: ...
    @property
    def online(self) -> bool: ...
    @property
    def capacity(self) -> int: ...
    @property
    def load(self) -> float: ...
    @property
    def skills(self) -> frozenset[str]: ...
    @property
    def last_assigned_at(self) -> datetime | None: ...


class Live:
    """A mutable working copy of an AgentState while a plan is being made."""

    __slots__ = ("capacity", "last_assigned_at", "load", "login", "online", "rank", "skills")

    def __init__(
        self,
        login: str,
        online: bool,
        capacity: int,
        load: float,
        skills: frozenset[str],
        last_assigned_at: datetime | None,
    ) -> None:
        self.login = login
        self.online = online
        self.capacity = capacity
        self.load = load
        self.skills = skills
        self.last_assigned_at = last_assigned_at
        self.rank = _least_loaded_key(self)  # kept up to date by took()

    def took(self, weight: float, now: datetime) -> None:
        """This agent was given a task of ``weight`` at ``now``."""
        self.load += weight
        self.last_assigned_at = now
        self.rank = _least_loaded_key(self)

    @classmethod
    def of(cls, agent: _AgentLike) -> Live:
        return cls(
            agent.login,
            agent.online,
            agent.capacity,
            agent.load,
            agent.skills,
            agent.last_assigned_at,
        )

    def has_room(self, weight: float = 0.0) -> bool:
        """Online with spare capacity (at least ``weight`` of it, or any at all for 0)."""
        if not self.online:
            return False
        if weight:
            return self.load + weight <= self.capacity + EPSILON
        return self.load < self.capacity - EPSILON


def why_not(agent: Live | None, required: frozenset[str], weight: float) -> str | None:
    """Why ``agent`` cannot take a task needing ``required`` skills and ``weight``; None: it can."""
    if agent is None:
        return "no presence (not signed in since start)"
    if not agent.online:
        return "offline"
    if agent.capacity <= 0:
        return "capacity 0"
    missing = required - agent.skills
    if missing:
        return "missing skill " + ", ".join(sorted(missing))
    if agent.load + weight > agent.capacity + EPSILON:
        return f"full: load {agent.load:g} + {weight:g} > capacity {agent.capacity}"
    return None


def _least_loaded_key(agent: Live) -> tuple[float, bool, float, str]:
    """least_loaded's order: load share, then longest idle (never assigned first), then login."""
    last = agent.last_assigned_at
    return (
        agent.load / agent.capacity if agent.capacity > 0 else math.inf,  # 0: never eligible
        last is not None,
        last.timestamp() if last else 0.0,
        agent.login,
    )


def pick_agent(
    queue: QueueSpec,
    members: Sequence[str],
    eligible: Sequence[Live],
    sticky_login: str | None,
    rr_last: str | None,
) -> tuple[Live, str, bool]:
    """Pick among ``eligible`` (non-empty): returns (agent, reason, advances round robin)."""
    for agent in eligible:
        if agent.login == sticky_login:
            return agent, f"sticky: {agent.login} served this contact last and has room", False
    if queue.strategy == "round_robin":
        start = members.index(rr_last) + 1 if rr_last in members else 0
        by_login = {agent.login: agent for agent in eligible}
        for offset in range(len(members)):
            login = members[(start + offset) % len(members)]
            if login in by_login:
                after = f"next after {rr_last}" if rr_last in members else "first in team order"
                return by_login[login], f"round_robin in {queue.name}: {login} is {after}", True
        raise AssertionError("eligible agents must be team members")  # pragma: no cover
    ranked = sorted(eligible, key=attrgetter("rank"))
    best = ranked[0]
    reason = (
        f"least_loaded in {queue.name}: {best.login} has the lowest load "
        f"{best.load:g}/{best.capacity}"
    )
    if len(ranked) > 1:
        runner = ranked[1]
        if runner.load / runner.capacity == best.load / best.capacity:
            if runner.rank[1:3] != best.rank[1:3]:
                reason += f"; tie with {runner.login} broken by least recently assigned"
            else:
                reason += f"; tie with {runner.login} broken by login order"
    return best, reason, queue.strategy == "round_robin"
