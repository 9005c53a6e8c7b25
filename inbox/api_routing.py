"""REST endpoints for assignment and rules: PATCH tasks, agent presence, GET/PUT/test rules.

GET /api/v1/rules answers JSON ``{"text", "version", "file"}`` (the YAML in force, as text);
PUT takes the same ``{"text": ...}`` or the raw YAML with ``Content-Type: text/yaml`` (or
application/yaml), so ``curl --data-binary @rules.yaml`` works. An invalid file is a 422
naming every issue's line; the rules in force stay.
"""

from __future__ import annotations

from aiohttp import web

from dialogs.dry_run import dry_run
from dialogs.rules_file import save_rules
from dialogs.tasks import Actor, EditRefused, TaskEdit
from inbox.bodies import parse_body, read_json
from inbox.context import PRINCIPAL_KEY, ROUTING_SERVICES, SERVICES, RoutingServices
from inbox.errors import ApiError
from inbox.openapi import Operation, Param
from inbox.schemas import ErrorOut, TaskOut
from inbox.schemas_routing import (
    AgentStatusIn,
    AgentStatusOut,
    RulesErrorOut,
    RulesIn,
    RulesOut,
    RulesSaved,
    RulesTestIn,
    RulesTestOut,
    TaskPatch,
)
from router import RulesError, RuleSet, load_rules
from storage import queries

API = "/api/v1"
_YAML_TYPES = ("text/yaml", "application/yaml", "application/x-yaml", "text/x-yaml")
_STATUS_OF = {"not_found": 404, "forbidden": 403, "invalid": 422, "conflict": 409}


def routing(request: web.Request) -> RoutingServices:
    return request.config_dict[ROUTING_SERVICES]


def actor(request: web.Request) -> Actor:
    principal = request[PRINCIPAL_KEY]
    return Actor(principal.login, principal.role)


def refused(exc: EditRefused) -> ApiError:
    return ApiError(_STATUS_OF[exc.kind], exc.code, exc.message)


def rules_error(exc: RulesError) -> web.Response:
    issues = [{"line": i.line, "path": i.path, "message": i.message} for i in exc.errors]
    first = exc.errors[0] if exc.errors else None
    body = {
        "error": {
            "code": "invalid_rules",
            "message": str(first) if first else str(exc),
            "issues": issues,
        }
    }
    return web.json_response(body, status=422)


async def patch_task(request: web.Request) -> web.Response:
    try:
        task_id = int(request.match_info["id"])
    except ValueError:
        raise ApiError(404, "not_found", "no such task") from None
    body: TaskPatch = await read_json(request, TaskPatch)
    if not body.model_fields_set:
        raise ApiError(422, "invalid", "give at least one of status, assignee, priority, on_hold")
    edit = TaskEdit(
        status=body.status,
        assignee=body.assignee,
        assignee_given="assignee" in body.model_fields_set,
        priority=body.priority,
        on_hold=body.on_hold,
    )
    try:
        await routing(request).editor.edit_task(task_id, edit, actor(request))
    except EditRefused as exc:
        raise refused(exc) from None
    async with request.config_dict[SERVICES].db.read() as tx:
        task = await queries.get_task(tx, task_id)
    return web.json_response(task)


async def put_agent_status(request: web.Request) -> web.Response:
    body: AgentStatusIn = await read_json(request, AgentStatusIn)
    login = request.match_info["login"]
    try:
        await routing(request).editor.set_agent_status(login, body.status, actor(request))
    except EditRefused as exc:
        raise refused(exc) from None
    return web.json_response({"login": login, "status": body.status})


async def get_rules(request: web.Request) -> web.Response:
    rulebook = routing(request).rulebook
    file = str(rulebook.path) if rulebook.path else None
    return web.json_response(
        {"text": rulebook.text, "version": rulebook.current.version, "file": file}
    )


async def put_rules(request: web.Request) -> web.Response:
    if not actor(request).is_admin:
        raise ApiError(403, "forbidden", "only an admin may change the rules")
    raw = await request.read()
    if request.content_type in _YAML_TYPES:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ApiError(400, "bad_request", "rules text is not UTF-8") from None
    else:
        text = parse_body(raw, RulesIn).text
    svc = routing(request)
    try:
        ruleset = save_rules(svc.rulebook, text)
    except RulesError as exc:
        return rules_error(exc)
    except OSError as exc:
        raise ApiError(503, "unavailable", f"cannot write the rules file: {exc.strerror}") from None
    svc.dispatcher.wake()  # capacities or teams may have changed
    warnings = [{"line": w.line, "path": w.path, "message": w.message} for w in ruleset.warnings]
    return web.json_response(
        {"version": ruleset.version, "written": svc.rulebook.path is not None, "warnings": warnings}
    )


async def post_rules_test(request: web.Request) -> web.Response:
    body: RulesTestIn = await read_json(request, RulesTestIn)
    svc = routing(request)
    ruleset: RuleSet = svc.rulebook.current
    if body.rules is not None:
        try:
            ruleset = load_rules(body.rules, "draft.yaml")
        except RulesError as exc:
            return rules_error(exc)
    core = request.config_dict[SERVICES]
    result = await dry_run(
        core.db,
        ruleset,
        channel=body.channel,
        text=body.text,
        tags=body.tags,
        contact_tags=body.contact_tags,
        now=core.clock(),
    )
    return web.json_response(result)


_ID = Param("id", {"type": "integer"}, where="path")
_LOGIN = Param("login", {"type": "string"}, where="path")

ROUTING_OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "PATCH",
        f"{API}/tasks/{{id}}",
        patch_task,
        "Change a task's status, assignee, priority or hold; closing frees capacity",
        {200: TaskOut, 403: ErrorOut, 409: ErrorOut},
        body=TaskPatch,
        params=(_ID,),
    ),
    Operation(
        "PUT",
        f"{API}/agents/{{login}}/status",
        put_agent_status,
        "Set an agent's presence (their own, or anyone's as admin)",
        {200: AgentStatusOut, 403: ErrorOut},
        body=AgentStatusIn,
        params=(_LOGIN,),
    ),
    Operation(
        "GET", f"{API}/rules", get_rules, "The rules in force, as YAML text", {200: RulesOut}
    ),
    Operation(
        "PUT",
        f"{API}/rules",
        put_rules,
        "Validate and put new rules in force (admin); also accepts raw text/yaml",
        {200: RulesSaved, 403: ErrorOut, 422: RulesErrorOut, 503: ErrorOut},
        body=RulesIn,
    ),
    Operation(
        "POST",
        f"{API}/rules/test",
        post_rules_test,
        "Dry-run a message under the rules in force or a draft; who would take it now",
        {200: RulesTestOut, 422: RulesErrorOut},
        body=RulesTestIn,
    ),
)
