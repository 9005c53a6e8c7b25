"""Admins manage accounts from the agents page: add an agent (the password is shown once when
generated) and change roles. There is always at least one admin left."""

from __future__ import annotations

import asyncio
import re

import structlog
from aiohttp import web

from inbox.auth import hash_password, new_password
from inbox.context import PRINCIPAL_KEY, SERVICES
from inbox.render import render
from storage import agents as agent_repo
from storage import inbox_views

log = structlog.get_logger(__name__)

LOGIN = re.compile(r"[A-Za-z0-9._-]{1,100}")
ROLES = ("agent", "admin")


async def add_account(request: web.Request) -> web.Response:
    form = await request.post()
    login = str(form.get("login", "")).strip()
    name = str(form.get("name", "")).strip()[:200]
    role = str(form.get("role", "agent"))
    password = str(form.get("password", ""))
    if not LOGIN.fullmatch(login) or role not in ROLES:
        return await _result(request, "account_invalid", status=422)
    generated = not password
    password = password or new_password()
    password_hash = await asyncio.to_thread(hash_password, password)
    svc = request.config_dict[SERVICES]
    async with svc.db.write() as tx:
        if await agent_repo.find_agent_by_login(tx, login) is not None:
            return await _result(request, "account_exists", status=409)
        await agent_repo.create_agent(
            tx,
            login=login,
            name=name or login,
            role=role,
            password_hash=password_hash,
            token_hash=None,
            now=svc.clock(),
        )
    log.info("agent_created", login=login, role=role, by=request[PRINCIPAL_KEY].login)
    return await _result(
        request, "account_created", created=login, password=password if generated else None
    )


async def change_role(request: web.Request) -> web.Response:
    login = request.match_info["login"]
    role = str((await request.post()).get("role", ""))
    if role not in ROLES:
        return await _result(request, "account_invalid", status=422)
    async with request.config_dict[SERVICES].db.write() as tx:
        agent = await agent_repo.find_agent_by_login(tx, login)
        if agent is None:
            raise web.HTTPNotFound()
        if agent.role == "admin" and role != "admin" and await inbox_views.count_admins(tx) <= 1:
            return await _result(request, "last_admin", status=409)
        await inbox_views.set_role(tx, login, role)
    log.info("agent_role_changed", login=login, role=role, by=request[PRINCIPAL_KEY].login)
    raise web.HTTPFound("/admin/agents")


async def _result(
    request: web.Request,
    key: str,
    *,
    status: int = 200,
    created: str | None = None,
    password: str | None = None,
) -> web.Response:
    return render(
        request,
        "admin_account_result.html",
        status=status,
        message_key=key,
        created=created,
        password=password,
    )


def add_accounts_routes(app: web.Application) -> None:
    app.router.add_post("/admin/agents", add_account)
    app.router.add_post("/admin/agents/{login}/role", change_role)
