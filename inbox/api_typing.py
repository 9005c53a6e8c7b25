"""`POST /api/v1/dialogs/{id}/typing`: an agent is typing; the widget shows it to the visitor.

Call it every few seconds while the agent types; the visitor's widget shows the
indicator for a few seconds after each call. Visitors' typing reaches agents as
`visitor_typing` events on `GET /api/v1/events`.
"""

from __future__ import annotations

from aiohttp import web

from dialogs.events import AgentTyping
from inbox.context import PRINCIPAL_KEY, SIGNALS
from inbox.errors import ApiError
from inbox.openapi import Operation, Param

API = "/api/v1"


async def post_typing(request: web.Request) -> web.Response:
    try:
        dialog_id = int(request.match_info["id"])
    except ValueError:
        raise ApiError(404, "not_found", "no such dialog") from None
    login = request[PRINCIPAL_KEY].login
    await request.config_dict[SIGNALS].publish([AgentTyping(dialog_id, login)])
    return web.Response(status=204)


TYPING_OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "POST",
        f"{API}/dialogs/{{id}}/typing",
        post_typing,
        "Say that the calling agent is typing in the dialog: the customer's chat widget shows "
        "a typing indicator for a few seconds (call again while typing)",
        {204: None},
        params=(Param("id", {"type": "integer"}, where="path"),),
    ),
)
