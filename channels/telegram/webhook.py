"""POST /webhooks/telegram: secret checked in constant time, 200 only once the update is handled."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
import structlog
from aiogram import Bot
from aiogram.types import Update
from aiohttp import web
from pydantic import ValidationError

from channels.base import Handler

log = structlog.get_logger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 -- a header name, not a secret


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


def is_valid_secret(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def webhook_handler(bot: Bot, secret: str, handle: Callable[[Update], Awaitable[Any]]) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        if not is_valid_secret(request.headers.get(SECRET_HEADER), secret):
            log.warning("telegram_webhook_refused", reason="secret")
            return _error(401, "unauthorized", f"wrong or missing {SECRET_HEADER}")
        body = await request.read()
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            return _error(400, "malformed_json", "the body is not JSON")
        if not isinstance(data, dict):
            return _error(400, "invalid_update", "an update is a JSON object")
        try:
            update = Update.model_validate(data, context={"bot": bot})
        except ValidationError as exc:
            return _error(
                400, "invalid_update", f"not a Telegram update: {exc.error_count()} errors"
            )
        try:
            await handle(update)
        except Exception as exc:  # not stored: Telegram redelivers on a non-2xx answer
            log.exception(
                "telegram_update_failed", update_id=update.update_id, error=type(exc).__name__
            )
            return _error(503, "unavailable", "the update could not be stored; retry later")
        return web.json_response({"ok": True})

    return handler
