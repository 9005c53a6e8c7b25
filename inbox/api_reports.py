"""GET /api/v1/reports/summary and /api/v1/reports/timeseries (admins: support leads' figures).

Query: ``from``/``to`` (dates are whole local days, both included; date-times are exact, ``to``
excluded; default the last 7 days), ``tz`` (IANA name, default UTC), and the filters
``channel``, ``queue``, ``team``, ``agent``, ``tag``. The dashboard page and the CLI read
the same functions (dialogs.reports).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from aiohttp import web

from dialogs.model import ChannelKind
from dialogs.reports import (
    Period,
    ReportFilters,
    ReportInputError,
    build_summary,
    build_timeseries,
    parse_period,
    parse_zone,
)
from inbox.context import PRINCIPAL_KEY, ROUTING_SERVICES, SERVICES
from inbox.errors import ApiError
from inbox.openapi import Operation, Param
from inbox.schemas import ErrorOut
from inbox.schemas_reports import Summary, Timeseries
from router import RuleSet

API = "/api/v1"
INTERVALS = ("day", "hour")
MAX_HOURLY_DAYS = 93


def report_period(values: Mapping[str, str], now: datetime) -> Period:
    """The period from ``from``, ``to`` and ``tz`` query values (422 when malformed)."""
    try:
        zone = parse_zone(values.get("tz") or None)
        return parse_period(values.get("from") or None, values.get("to") or None, zone, now)
    except ValueError as exc:
        raise ApiError(422, "invalid", str(exc)) from None


def report_filters(query: Mapping[str, str]) -> ReportFilters:
    channel = query.get("channel") or None
    if channel is not None and channel not in {str(c) for c in ChannelKind}:
        kinds = ", ".join(str(c) for c in ChannelKind)
        raise ApiError(422, "invalid", f"channel: must be one of {kinds}")
    return ReportFilters(
        channel=channel,
        queue=query.get("queue") or None,
        team=query.get("team") or None,
        agent=query.get("agent") or None,
        tag=query.get("tag") or None,
    )


def _admin_only(request: web.Request) -> None:
    if request[PRINCIPAL_KEY].role != "admin":
        raise ApiError(403, "forbidden", "reports are for admins")


def _ruleset(request: web.Request) -> RuleSet:
    return request.config_dict[ROUTING_SERVICES].rulebook.current


async def get_report_summary(request: web.Request) -> web.Response:
    _admin_only(request)
    svc = request.config_dict[SERVICES]
    now = svc.clock()
    period, filters = report_period(request.query, now), report_filters(request.query)
    try:
        report = await build_summary(svc.db, _ruleset(request), period, filters, now)
    except ReportInputError as exc:
        raise ApiError(422, "invalid", str(exc)) from None
    return web.json_response(report)


async def get_report_timeseries(request: web.Request) -> web.Response:
    _admin_only(request)
    svc = request.config_dict[SERVICES]
    now = svc.clock()
    period, filters = report_period(request.query, now), report_filters(request.query)
    interval = request.query.get("interval") or "day"
    if interval not in INTERVALS:
        raise ApiError(422, "invalid", "interval: must be one of day, hour")
    if interval == "hour" and (period.end - period.start).days > MAX_HOURLY_DAYS:
        raise ApiError(422, "invalid", f"interval=hour: at most {MAX_HOURLY_DAYS} days")
    try:
        report = await build_timeseries(svc.db, _ruleset(request), period, filters, now, interval)
    except ReportInputError as exc:
        raise ApiError(422, "invalid", str(exc)) from None
    return web.json_response(report)


_COMMON = (
    Param("from", {"type": "string"}, "YYYY-MM-DD (a whole local day) or an ISO date-time"),
    Param("to", {"type": "string"}, "YYYY-MM-DD (included) or an ISO date-time (excluded)"),
    Param("tz", {"type": "string"}, "IANA time zone for dates and buckets (UTC)"),
    Param("channel", {"enum": [str(c) for c in ChannelKind]}),
    Param("queue", {"type": "string"}),
    Param("team", {"type": "string"}, "the team's queues"),
    Param("agent", {"type": "string"}, "tasks assigned to this login"),
    Param("tag", {"type": "string"}, "dialogs with this tag"),
)

REPORT_OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "GET",
        f"{API}/reports/summary",
        get_report_summary,
        "Figures for a period: totals, per channel, per queue, per agent (admin)",
        {200: Summary, 403: ErrorOut},
        params=_COMMON,
    ),
    Operation(
        "GET",
        f"{API}/reports/timeseries",
        get_report_timeseries,
        "Figures per local day or hour, and a weekday x hour heat map of inbound messages",
        {200: Timeseries, 403: ErrorOut},
        params=(*_COMMON, Param("interval", {"enum": list(INTERVALS)})),
    ),
)
