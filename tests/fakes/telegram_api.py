"""A local Telegram Bot API server on a loopback port, speaking the documented wire format.

Real aiogram is pointed at it with `TelegramAPIServer.from_base(fake.base_url)`. Tests queue
updates for getUpdates, register files for getFile, script failures per method (429 with
`parameters.retry_after`, 5xx, slow answers) and read back every call in `fake.calls`.
Connection refused is a closed fake (`await fake.close()`) or `refused_url()`.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

TOKEN = "123456789:AAHfakeTokenForTestsOnly_abcdefghijk"
BOT_ID = 123456789
BOT_USERNAME = "relaydesk_test_bot"


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)


@dataclass
class Failure:
    """One scripted answer instead of the normal one (delay > 0 alone: a slow normal answer)."""

    status: int = 0
    description: str = ""
    retry_after: int | None = None
    migrate_to_chat_id: int | None = None
    delay: float = 0.0


def too_many_requests(retry_after: int) -> Failure:
    return Failure(429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after)


def server_error() -> Failure:
    return Failure(500, "Internal Server Error")


def slow(seconds: float) -> Failure:
    return Failure(delay=seconds)


def refused_url() -> str:
    """A loopback URL nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


class FakeTelegram:
    def __init__(self, token: str = TOKEN, *, username: str = BOT_USERNAME) -> None:
        self.token = token
        self.bot_user = {
            "id": int(token.split(":")[0]),
            "is_bot": True,
            "first_name": "Relaydesk Test",
            "username": username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self.calls: list[Call] = []
        self.pending: list[dict[str, Any]] = []  # updates not yet confirmed by an offset
        self.files: dict[str, tuple[str, bytes]] = {}  # file_id -> (file_path, data)
        self.blocked_chats: set[int] = set()
        self.unknown_chats: set[int] = set()
        self.webhook: dict[str, Any] | None = None
        self._failures: dict[str, deque[Failure]] = defaultdict(deque)
        self._new_updates = asyncio.Event()
        self._next_message_id = 1000
        self._closing = False
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    # -- set-up ---------------------------------------------------------------------------
    async def start(self) -> FakeTelegram:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("POST", "/bot{token}/{method}", self._api)
        app.router.add_route("GET", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    async def close(self) -> None:
        self._closing = True
        self._new_updates.set()  # long polls answer at once instead of holding the shutdown
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def queue_update(self, update: dict[str, Any]) -> None:
        self.pending.append(update)
        self._new_updates.set()

    def add_file(self, file_id: str, data: bytes, file_path: str | None = None) -> None:
        self.files[file_id] = (file_path or f"documents/{file_id}.bin", data)

    def fail(self, method: str, *failures: Failure) -> None:
        """The next calls of `method` get these answers, in order."""
        self._failures[method].extend(failures)

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    # -- the API --------------------------------------------------------------------------
    async def _api(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        params, files = await _read_params(request)
        self.calls.append(Call(method, params, files))
        queued = self._failures.get(method)
        if queued:
            failure = queued.popleft()
            if failure.delay:
                await asyncio.sleep(failure.delay)
            if failure.status:
                return _error(
                    failure.status,
                    failure.description,
                    retry_after=failure.retry_after,
                    migrate_to_chat_id=failure.migrate_to_chat_id,
                )
        handler = getattr(self, f"_m_{method.lower()}", None)
        if handler is None:
            return _error(404, "Not Found: method not found")
        result = await handler(params, files)
        if isinstance(result, web.Response):
            return result
        return web.json_response({"ok": True, "result": result})

    async def _m_getme(self, params: dict[str, Any], files: Any) -> Any:
        return self.bot_user

    async def _m_getupdates(self, params: dict[str, Any], files: Any) -> Any:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        timeout = float(params.get("timeout") or 0)
        if offset:
            self.pending = [u for u in self.pending if u["update_id"] >= offset]
        deadline = time.monotonic() + timeout
        while not self.pending and not self._closing and time.monotonic() < deadline:
            self._new_updates.clear()
            try:
                await asyncio.wait_for(self._new_updates.wait(), deadline - time.monotonic())
            except TimeoutError:
                break
        return self.pending[:limit]

    async def _m_setwebhook(self, params: dict[str, Any], files: Any) -> Any:
        self.webhook = params
        return True

    async def _m_deletewebhook(self, params: dict[str, Any], files: Any) -> Any:
        self.webhook = None
        return True

    async def _m_answercallbackquery(self, params: dict[str, Any], files: Any) -> Any:
        return True

    async def _m_getfile(self, params: dict[str, Any], files: Any) -> Any:
        file_id = params.get("file_id", "")
        if file_id not in self.files:
            return _error(400, "Bad Request: invalid file_id")
        path, data = self.files[file_id]
        return {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_size": len(data),
            "file_path": path,
        }

    async def _m_sendmessage(self, params: dict[str, Any], files: Any) -> Any:
        text = params.get("text", "")
        if not text:
            return _error(400, "Bad Request: message text is empty")
        if len(text.encode("utf-16-le")) // 2 > 4096:
            return _error(400, "Bad Request: message is too long")
        return self._sent(params, {"text": text})

    async def _m_sendphoto(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        photo = {"file_id": f"sent-photo-{self._next_message_id}", "file_unique_id": "p"}
        extra = {"photo": [{**photo, "width": 100, "height": 100}]}
        return self._sent(params, {**extra, **_caption(params)})

    async def _m_senddocument(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        name = files["document"][0] if "document" in files else "document"
        doc = {"file_id": f"sent-doc-{self._next_message_id}", "file_unique_id": "d"}
        return self._sent(params, {"document": {**doc, "file_name": name}, **_caption(params)})

    def _sent(self, params: dict[str, Any], content: dict[str, Any]) -> Any:
        chat_id = int(params["chat_id"])
        if chat_id in self.blocked_chats:
            return _error(403, "Forbidden: bot was blocked by the user")
        if chat_id in self.unknown_chats:
            return _error(400, "Bad Request: chat not found")
        self._next_message_id += 1
        message: dict[str, Any] = {
            "message_id": self._next_message_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"},
            "from": self.bot_user,
            **content,
        }
        return message

    async def _file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        path = request.match_info["path"]
        for stored_path, data in self.files.values():
            if stored_path == path:
                return web.Response(body=data, content_type="application/octet-stream")
        return web.Response(status=404)


def _caption(params: dict[str, Any]) -> dict[str, Any]:
    return {"caption": params["caption"]} if params.get("caption") else {}


def _error(
    status: int,
    description: str,
    *,
    retry_after: int | None = None,
    migrate_to_chat_id: int | None = None,
) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    parameters = {
        k: v
        for k, v in (("retry_after", retry_after), ("migrate_to_chat_id", migrate_to_chat_id))
        if v is not None
    }
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=status)


_JSON_FIELDS = frozenset(
    {"allowed_updates", "reply_parameters", "reply_markup", "entities", "caption_entities"}
)


async def _read_params(request: web.Request) -> tuple[dict[str, Any], dict[str, tuple[str, bytes]]]:
    """Form fields (aiogram sends multipart; JSON-valued fields as JSON text) or a JSON body."""
    if request.content_type == "application/json":
        body = await request.json()
        return dict(body), {}
    params: dict[str, Any] = {}
    files: dict[str, tuple[str, bytes]] = {}
    form = await request.post()
    for key, value in form.items():
        if isinstance(value, web.FileField):
            files[key] = (value.filename, value.file.read())
            continue
        params[key] = json.loads(str(value)) if key in _JSON_FIELDS else str(value)
    for key, value in list(params.items()):  # aiogram names uploads "attach://<part name>"
        if isinstance(value, str) and value.startswith("attach://"):
            part = value.removeprefix("attach://")
            if part in files:
                files[key] = files.pop(part)
    return params, files
