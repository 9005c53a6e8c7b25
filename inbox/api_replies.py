"""REST endpoints for agents' replies (sent through the outbox) and internal notes.

`POST /api/v1/dialogs/{id}/replies` answers 201 with the stored message, status
`queued`, as soon as it and its outbox row are committed; the outbox worker sends it
and the status moves on to sent / delivered / read, or to failed with an `error` that
says why. A reply counts as the first response of the dialog's open tasks.
"""

from __future__ import annotations

import base64
import binascii

from aiohttp import web

from dialogs.model import Direction
from dialogs.outbox import Outbox
from inbox.bodies import read_json
from inbox.context import PRINCIPAL_KEY
from inbox.errors import ApiError
from inbox.openapi import Operation, Param
from inbox.schemas import MessageOut
from inbox.schemas_replies import NoteIn, ReplyIn
from storage.outbox import Draft, ReplyRefused

API = "/api/v1"
OUTBOX = web.AppKey("outbox", Outbox)


def _dialog_id(request: web.Request) -> int:
    try:
        return int(request.match_info["id"])
    except ValueError:
        raise ApiError(404, "not_found", "no such dialog") from None


async def _store(
    request: web.Request, draft: Draft, files: list[tuple[str, str, bytes]]
) -> web.Response:
    try:
        message = await request.config_dict[OUTBOX].store(draft, files)
    except ReplyRefused as exc:
        raise ApiError(exc.status, exc.code, exc.message) from None
    return web.json_response(message, status=201)


async def post_reply(request: web.Request) -> web.Response:
    dialog_id = _dialog_id(request)
    body: ReplyIn = await read_json(request, ReplyIn)
    try:
        files = [
            (a.filename, a.content_type, base64.b64decode(a.data_base64, validate=True))
            for a in body.attachments
        ]
    except binascii.Error:
        raise ApiError(422, "invalid", "attachments: data_base64 is not base64") from None
    draft = Draft(
        dialog_id=dialog_id,
        direction=Direction.OUT,
        text=body.text,
        author=request[PRINCIPAL_KEY].login,
        template=body.template.model_dump() if body.template is not None else None,
        reply_to=body.reply_to,
    )
    return await _store(request, draft, files)


async def post_note(request: web.Request) -> web.Response:
    dialog_id = _dialog_id(request)
    body: NoteIn = await read_json(request, NoteIn)
    draft = Draft(
        dialog_id=dialog_id,
        direction=Direction.NOTE,
        text=body.text,
        author=request[PRINCIPAL_KEY].login,
    )
    return await _store(request, draft, [])


_ID = Param("id", {"type": "integer"}, where="path")

REPLY_OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "POST",
        f"{API}/dialogs/{{id}}/replies",
        post_reply,
        "Reply on the dialog's channel: 201 at once with status queued, then sent through "
        "the outbox (sent/delivered/read, or failed with an error). Counts as the first "
        "response of the dialog's open tasks. WhatsApp: outside 24 hours from the customer's "
        "last message only a template may be sent (422 template_required otherwise)",
        {201: MessageOut},
        body=ReplyIn,
        params=(_ID,),
    ),
    Operation(
        "POST",
        f"{API}/dialogs/{{id}}/notes",
        post_note,
        "Add an internal note to the dialog (direction note; never sent to the customer)",
        {201: MessageOut},
        body=NoteIn,
        params=(_ID,),
    ),
)
