"""Response bodies of the report endpoints (inbox/api_reports.py), for the OpenAPI document."""

from __future__ import annotations

from pydantic import Field, create_model

from inbox.schemas import Strict


class Figures(Strict):
    """One set of figures; durations in seconds (business time for response and resolution)."""

    dialogs: int = Field(description="dialogs created")
    messages_in: int
    messages_out: int = Field(description="replies sent or queued (notes excluded)")
    tasks_created: int
    tasks_resolved: int = Field(description="tasks done")
    tasks_cancelled: int
    tasks_reopened: int = Field(
        description="follow-up tasks after a task in the same queue was done"
    )
    reopen_rate: float | None = Field(description="tasks_reopened / tasks_resolved")
    first_responses: int
    first_response_median_s: float | None
    first_response_p90_s: float | None
    resolution_median_s: float | None
    resolution_p90_s: float | None
    sla_first_response_met: int
    sla_first_response_breached: int
    sla_resolution_met: int
    sla_resolution_breached: int
    sla_attainment: float | None = Field(description="met / (met + breached), both targets")
    tasks_assigned: int
    queue_wait_median_s: float | None = Field(description="created -> assigned, wall clock")
    queue_wait_p90_s: float | None
    backlog_open: int = Field(description="tasks open at the end of the period (or bucket)")
    backlog_waiting: int = Field(description="of those, not assigned")
    agent_load: int = Field(description="open tasks held by agents at the end of the period")


_FIGURES = {name: (info.annotation, info) for name, info in Figures.model_fields.items()}
ChannelFigures = create_model("ChannelFigures", __base__=Strict, channel=(str, ...), **_FIGURES)  # type: ignore[call-overload]
QueueFigures = create_model("QueueFigures", __base__=Strict, queue=(str, ...), **_FIGURES)  # type: ignore[call-overload]
AgentFigures = create_model("AgentFigures", __base__=Strict, agent=(str, ...), **_FIGURES)  # type: ignore[call-overload]
PointFigures = create_model("PointFigures", __base__=Strict, start=(str, ...), **_FIGURES)  # type: ignore[call-overload]


class Filters(Strict):
    channel: str | None
    queue: str | None
    team: str | None
    agent: str | None
    tag: str | None


class ReportHeader(Strict):
    from_: str = Field(alias="from", description="start of the period (UTC)")
    to: str = Field(description="end of the period, excluded (UTC)")
    until: str = Field(description="the end, or now if earlier: figures stop here")
    timezone: str
    filters: Filters


class Summary(ReportHeader):
    totals: Figures
    channels: list[ChannelFigures]  # type: ignore[valid-type]
    queues: list[QueueFigures]  # type: ignore[valid-type]
    agents: list[AgentFigures]  # type: ignore[valid-type]


class Heatmap(Strict):
    days: list[str]
    counts: list[list[int]] = Field(description="inbound messages: 7 weekdays x 24 local hours")


class Timeseries(ReportHeader):
    interval: str
    points: list[PointFigures]  # type: ignore[valid-type]
    heatmap: Heatmap
