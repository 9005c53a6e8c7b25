"""Saved views (each agent's named inbox filters) and canned replies (the team's, kept by
admins, offered on the dialog page with their variables filled in)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

from aiohttp import web

from dialogs.canned import VARIABLES, fill_canned
from inbox.context import PRINCIPAL_KEY, SERVICES
from inbox.render import render
from storage import inbox_library

FILTER_KEYS = ("q", "status", "channel", "queue", "assignee", "tag", "overdue")


def clean_query(raw: str) -> str:
    """Only the list's filters, non-empty, in a fixed order (no cursor, nothing else)."""
    pairs = dict(parse_qsl(raw.lstrip("?"), keep_blank_values=False))
    return urlencode([(k, pairs[k][:200]) for k in FILTER_KEYS if pairs.get(k)])


async def save_view(request: web.Request) -> web.Response:
    form = await request.post()
    name = str(form.get("name", "")).strip()[:100]
    query = clean_query(str(form.get("query", "")))
    if name:
        svc = request.config_dict[SERVICES]
        async with svc.db.write() as tx:
            await inbox_library.save_view(
                tx, request[PRINCIPAL_KEY].login, name, query, svc.clock()
            )
    raise web.HTTPFound("/inbox?" + query)


async def delete_view(request: web.Request) -> web.Response:
    try:
        view_id = int(request.match_info["id"])
    except ValueError:
        raise web.HTTPNotFound() from None
    async with request.config_dict[SERVICES].db.write() as tx:
        await inbox_library.delete_view(tx, request[PRINCIPAL_KEY].login, view_id)
    raise web.HTTPFound("/inbox")


async def canned_page(request: web.Request) -> web.Response:
    async with request.config_dict[SERVICES].db.read() as tx:
        items = await inbox_library.list_canned(tx)
    return render(
        request,
        "admin_canned.html",
        items=items,
        variables=VARIABLES,
        error=request.query.get("error") == "exists",
    )


async def add_canned(request: web.Request) -> web.Response:
    form = await request.post()
    title = str(form.get("title", "")).strip()[:200]
    body = str(form.get("body", "")).strip()[:10000]
    if not title or not body:
        raise web.HTTPFound("/admin/canned")
    svc = request.config_dict[SERVICES]
    async with svc.db.write() as tx:
        added = await inbox_library.add_canned(
            tx, title, body, request[PRINCIPAL_KEY].login, svc.clock()
        )
    raise web.HTTPFound("/admin/canned" if added else "/admin/canned?error=exists")


async def delete_canned(request: web.Request) -> web.Response:
    try:
        canned_id = int(request.match_info["id"])
    except ValueError:
        raise web.HTTPNotFound() from None
    async with request.config_dict[SERVICES].db.write() as tx:
        await inbox_library.delete_canned(tx, canned_id)
    raise web.HTTPFound("/admin/canned")


async def filled_canned(
    request: web.Request, dialog: dict[str, Any], agent_name: str
) -> list[dict[str, str]]:
    """The canned replies with this dialog's and this agent's values filled in."""
    contact = dialog["contact"]
    values = {
        "contact.name": contact.get("name") or "",
        "contact.email": contact.get("email") or "",
        "contact.phone": contact.get("phone") or "",
        "agent.name": agent_name,
        "agent.login": request[PRINCIPAL_KEY].login,
        "dialog.id": str(dialog["id"]),
        "dialog.channel": dialog["channel"],
        "dialog.subject": dialog.get("subject") or "",
    }
    async with request.config_dict[SERVICES].db.read() as tx:
        items = await inbox_library.list_canned(tx)
    return [{"title": c.title, "text": fill_canned(c.body, values)} for c in items]


def add_library_routes(app: web.Application) -> None:
    app.router.add_post("/inbox/views", save_view)
    app.router.add_post("/inbox/views/{id}/delete", delete_view)
    app.router.add_get("/admin/canned", canned_page)
    app.router.add_post("/admin/canned", add_canned)
    app.router.add_post("/admin/canned/{id}/delete", delete_canned)
