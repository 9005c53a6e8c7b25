"""Admin pages: the rules editor (its script calls GET/PUT /api/v1/rules, POST
/api/v1/rules/test and /api/v1/rules/replay) and the agents, teams and queues overview."""

from __future__ import annotations

from aiohttp import web

from inbox.api import agent_items
from inbox.context import ROUTING_SERVICES, SERVICES
from inbox.render import render
from storage import inbox_views


async def admin_home(request: web.Request) -> web.Response:
    raise web.HTTPFound("/admin/rules")


async def rules_page(request: web.Request) -> web.Response:
    rulebook = request.config_dict[ROUTING_SERVICES].rulebook
    return render(
        request,
        "admin_rules.html",
        rules_text=rulebook.text,
        rules_file=str(rulebook.path) if rulebook.path else "",
        rules_version=rulebook.current.version,
        channels=["api", "email", "telegram", "whatsapp", "widget"],
    )


async def agents_page(request: web.Request) -> web.Response:
    svc = request.config_dict[SERVICES]
    ruleset = request.config_dict[ROUTING_SERVICES].rulebook.current
    async with svc.db.read() as tx:
        agents = await agent_items(tx, svc.profiles)
        stats = await inbox_views.queue_stats(tx)
    queues = []
    for name in sorted(set(ruleset.queues) | set(stats)):
        spec = ruleset.queues.get(name)
        entry = stats.get(name, {"waiting": 0, "open": 0, "oldest_waiting": None})
        queues.append({"name": name, "team": spec.team if spec else "", **entry})
    teams = {name: sorted(members) for name, members in ruleset.teams.items()}
    return render(request, "admin_agents.html", agents=agents, queues=queues, teams=teams)


def add_admin_routes(app: web.Application) -> None:
    app.router.add_get("/admin", admin_home)
    app.router.add_get("/admin/rules", rules_page)
    app.router.add_get("/admin/agents", agents_page)
