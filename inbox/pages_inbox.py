"""The agents' pages: the dialog list with filters and unread counts, the dialog page, and
the HTML fragments their scripts fetch again when a live event says something changed
(rendered by the same templates, so escaping stays in one place)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from aiohttp import web

from dialogs.model import ChannelKind
from inbox.api import decode_cursor, encode_cursor
from inbox.api_replies import OUTBOX
from inbox.context import PRINCIPAL_KEY, ROUTING_SERVICES, SERVICES
from inbox.errors import ApiError
from inbox.pages_library import clean_query, filled_canned
from inbox.render import render, render_html
from storage import agents as agent_repo
from storage import inbox_library, inbox_views, queries
from storage.files import blob_path

ATTACHMENTS_ROOT = web.AppKey("attachments_root", Path)
PAGE_SIZE = 50
# Served inline only when a browser cannot run them as a page: everything else downloads.
INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf"})


def _filters(request: web.Request) -> dict[str, str]:
    q = request.query
    status = q.get("status", "open")
    return {
        "status": status if status in ("open", "closed", "any") else "open",
        "channel": q.get("channel", "") if q.get("channel", "") in tuple(ChannelKind) else "",
        "tag": q.get("tag", "").strip()[:100],
        "queue": q.get("queue", "").strip()[:100],
        "assignee": q.get("assignee", "").strip()[:100],
        "overdue": "1" if q.get("overdue") == "1" else "",
        "q": q.get("q", "").strip()[:200],
    }


async def _dialog_rows(request: web.Request, f: dict[str, str]) -> dict[str, Any]:
    svc = request.config_dict[SERVICES]
    me = request[PRINCIPAL_KEY].login
    assignee = me if f["assignee"] == "me" else f["assignee"]
    flt = queries.DialogFilter(
        status=None if f["status"] == "any" else f["status"],
        channel=f["channel"] or None,
        tag=f["tag"] or None,
        assignee=assignee or None,
        q=f["q"] or None,
        queue=f["queue"] or None,
        overdue_at=svc.clock() if f["overdue"] else None,
    )
    after = None
    cursor = decode_cursor(request.query.get("cursor"))
    if cursor is not None:
        try:
            after = (datetime.fromisoformat(cursor[0]), int(cursor[1]))
        except (IndexError, TypeError, ValueError):
            raise ApiError(422, "invalid", "cursor: not a cursor this page made") from None
    async with svc.db.read() as tx:
        items = await queries.list_dialogs(tx, flt, limit=PAGE_SIZE + 1, after=after)
        more = len(items) > PAGE_SIZE
        items = items[:PAGE_SIZE]
        unread = await inbox_views.unread_counts(tx, me, [d["id"] for d in items])
        open_tasks = await inbox_views.open_tasks_of(tx, [d["id"] for d in items])
    next_cursor = None
    if more:
        last = items[-1]
        next_cursor = encode_cursor([last["last_message_at"].replace("Z", "+00:00"), last["id"]])
    for d in items:
        d["unread"] = unread.get(d["id"], 0)
        d["open_tasks"] = open_tasks.get(d["id"], [])
    return {"dialogs": items, "next_cursor": next_cursor}


async def inbox_page(request: web.Request) -> web.Response:
    f = _filters(request)
    rows = await _dialog_rows(request, f)
    svc = request.config_dict[SERVICES]
    async with svc.db.read() as tx:
        logins = [a.login for a in await agent_repo.list_agents(tx)]
        views = await inbox_library.list_views(tx, request[PRINCIPAL_KEY].login)
    queues = sorted(request.config_dict[ROUTING_SERVICES].rulebook.current.queues)
    return render(
        request,
        "inbox.html",
        f=f,
        views=views,
        current_query=clean_query(request.query_string),
        channels=[str(c) for c in ChannelKind],
        queues=queues,
        logins=logins,
        **rows,
    )


async def inbox_rows(request: web.Request) -> web.Response:
    """The list's rows alone, for the live refresh."""
    rows = await _dialog_rows(request, _filters(request))
    return web.Response(
        text=render_html(request, "_dialog_rows.html", f=_filters(request), **rows),
        content_type="text/html",
    )


