"""REST API handlers under /api/v1 and the table that registers and documents them."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any

import orjson
from aiohttp import web

from dialogs.model import ChannelKind, ContactProfile, InboundAttachment, InboundMessage
from inbox.api_activity import ACTIVITY_OPERATIONS
from inbox.api_replay import REPLAY_OPERATIONS
from inbox.api_replies import REPLY_OPERATIONS
from inbox.api_reports import REPORT_OPERATIONS
from inbox.api_routing import ROUTING_OPERATIONS
from inbox.api_tasks_new import NEW_TASK_OPERATIONS
from inbox.api_typing import TYPING_OPERATIONS
from inbox.auth import bearer_token, hash_token, same_secret
from inbox.bodies import read_json
from inbox.context import PRINCIPAL_KEY, SERVICES, Principal, Profiles, Services
from inbox.errors import ApiError, Handler
from inbox.live import stream_events
from inbox.openapi import Operation, Param, build_document
from inbox.schemas import (
    AgentPage,
    DialogDetail,
    DialogPage,
    Health,
    MessageAccepted,
    MessageIn,
    TaskOut,
    TaskPage,
)
from storage import agents as agent_repo
from storage import queries
from storage.db import ReadTx

API = "/api/v1"
MAX_PAGE = 200


def services(request: web.Request) -> Services:
    return request.config_dict[SERVICES]


def query_int(request: web.Request, name: str, default: int, lo: int, hi: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(422, "invalid", f"{name}: must be an integer") from None
    if not lo <= value <= hi:
        raise ApiError(422, "invalid", f"{name}: must be between {lo} and {hi}")
    return value


def query_choice(request: web.Request, name: str, choices: tuple[str, ...]) -> str | None:
    value = request.query.get(name) or None
    if value is not None and value not in choices:
        raise ApiError(422, "invalid", f"{name}: must be one of {', '.join(choices)}")
    return value


def query_flag(request: web.Request, name: str) -> bool:
    value = query_choice(request, name, ("true", "false", "1", "0"))
    return value in ("true", "1")


def encode_cursor(value: list[Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(value)).decode().rstrip("=")


def decode_cursor(raw: str | None) -> list[Any] | None:
    if not raw:
        return None
    try:
        value = orjson.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        raise ApiError(422, "invalid", "cursor: not a cursor this API returned") from None
    if not isinstance(value, list):
        raise ApiError(422, "invalid", "cursor: not a cursor this API returned")
    return value


def path_id(request: web.Request) -> int:
    try:
        return int(request.match_info["id"])
    except ValueError:
        raise ApiError(404, "not_found", "no such id") from None


# ---- handlers ----------------------------------------------------------------------------------


async def get_health(request: web.Request) -> web.Response:
    try:
        await services(request).db.ping()
    except Exception as exc:
        raise ApiError(503, "unavailable", f"database unreachable: {type(exc).__name__}") from None
    return web.json_response({"status": "ok"})


async def post_message(request: web.Request) -> web.Response:
    body: MessageIn = await read_json(request, MessageIn)
    try:
        files = tuple(
            InboundAttachment(
                a.filename, a.content_type, base64.b64decode(a.data_base64, validate=True)
            )
            for a in body.attachments
        )
    except binascii.Error:
        raise ApiError(422, "invalid", "attachments: data_base64 is not base64") from None
    raw = body.model_dump(exclude={"attachments"})
    message = InboundMessage(
        channel=ChannelKind(body.channel),
        external_id=body.external_id,
        contact=ContactProfile(
            address=body.contact.id,
            name=body.contact.name,
            email=body.contact.email,
            phone=body.contact.phone,
            tags=tuple(body.contact.tags),
            attrs=body.contact.attrs,
        ),
        text=body.text,
        kind=body.kind,
        attachments=files,
        thread_key=body.thread,
        subject=body.subject,
        tags=tuple(body.tags),
        is_automated=body.automated,
        raw=raw,
    )
    result = await services(request).ingestor.ingest(message)
    return web.json_response(
        {
            "id": result.message_id,
            "dialog_id": result.dialog_id,
            "contact_id": result.contact_id,
            "duplicate": result.duplicate,
        },
        status=200 if result.duplicate else 201,
    )


async def list_dialogs(request: web.Request) -> web.Response:
    limit = query_int(request, "limit", 50, 1, MAX_PAGE)
    cursor = decode_cursor(request.query.get("cursor"))
    after = None
    if cursor is not None:
        try:
            after = (datetime.fromisoformat(cursor[0]), int(cursor[1]))
        except (IndexError, TypeError, ValueError):
            raise ApiError(422, "invalid", "cursor: not a cursor this API returned") from None
    f = queries.DialogFilter(
        status=query_choice(request, "status", ("open", "closed")),
        channel=query_choice(request, "channel", tuple(ChannelKind)),
        tag=request.query.get("tag") or None,
        assignee=request.query.get("assignee") or None,
        q=request.query.get("q") or None,
        queue=request.query.get("queue") or None,
        overdue_at=services(request).clock() if query_flag(request, "overdue") else None,
    )
    async with services(request).db.read() as tx:
        items = await queries.list_dialogs(tx, f, limit=limit + 1, after=after)
    next_cursor = None
    if len(items) > limit:
        items = items[:limit]
        last = items[-1]
        next_cursor = encode_cursor([last["last_message_at"].replace("Z", "+00:00"), last["id"]])
    return web.json_response({"items": items, "next_cursor": next_cursor})


async def get_dialog(request: web.Request) -> web.Response:
    async with services(request).db.read() as tx:
        dialog = await queries.get_dialog(tx, path_id(request))
    if dialog is None:
        raise ApiError(404, "not_found", "no such dialog")
    return web.json_response(dialog)


async def list_tasks(request: web.Request) -> web.Response:
    limit = query_int(request, "limit", 50, 1, MAX_PAGE)
    cursor = decode_cursor(request.query.get("cursor"))
    before_id = None
    if cursor is not None:
        if len(cursor) != 1 or not isinstance(cursor[0], int):
            raise ApiError(422, "invalid", "cursor: not a cursor this API returned")
        before_id = cursor[0]
    async with services(request).db.read() as tx:
        items = await queries.list_tasks(
            tx,
            status=query_choice(
                request, "status", ("waiting", "assigned", "in_progress", "done", "cancelled")
            ),
            queue=request.query.get("queue") or None,
            assignee=request.query.get("assignee") or None,
            limit=limit + 1,
            before_id=before_id,
        )
    next_cursor = None
    if len(items) > limit:
        items = items[:limit]
        next_cursor = encode_cursor([items[-1]["id"]])
    return web.json_response({"items": items, "next_cursor": next_cursor})


async def get_task(request: web.Request) -> web.Response:
    async with services(request).db.read() as tx:
        task = await queries.get_task(tx, path_id(request))
    if task is None:
        raise ApiError(404, "not_found", "no such task")
    return web.json_response(task)


async def agent_items(tx: ReadTx, profiles: Profiles) -> list[dict[str, Any]]:
    """Every agent account as the API shows it: presence, capacity, load, skills, teams."""
    rows = await agent_repo.list_agents(tx)
    loads = await queries.agent_loads(tx)
    items = []
    for row in rows:
        profile = profiles.agent_routing(row.login)
        items.append(
            {
                "login": row.login,
                "name": row.name,
                "role": row.role,
                "status": row.status,
                "capacity": profile.capacity,
                "load": loads.get(row.login, 0.0),
                "skills": sorted(profile.skills),
                "teams": sorted(profile.teams),
            }
        )
    return items


async def list_agents(request: web.Request) -> web.Response:
    svc = services(request)
    async with svc.db.read() as tx:
        items = await agent_items(tx, svc.profiles)
    return web.json_response({"items": items, "next_cursor": None})


async def get_openapi(request: web.Request) -> web.Response:
    return web.json_response(build_document(OPERATIONS, version="0.1.0"))


_LIMIT = Param("limit", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 50})
_CURSOR = Param("cursor", {"type": "string"}, "next_cursor of the previous page")
_ID = Param("id", {"type": "integer"}, where="path")

OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "GET",
        "/healthz",
        get_health,
        "Liveness: 200 once the database answers",
        {200: Health, 503: None},
        public=True,
    ),
    Operation("GET", f"{API}/openapi.json", get_openapi, "This document", {200: None}, public=True),
    Operation(
        "POST",
        f"{API}/messages",
        post_message,
        "Ingest a message from any channel; 201 once durable, 200 for a redelivery",
        {201: MessageAccepted, 200: MessageAccepted},
        body=MessageIn,
    ),
    Operation(
        "GET",
        f"{API}/dialogs",
        list_dialogs,
        "Dialogs, newest activity first",
        {200: DialogPage},
        params=(
            Param("status", {"enum": ["open", "closed"]}),
            Param("channel", {"enum": [str(c) for c in ChannelKind]}),
            Param("tag", {"type": "string"}),
            Param("assignee", {"type": "string"}, "login holding an open task"),
            Param("q", {"type": "string"}, "text search over messages"),
            Param("queue", {"type": "string"}, "has an open task in this queue"),
            Param(
                "overdue",
                {"enum": ["true", "false", "1", "0"]},
                "has an open task past its SLA due time or flagged breached",
            ),
            _LIMIT,
            _CURSOR,
        ),
    ),
    Operation(
        "GET",
        f"{API}/dialogs/{{id}}",
        get_dialog,
        "A dialog with its messages and tasks",
        {200: DialogDetail},
        params=(_ID,),
    ),
    Operation(
        "GET",
        f"{API}/tasks",
        list_tasks,
        "Tasks, newest first",
        {200: TaskPage},
        params=(
            Param("status", {"enum": ["waiting", "assigned", "in_progress", "done", "cancelled"]}),
            Param("queue", {"type": "string"}),
            Param("assignee", {"type": "string"}),
            _LIMIT,
            _CURSOR,
        ),
    ),
    Operation(
        "GET",
        f"{API}/tasks/{{id}}",
        get_task,
        "A task with its routing decision",
        {200: TaskOut},
        params=(_ID,),
    ),
    Operation(
        "GET",
        f"{API}/agents",
        list_agents,
        "Agents with presence, capacity and current load",
        {200: AgentPage},
    ),
    Operation(
        "GET",
        f"{API}/events",
        stream_events,
        "Live domain events (message_received, dialog_updated, task_changed) as SSE",
        {200: None},
        content_type="text/event-stream",
    ),
)
OPERATIONS = (*OPERATIONS, *ROUTING_OPERATIONS, *REPLY_OPERATIONS, *TYPING_OPERATIONS)
OPERATIONS = (*OPERATIONS, *REPLAY_OPERATIONS, *NEW_TASK_OPERATIONS, *ACTIVITY_OPERATIONS)
OPERATIONS = (*OPERATIONS, *REPORT_OPERATIONS)


def add_operations(app: web.Application, operations: tuple[Operation, ...]) -> None:
    for op in operations:
        app.router.add_route(op.method, op.path, op.handler)


def public_handlers(operations: tuple[Operation, ...]) -> frozenset[Handler]:
    return frozenset(op.handler for op in operations if op.public)


def api_auth(public: frozenset[Handler]) -> Any:
    """Bearer auth for /api/: the static token, or an agent's own token."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith("/api/") or request.match_info.handler in public:
            return await handler(request)
        if PRINCIPAL_KEY in request:  # a session cookie with its CSRF token (inbox/web_auth.py)
            return await handler(request)
        token = bearer_token(request.headers.get("Authorization"))
        if token is None:
            raise ApiError(401, "unauthorized", "send Authorization: Bearer <token>")
        svc = services(request)
        if svc.api_token and same_secret(token, svc.api_token):
            request[PRINCIPAL_KEY] = Principal("api", "admin")
            return await handler(request)
        async with svc.db.read() as tx:
            agent = await agent_repo.find_agent_by_token_hash(tx, hash_token(token))
        if agent is None:
            raise ApiError(401, "unauthorized", "unknown or revoked token")
        request[PRINCIPAL_KEY] = Principal(agent.login, agent.role)
        return await handler(request)

    return middleware
