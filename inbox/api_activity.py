"""POST /api/v1/dialogs/{id}/activity: say that you are viewing, typing in or leaving a dialog,
so other agents on it get a notice (the event `agent_activity` on GET /api/v1/events)."""

from __future__ import annotations

from typing import Literal

from aiohttp import web

from dialogs.activity import AgentActivity
from inbox.bodies import read_json
from inbox.context import PRINCIPAL_KEY, SIGNALS
from inbox.errors import ApiError
from inbox.openapi import Operation, Param
from inbox.schemas import Strict

API = "/api/v1"


class ActivityIn(Strict):
    state: Literal["viewing", "typing", "left"]


async def post_activity(request: web.Request) -> web.Response:
    try:
        dialog_id = int(request.match_info["id"])
    except ValueError:
        raise ApiError(404, "not_found", "no such dialog") from None
    body: ActivityIn = await read_json(request, ActivityIn)
    activity = AgentActivity(dialog_id, request[PRINCIPAL_KEY].login, body.state)
    await request.config_dict[SIGNALS].publish([activity])
    return web.Response(status=204)


ACTIVITY_OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "POST",
        f"{API}/dialogs/{{id}}/activity",
        post_activity,
        "Tell the other agents you are viewing, typing in or leaving this dialog (not stored)",
        {204: None},
        body=ActivityIn,
        params=(Param("id", {"type": "integer"}, where="path"),),
    ),
)
