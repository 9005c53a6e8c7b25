"""The OpenAPI document matches the routes the application really serves and what they return."""

from __future__ import annotations

import re
from typing import Any

import jsonschema
from aiohttp.test_utils import TestClient

from relaydesk.app import ROUTING
from tests.builders import api_message
from tests.conftest import AUTH


async def document(client: TestClient) -> dict[str, Any]:
    r = await client.get("/api/v1/openapi.json")
    assert r.status == 200
    return dict(await r.json())


def served_routes(client: TestClient) -> set[tuple[str, str]]:
    routes = set()
    for route in client.app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter")
        if path and (path.startswith("/api/") or path == "/healthz") and route.method != "HEAD":
            routes.add((route.method.lower(), path))
    return routes


async def test_every_served_route_is_documented_and_back(client: TestClient) -> None:
    """The set of (method, path) in the document equals the set the router serves."""
    doc = await document(client)
    documented = {(m, p) for p, ops in doc["paths"].items() for m in ops}
    assert documented == served_routes(client)


def validator(doc: dict[str, Any], path: str, method: str, status: int) -> jsonschema.Validator:
    content = doc["paths"][path][method]["responses"][str(status)]["content"]
    schema = {**content["application/json"]["schema"], "components": doc["components"]}
    return jsonschema.Draft202012Validator(schema)


async def test_real_responses_match_documented_schemas(client: TestClient) -> None:
    """Each JSON operation's real response validates against the schema the document gives."""
    doc = await document(client)
    accepted = await client.post("/api/v1/messages", json=api_message("m1"), headers=AUTH)
    await client.app[ROUTING].route_all()
    body = await accepted.json()
    dialog_id = body["dialog_id"]
    task_id = (await (await client.get("/api/v1/tasks", headers=AUTH)).json())["items"][0]["id"]
    calls = {
        ("/healthz", "get"): ("/healthz", 200),
        ("/api/v1/dialogs", "get"): ("/api/v1/dialogs", 200),
        ("/api/v1/dialogs/{id}", "get"): (f"/api/v1/dialogs/{dialog_id}", 200),
        ("/api/v1/tasks", "get"): ("/api/v1/tasks", 200),
        ("/api/v1/tasks/{id}", "get"): (f"/api/v1/tasks/{task_id}", 200),
        ("/api/v1/agents", "get"): ("/api/v1/agents", 200),
        ("/api/v1/rules", "get"): ("/api/v1/rules", 200),
    }
    validator(doc, "/api/v1/messages", "post", 201).validate(body)
    for (path, method), (url, status) in calls.items():
        r = await client.request(method, url, headers=AUTH)
        assert r.status == status
        validator(doc, path, method, status).validate(await r.json())
    writes = [
        ("/api/v1/tasks/{id}", "patch", f"/api/v1/tasks/{task_id}", {"priority": "high"}, 200),
        ("/api/v1/rules/test", "post", "/api/v1/rules/test", {"channel": "api", "text": "x"}, 200),
        ("/api/v1/rules/test", "post", "/api/v1/rules/test", {"channel": "fax"}, 422),
        (
            "/api/v1/agents/{login}/status",
            "put",
            "/api/v1/agents/nobody/status",
            {"status": "online"},
            404,
        ),
    ]
    for path, method, url, payload, status in writes:
        r = await client.request(method, url, json=payload, headers=AUTH)
        assert r.status == status
        validator(doc, path, method, status).validate(await r.json())
    # and an error, against the shared error schema
    r = await client.get("/api/v1/dialogs/999", headers=AUTH)
    validator(doc, "/api/v1/dialogs/{id}", "get", 404).validate(await r.json())


async def test_documented_query_parameters_are_honoured(client: TestClient) -> None:
    """Every documented enum value of a query parameter is accepted by the real handler."""
    doc = await document(client)
    for path, ops in doc["paths"].items():
        if "{" in path or "get" not in ops:
            continue
        for param in ops["get"].get("parameters", []):
            for value in param["schema"].get("enum", []):
                r = await client.get(f"{path}?{param['name']}={value}", headers=AUTH)
                assert r.status == 200, (path, param["name"], value)


def test_operation_ids_are_unique_snake_case() -> None:
    """Operation ids (handler names) are unique and readable for client generators."""
    from inbox.api import OPERATIONS

    names = [op.handler.__name__ for op in OPERATIONS]
    assert len(names) == len(set(names))
    assert all(re.fullmatch(r"[a-z_]+", n) for n in names)
