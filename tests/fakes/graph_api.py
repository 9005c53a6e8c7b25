"""A local WhatsApp Graph API server speaking the Cloud API's JSON, with scripted failures.

Routes: POST /{version}/{phone-id}/messages → {"messages": [{"id": "wamid..."}]},
POST /{version}/{phone-id}/media → {"id": ...}, GET /{version}/{media-id} → {"url": ...},
GET /files/{media-id} → the bytes. `fail_next(...)` queues failures for the messages
endpoint: an HTTP status with a Graph error code, or a hang (a timeout at the client).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from channels.whatsapp.signature import build_signature

TOKEN = "test-graph-token"
PHONE_ID = "1234567890"
VERSION = "v21.0"


def sign_webhook(body: bytes, secret: str) -> str:
    """The X-Hub-Signature-256 header Meta would send with `body`."""
    return build_signature(body, secret)


@dataclass
class Failure:
    status: int = 500
    code: int | None = None
    message: str = "failure"
    hang: float = 0.0  # seconds to stall before answering (longer than the client timeout)


@dataclass
class GraphApiFake:
    media: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    delivered: list[dict[str, Any]] = field(default_factory=list)  # accepted message sends
    attempts: int = 0
    uploads: list[tuple[str, bytes]] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    url: str = ""
    # Runs with the new wamid before the send is answered: the sender is still waiting.
    before_answer: Callable[[str], Awaitable[None]] | None = None
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _changed: asyncio.Condition | None = None
    _resumed: asyncio.Event | None = None  # cleared while every send stalls

    def fail_next(self, *failures: Failure) -> None:
        self.failures.extend(failures)

    def stall(self) -> None:
        """Hang every send until `resume()`; a send that stalled is then refused, never accepted."""
        assert self._resumed is not None
        self._resumed.clear()

    def resume(self) -> None:
        assert self._resumed is not None
        self._resumed.set()

    async def wait_delivered(self, count: int, within: float = 30) -> None:
        """Return once `count` sends have been accepted (woken by each one, no polling)."""
        assert self._changed is not None
        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(lambda: len(self.delivered) >= count)

    def app(self) -> web.Application:
        app = web.Application(client_max_size=200 * 1024 * 1024)
        app.router.add_post("/{version}/{phone}/messages", self._messages)
        app.router.add_post("/{version}/{phone}/media", self._upload)
        app.router.add_get("/files/{media_id}", self._file)
        app.router.add_get("/{version}/{media_id}", self._media_info)
        return app

    def _authorised(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {TOKEN}"

    @staticmethod
    def _error(status: int, code: int, message: str) -> web.Response:
        body = {
            "error": {
                "message": f"({code}) {message}",
                "type": "OAuthException",
                "code": code,
                "error_data": {"messaging_product": "whatsapp", "details": message},
                "fbtrace_id": "AbCdEf",
            }
        }
        return web.json_response(body, status=status)

    async def _messages(self, request: web.Request) -> web.Response:
        self.attempts += 1
        if not self._authorised(request):
            return self._error(401, 190, "Invalid OAuth access token")
        payload = await request.json()
        assert self._resumed is not None
        if not self._resumed.is_set():
            await self._resumed.wait()  # its sender has long given up, or died
            return web.Response(status=503, text="upstream stalled")
        if self.failures:
            failure = self.failures.pop(0)
            if failure.hang:
                await asyncio.sleep(failure.hang)  # the fake stalls like a hung upstream
            if failure.code is None:
                return web.Response(status=failure.status, text="upstream failure")
            return self._error(failure.status, failure.code, failure.message)
        wamid = f"wamid.FAKE{next(self._ids):06d}"
        self.delivered.append({"id": wamid, **payload})
        if self.before_answer is not None:
            await self.before_answer(wamid)
        if self._changed is not None:
            async with self._changed:
                self._changed.notify_all()
        return web.json_response(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": payload.get("to"), "wa_id": payload.get("to")}],
                "messages": [{"id": wamid}],
            }
        )

    async def _upload(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._error(401, 190, "Invalid OAuth access token")
        form = await request.post()
        file = form["file"]
        assert isinstance(file, web.FileField)
        data = file.file.read()
        media_id = f"up{next(self._ids)}"
        self.uploads.append((str(form["type"]), data))
        self.media[media_id] = (data, str(form["type"]))
        return web.json_response({"id": media_id})

    async def _media_info(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._error(401, 190, "Invalid OAuth access token")
        media_id = request.match_info["media_id"]
        if media_id not in self.media:
            return self._error(400, 100, "Unsupported get request")
        data, mime = self.media[media_id]
        return web.json_response(
            {
                "messaging_product": "whatsapp",
                "url": f"{self.url}/files/{media_id}",
                "mime_type": mime,
                "sha256": "0" * 64,
                "file_size": str(len(data)),
                "id": media_id,
            }
        )

    async def _file(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.Response(status=401)
        data, mime = self.media[request.match_info["media_id"]]
        return web.Response(body=data, content_type=mime)


@asynccontextmanager
async def running_graph_api(host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[GraphApiFake]:
    """The fake on `port` (a free one by default); `fake.url` is what WHATSAPP_API_BASE should
    be. Until it starts, and after it stops, that port refuses connections."""
    fake = GraphApiFake()
    fake._changed = asyncio.Condition()
    fake._resumed = asyncio.Event()
    fake._resumed.set()
    runner = web.AppRunner(fake.app(), shutdown_timeout=0.5)  # drop hung requests
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    fake.url = f"http://{host}:{runner.addresses[0][1]}"
    try:
        yield fake
    finally:
        await runner.cleanup()


APP_SECRET = "test-app-secret"
VERIFY_TOKEN = "test-verify-token"


def whatsapp_env(fake: GraphApiFake) -> dict[str, str]:
    """WHATSAPP_* variables pointing the channel at `fake`."""
    return {
        "WHATSAPP_ACCESS_TOKEN": TOKEN,
        "WHATSAPP_PHONE_NUMBER_ID": PHONE_ID,
        "WHATSAPP_APP_SECRET": APP_SECRET,
        "WHATSAPP_VERIFY_TOKEN": VERIFY_TOKEN,
        "WHATSAPP_API_BASE": fake.url,
        "WHATSAPP_API_VERSION": VERSION,
    }
