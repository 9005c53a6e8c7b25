"""Bodies of the assignment and rules endpoints (inbox/api_routing.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, StrictBool

from inbox.schemas import ChannelName, PriorityName, Strict, TaskStatusName

MAX_RULES_CHARS = 1_000_000


class TaskPatch(Strict):
    status: TaskStatusName | None = None
    assignee: str | None = Field(
        None, min_length=1, max_length=100, description="a login; null unassigns"
    )
    priority: PriorityName | None = None
    on_hold: StrictBool | None = Field(
        None, description="waiting on the customer: pauses the SLA clocks"
    )


class AgentStatusIn(Strict):
    status: Literal["online", "away", "offline"]


class AgentStatusOut(Strict):
    login: str
    status: Literal["online", "away", "offline"]


class RulesIn(Strict):
    text: str = Field(max_length=MAX_RULES_CHARS, description="the whole rules.yaml")


class RulesOut(Strict):
    text: str
    version: str
    file: str | None = Field(description="the file the rules are saved to, if any")


class RuleIssueOut(Strict):
    line: int
    path: str
    message: str


class RulesSaved(Strict):
    version: str
    written: bool = Field(description="the rules file on disk was replaced")
    warnings: list[RuleIssueOut]


class RulesErrorBody(Strict):
    code: str = Field(description="invalid_rules, or invalid for a malformed request body")
    message: str
    issues: list[RuleIssueOut] = Field(default_factory=list, description="every error, by line")


class RulesErrorOut(Strict):
    error: RulesErrorBody


class RulesTestIn(Strict):
    channel: ChannelName
    text: str = Field("", max_length=65536)
    tags: list[str] = Field(default_factory=list, max_length=50)
    contact_tags: list[str] = Field(default_factory=list, max_length=50)
    rules: str | None = Field(
        None,
        max_length=MAX_RULES_CHARS,
        description="a draft to test instead of the rules in force",
    )


class CandidateOut(Strict):
    login: str
    eligible: bool
    why_not: str | None
    load: float
    capacity: int
    online: bool


class TaskChoiceOut(Strict):
    queue: str
    agent: str | None
    outcome: str
    reason: str
    candidates: list[CandidateOut]


class RulesTestOut(Strict):
    rules_version: str
    decision: dict[str, object]
    tasks: list[TaskChoiceOut]
    explain: str
