"""Request bodies: JSON parsed and validated into a model, or a JSON 400/422 saying why."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web
from pydantic import BaseModel, ValidationError

from inbox.errors import ApiError, describe_validation_error


def parse_body(raw: bytes, model: type[BaseModel]) -> Any:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, "malformed_json", f"request body is not valid JSON: {exc}") from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ApiError(422, "invalid", describe_validation_error(exc)) from None


async def read_json(request: web.Request, model: type[BaseModel]) -> Any:
    """The body as `model`; past the application's client_max_size aiohttp raises 413."""
    return parse_body(await request.read(), model)
