"""An agent's own account page: presence, and their API token (shown once when made)."""

from __future__ import annotations

import structlog
from aiohttp import web

from inbox.auth import hash_token, new_token
from inbox.context import PRINCIPAL_KEY, SERVICES
from inbox.render import render
from storage import agents as agent_repo
from storage import inbox_views

log = structlog.get_logger(__name__)


async def account_page(request: web.Request) -> web.Response:
    return await _render(request, new=None)


async def regenerate_token(request: web.Request) -> web.Response:
    """A new token replaces the old one at once: scripts using the old one get 401."""
    login = request[PRINCIPAL_KEY].login
    token = new_token()
    async with request.config_dict[SERVICES].db.write() as tx:
        await inbox_views.set_token_hash(tx, login, hash_token(token))
    log.info("api_token_regenerated", login=login)
    return await _render(request, new=token)


async def _render(request: web.Request, *, new: str | None) -> web.Response:
    async with request.config_dict[SERVICES].db.read() as tx:
        agent = await agent_repo.find_agent_by_login(tx, request[PRINCIPAL_KEY].login)
    if agent is None:
        raise web.HTTPNotFound()
    return render(
        request, "account.html", agent=agent, new_token=new, has_token=bool(agent.token_hash)
    )


def add_account_routes(app: web.Application) -> None:
    app.router.add_get("/inbox/account", account_page)
    app.router.add_post("/inbox/account/token", regenerate_token)
