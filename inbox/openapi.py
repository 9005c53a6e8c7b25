"""The REST API's OpenAPI 3.1 document, built from the same table that registers the routes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from pydantic import BaseModel

from inbox.schemas import ErrorOut

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Param:
    name: str
    schema: dict[str, Any]
    description: str = ""
    where: str = "query"


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    handler: Handler
    summary: str
    responses: dict[int, type[BaseModel] | None]
    body: type[BaseModel] | None = None
    params: Sequence[Param] = field(default_factory=tuple)
    public: bool = False
    content_type: str = "application/json"


def build_document(operations: Sequence[Operation], *, version: str) -> dict[str, Any]:
    components: dict[str, Any] = {}

    def ref(model: type[BaseModel]) -> dict[str, Any]:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(schema.pop("$defs", {}))
        components[model.__name__] = schema
        return {"$ref": f"#/components/schemas/{model.__name__}"}

    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        spec: dict[str, Any] = {
            "summary": op.summary,
            "operationId": op.handler.__name__,
            "responses": {},
        }
        params = [
            {
                "name": p.name,
                "in": p.where,
                "required": p.where == "path",
                "schema": p.schema,
                "description": p.description,
            }
            for p in op.params
        ]
        if params:
            spec["parameters"] = params
        if op.body is not None:
            spec["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": ref(op.body)}},
            }
        for status, model in op.responses.items():
            response: dict[str, Any] = {"description": "OK" if status < 400 else "error"}
            if model is not None:
                response["content"] = {op.content_type: {"schema": ref(model)}}
            elif op.content_type != "application/json":
                response["content"] = {op.content_type: {}}
            spec["responses"][str(status)] = response
        for status in (400, 401, 404, 413, 422) if not op.public else ():
            spec["responses"].setdefault(
                str(status),
                {
                    "description": "error",
                    "content": {"application/json": {"schema": ref(ErrorOut)}},
                },
            )
        if not op.public:
            spec["security"] = [{"bearer": []}]
        paths.setdefault(op.path, {})[op.method.lower()] = spec
    return {
        "openapi": "3.1.0",
        "info": {"title": "Relaydesk API", "version": version},
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