def _dialog_id(request: web.Request) -> int:
    try:
        return int(request.match_info["id"])
    except ValueError:
        raise web.HTTPNotFound() from None


async def _conversation(request: web.Request, dialog_id: int) -> dict[str, Any]:
    """The dialog, its tasks and the whole history of its contact across channels."""
    svc = request.config_dict[SERVICES]
    async with svc.db.read() as tx:
        dialog = await queries.get_dialog(tx, dialog_id)
        if dialog is None:
            raise web.HTTPNotFound()
        siblings = await inbox_views.contact_dialogs(tx, dialog["contact"]["id"])
        timeline = await inbox_views.contact_timeline(tx, [d["id"] for d in siblings])
        last_in = await inbox_views.last_inbound_at(tx, dialog["contact"]["id"], dialog["channel"])
    if timeline:
        async with svc.db.write() as wtx:
            await inbox_views.mark_read(
                wtx,
                request[PRINCIPAL_KEY].login,
                [d["id"] for d in siblings],
                timeline[-1]["id"],
                svc.clock(),
            )
    window = request.config_dict[OUTBOX].reply_window(dialog["channel"])
    window_until = last_in + window if window is not None and last_in is not None else None
    return {
        "queues": sorted(request.config_dict[ROUTING_SERVICES].rulebook.current.queues),
        "dialog": dialog,
        "siblings": siblings,
        "timeline": timeline,
        "tasks": dialog["tasks"],
        "has_window": window is not None,
        "window_open": window is None or (window_until is not None and window_until > svc.clock()),
        "window_until": window_until.isoformat() if window_until else None,
    }


async def dialog_page(request: web.Request) -> web.Response:
    data = await _conversation(request, _dialog_id(request))
    svc = request.config_dict[SERVICES]
    async with svc.db.read() as tx:
        agent_rows = await agent_repo.list_agents(tx)
    me = request[PRINCIPAL_KEY].login
    my_name = next((a.name for a in agent_rows if a.login == me), "") or me
    canned = await filled_canned(request, data["dialog"], my_name)
    logins = [a.login for a in agent_rows]
    return render(request, "dialog.html", logins=logins, canned=canned, **data)


async def dialog_timeline(request: web.Request) -> web.Response:
    data = await _conversation(request, _dialog_id(request))
    return web.Response(
        text=render_html(request, "_timeline.html", **data), content_type="text/html"
    )


async def dialog_tasks(request: web.Request) -> web.Response:
    async with request.config_dict[SERVICES].db.read() as tx:
        tasks = await queries.list_tasks(tx, dialog_id=_dialog_id(request), limit=1000)
        logins = [a.login for a in await agent_repo.list_agents(tx)]
    return web.Response(
        text=render_html(request, "_tasks.html", logins=logins, tasks=tasks),
        content_type="text/html",
    )


async def attachment(request: web.Request) -> web.StreamResponse:
    svc = request.config_dict[SERVICES]
    try:
        attachment_id = int(request.match_info["id"])
    except ValueError:
        raise web.HTTPNotFound() from None
    async with svc.db.read() as tx:
        row = await inbox_views.find_attachment(tx, attachment_id)
    if row is None:
        raise web.HTTPNotFound()
    root = request.config_dict[ATTACHMENTS_ROOT]
    path = blob_path(root, row.sha256)
    if not path.is_file():
        raise web.HTTPNotFound()
    inline = row.content_type in INLINE_TYPES
    response = web.FileResponse(path)
    response.content_type = row.content_type if inline else "application/octet-stream"
    disposition = "inline" if inline else "attachment"
    response.headers["Content-Disposition"] = (
        f"{disposition}; filename*=UTF-8''{quote(row.filename, safe='')}"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def add_inbox_routes(app: web.Application) -> None:
    app.router.add_get("/inbox", inbox_page)
    app.router.add_get("/inbox/rows", inbox_rows)
    app.router.add_get("/inbox/dialogs/{id}", dialog_page)
    app.router.add_get("/inbox/dialogs/{id}/timeline", dialog_timeline)
    app.router.add_get("/inbox/dialogs/{id}/tasks", dialog_tasks)
    app.router.add_get("/inbox/attachments/{id}", attachment)
