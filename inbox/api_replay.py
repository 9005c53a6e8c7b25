"""POST /api/v1/rules/replay: what a draft of the rules would route differently, over the
inbound messages of a recent window. Read-only. The replay itself is injected by the
composition root (it reuses `relaydesk rules replay`'s comparison), so this module stays
a thin HTTP layer and the router stays pure."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web
from pydantic import Field

from inbox.api_routing import actor, routing, rules_error
from inbox.bodies import read_json
from inbox.context import SERVICES
from inbox.errors import ApiError
from inbox.openapi import Operation
from inbox.schemas import ErrorOut, Strict
from inbox.schemas_routing import MAX_RULES_CHARS, RulesErrorOut
from router import RulesError, RuleSet, load_rules, parse_duration

API = "/api/v1"
MAX_WINDOW = timedelta(days=90)

Replayer = Callable[[RuleSet, datetime], Awaitable[dict[str, Any]]]
REPLAYER: web.AppKey[Replayer] = web.AppKey("replayer")


class ReplayIn(Strict):
    rules: str | None = Field(
        None, max_length=MAX_RULES_CHARS, description="a draft; the rules in force if absent"
    )
    since: str = Field("7d", max_length=20, description="how far back, e.g. 1d, 7d, 12h")


class ReplayOut(Strict):
    since: str
    new_rules_version: str
    examined: int
    changed: int
    undecided: int
    truncated: bool
    changes: list[dict[str, object]]
    queues: dict[str, dict[str, int]]
    agents: dict[str, dict[str, int]]


async def post_rules_replay(request: web.Request) -> web.Response:
    if not actor(request).is_admin:
        raise ApiError(403, "forbidden", "only an admin may replay the rules")
    body: ReplayIn = await read_json(request, ReplayIn)
    try:
        window = parse_duration(body.since)
    except ValueError as exc:
        raise ApiError(422, "invalid", f"since: {exc}") from None
    if window > MAX_WINDOW:
        raise ApiError(422, "invalid", "since: at most 90d")
    ruleset = routing(request).rulebook.current
    if body.rules is not None:
        try:
            ruleset = load_rules(body.rules, "draft.yaml")
        except RulesError as exc:
            return rules_error(exc)
    since = request.config_dict[SERVICES].clock() - window
    return web.json_response(await request.config_dict[REPLAYER](ruleset, since))


REPLAY_OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "POST",
        f"{API}/rules/replay",
        post_rules_replay,
        "Re-decide recent inbound messages under a draft (or the rules in force), read-only: "
        "how many would route differently, per-queue counts, the first changes (admin)",
        {200: ReplayOut, 403: ErrorOut, 422: RulesErrorOut},
        body=ReplayIn,
    ),
)
