"""Pydantic models of rules.yaml version 1 (strict: unknown keys and loose types are errors).

Only the shape is checked here; references between sections, conditions (``when``) and
templates are checked by ``router.load`` with line numbers.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from router.durations import parse_duration

ChannelKind = Literal["email", "telegram", "whatsapp", "widget", "api"]
Priority = Literal["low", "normal", "high", "urgent"]
Strategy = Literal["least_loaded", "round_robin"]
CHANNEL_KINDS: tuple[str, ...] = ("email", "telegram", "whatsapp", "widget", "api")
PRIORITIES: tuple[str, ...] = ("urgent", "high", "normal", "low")  # most urgent first


def _one_or_many(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


def _duration(value: Any) -> Any:
    return parse_duration(value) if isinstance(value, str) else value


def _date(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError as exc:
            raise ValueError(f"bad date {value!r}: write it as YYYY-MM-DD") from exc
    return value


def _datetime(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError as exc:
            raise ValueError(
                f"bad date-time {value!r}: write it like 2026-03-04T10:00:00+03:00"
            ) from exc
    return value


def _text(value: Any) -> Any:
    """YAML scalars (``pro``, ``42``, ``true``) compared as text: 42 -> "42", true -> "true"."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


Names = Annotated[list[str], BeforeValidator(_one_or_many)]
Duration = Annotated[timedelta, BeforeValidator(_duration)]
Day = Annotated[date, BeforeValidator(_date)]
Text = Annotated[str, BeforeValidator(_text)]
Moment = Annotated[datetime, BeforeValidator(_datetime)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True)


class AgentModel(Strict):
    capacity: int = Field(ge=0)
    skills: Names = []
    weights: dict[ChannelKind, Annotated[float, Field(gt=0)]] = {}


class OverflowModel(Strict):
    after: Duration
    to: str


class QueueModel(Strict):
    team: str
    strategy: Strategy = "least_loaded"
    skills: Names = []
    sticky: bool = False
    overflow: OverflowModel | None = None
    sla: str | None = None


class SlaModel(Strict):
    first_response: Duration | None = None
    resolution: Duration | None = None
    hours: str | None = None


class HoursModel(Strict):
    timezone: str
    days: str | list[str] = "mon-fri"
    time: str = "09:00-18:00"
    holidays: list[Day] = []


class TaskModel(Strict):
    queue: str
    title: str | None = None
    skills: Names = []


class ThenModel(Strict):
    tag: Names = []
    priority: Priority | None = None
    task: TaskModel | None = None
    sla: str | None = None
    auto_reply: str | None = None
    assign: str | None = None


class RuleModel(Strict):
    name: str = Field(min_length=1)
    when: dict[str, Any] | None = None
    then: ThenModel
    continue_: bool = Field(False, alias="continue")


class MessageModel(Strict):
    channel: ChannelKind
    text: str = ""
    kind: str = "text"
    tags: Names = []
    contact_tags: Names = []
    contact_name: str = ""
    contact_attrs: dict[str, Text] = {}
    first_message: bool = True
    automated: bool = False
    language: str | None = None
    at: Moment | None = None


class ExpectModel(Strict):
    queue: Names | None = None
    tags: Names | None = None
    priority: Priority | None = None
    sla: str | None = None
    no_task: bool | None = None
    auto_reply: bool | None = None


class ExampleModel(Strict):
    name: str | None = None
    message: MessageModel
    expect: ExpectModel


TOP_LEVEL_KEYS = ("version", "agents", "teams", "queues", "sla", "hours", "rules", "tests")
SECTION_MODELS: dict[str, type[Strict]] = {
    "agents": AgentModel,
    "queues": QueueModel,
    "sla": SlaModel,
    "hours": HoursModel,
    "rules": RuleModel,
    "tests": ExampleModel,
}
