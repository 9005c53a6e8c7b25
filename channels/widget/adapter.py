"""The chat widget channel: the script, its socket, uploads and files; `send` for replies.

The widget has no remote provider: a visitor reads its conversation from our own store.
`send` is the outbox's hand-off: it names the reply, and once the outbox records it as
sent, the reply is visible to the visitor and is pushed from storage to the visitor's
sockets (in whichever process holds them) when that event arrives. A reply pushed to a
widget becomes `delivered`; shown while the chat is open and in view, `read`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from importlib import resources

import structlog
from aiohttp import web

from channels.base import Handler, Ingest, OutboundMessage, SendReceipt, StatusSink
from channels.widget import upload
from channels.widget.config import WidgetConfig
from channels.widget.connection import serve_socket
from channels.widget.hub import EventSource, Hub
from channels.widget.identity import IdentityRefused, is_origin_allowed, resolve_visitor
from channels.widget.socket import SocketDeps, Typing, build_inbound, reply_external_id
from channels.widget.store import WidgetStore

log = structlog.get_logger(__name__)

_SITE = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def _error(status: int, code: str, message: str, **headers: str) -> web.Response:
    return web.json_response(
        {"error": {"code": code, "message": message}}, status=status, headers=headers
    )


class WidgetChannel:
    kind = "widget"

    def __init__(
        self,
        config: WidgetConfig,
        *,
        ingest: Ingest,
        store: WidgetStore,
        events: EventSource,
        typing: Typing | None = None,
        status_update: StatusSink | None = None,
    ) -> None:
        self.config = config
        self._ingest = ingest
        self._store = store
        self.hub = Hub(store, events)
        self._deps = SocketDeps(
            config,
            ingest=ingest,
            store=store,
            hub=self.hub,
            typing=typing,
            status_update=status_update,
        )
        script = resources.files("channels.widget").joinpath("static/widget.js").read_bytes()
        self._script = script
        self._script_etag = '"' + hashlib.sha256(script).hexdigest()[:20] + '"'

    def routes(self) -> Sequence[tuple[str, str, Handler]]:
        return (
            ("GET", "/widget.js", self.script),
            ("GET", "/widget/ws", self.socket),
            ("POST", "/widget/upload", self.upload),
            ("OPTIONS", "/widget/upload", self.preflight),
            ("GET", r"/widget/files/{id:\d{1,18}}", self.file),
        )

    async def start(self) -> None:
        self.hub.start()

    async def stop(self) -> None:
        await self.hub.stop()

    async def close_connections(self) -> None:
        await self.hub.disconnect_all()

    async def send(self, message: OutboundMessage) -> SendReceipt:
        return SendReceipt(external_id=reply_external_id(message.message_id))

    async def script(self, request: web.Request) -> web.StreamResponse:
        headers = {
            "Cache-Control": "public, max-age=300",
            "ETag": self._script_etag,
            "X-Content-Type-Options": "nosniff",
        }
        if request.headers.get("If-None-Match") == self._script_etag:
            return web.Response(status=304, headers=headers)
        return web.Response(
            body=self._script,
            content_type="text/javascript",
            charset="utf-8",
            headers=headers,
        )

    def _allowed(self, request: web.Request) -> bool:
        return is_origin_allowed(request.headers.get("Origin"), self.config.origins, request.host)

    async def socket(self, request: web.Request) -> web.StreamResponse:
        origin = request.headers.get("Origin")
        if not self._allowed(request):
            log.info("widget_origin_refused", origin=(origin or "")[:200])
            return _error(403, "origin_not_allowed", "this site may not embed the widget")
        ip = request.remote or "unknown"
        if (wait := self._deps.connect_limiter.take(ip)) > 0:
            return _error(
                429,
                "rate_limited",
                "too many connections; try again shortly",
                **{"Retry-After": str(max(1, round(wait)))},
            )
        site = request.query.get("site", "")
        if site and not _SITE.fullmatch(site):
            return _error(422, "invalid", "site: 1-64 characters of A-Z a-z 0-9 _ . -")
        return await serve_socket(request, self._deps, site)

    def _cors(self, request: web.Request) -> dict[str, str]:
        origin = request.headers.get("Origin", "")
        return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}

    async def preflight(self, request: web.Request) -> web.StreamResponse:
        if not self._allowed(request):
            return _error(403, "origin_not_allowed", "this site may not embed the widget")
        return web.Response(
            status=204,
            headers={
                **self._cors(request),
                "Access-Control-Allow-Methods": "POST",
                "Access-Control-Max-Age": "600",
            },
        )

    async def upload(self, request: web.Request) -> web.StreamResponse:
        if not self._allowed(request):
            return _error(403, "origin_not_allowed", "this site may not embed the widget")
        cors = self._cors(request)
        try:
            form = await upload.read_upload(request, self.config)
            visitor = form.visitor(self.config)
            client_id = form.client_id
            ip = request.remote or "unknown"
            wait = max(
                self._deps.visitor_limiter.take(visitor.address), self._deps.ip_limiter.take(ip)
            )
            if wait > 0:
                raise upload.UploadRefused(429, "rate_limited", "too many messages; wait a moment")
        except upload.UploadRefused as exc:
            log.info("widget_upload_refused", code=exc.code)
            return _error(exc.status, exc.code, exc.message, **cors)
        site = form.fields.get("site", "")
        inbound = build_inbound(
            visitor,
            client_id,
            form.fields.get("text", "")[:4000],
            name=visitor.name or form.fields.get("name", "")[:200],
            email=visitor.email,
            site=site if _SITE.fullmatch(site) else "",
            attachments=(upload.attachment_of(form),),
        )
        result = await self._ingest(inbound)
        self.hub.add_dialog(visitor.address, result.dialog_id)
        stored = await self._store.messages_by_id([result.message_id])
        log.info("widget_file_received", message_id=result.message_id, size=len(form.data))
        return web.json_response(
            {"duplicate": result.duplicate, "message": stored[0] if stored else None},
            headers=cors,
        )

    async def file(self, request: web.Request) -> web.StreamResponse:
        query = request.query
        try:
            visitor = resolve_visitor(
                visitor_id=query.get("visitor") or "",
                user_id=query.get("user_id"),
                user_hash=query.get("user_hash"),
                identity_secret=self.config.identity_secret,
                token=query.get("token"),
                token_keys=self.config.token_keys,
            )
        except IdentityRefused as exc:
            return _error(403, exc.code, exc.message)
        found = await self._store.find_file(visitor.address, int(request.match_info["id"]))
        if found is None:
            return _error(404, "not_found", "no such file in this conversation")
        filename, content_type, path = found
        if not path.exists():
            return _error(404, "not_found", "the file's body is missing on this server")
        ascii_name = filename.encode("ascii", "replace").decode().replace('"', "")
        return web.FileResponse(
            path,
            headers={
                "Content-Type": content_type,
                "Content-Disposition": f'attachment; filename="{ascii_name}"',
                "X-Content-Type-Options": "nosniff",
                "Cache-Control": "private, max-age=3600",
            },
        )
