"""The WhatsApp channel: the webhook (handshake, signature, ingest, statuses) and `send`.

A POST is verified against X-Hub-Signature-256 over its raw bytes before it is parsed,
and answered 200 only once every message in it is committed, so Meta redelivers what
we did not store; redeliveries are recognised by wamid. Media is fetched by id before
the message is stored; when the Graph API is briefly unavailable the webhook answers
503 and Meta delivers it again later.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any

import orjson
import structlog
from aiohttp import web

from channels.base import (
    ChannelError,
    Handler,
    Ingest,
    OutboundAttachment,
    OutboundMessage,
    RateLimit,
    SendReceipt,
    StatusNotYetKnown,
    StatusSink,
)
from channels.whatsapp.client import GraphClient
from channels.whatsapp.normalize import ParsedMessage, describe_error, parse_webhook
from channels.whatsapp.signature import handshake_challenge, is_valid_signature
from dialogs.model import InboundAttachment, InboundMessage

log = structlog.get_logger(__name__)

PATH = "/webhooks/whatsapp"
MAX_TEXT = 4096
MAX_CAPTION = 1024


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


class WhatsAppChannel:
    kind = "whatsapp"
    # Free text only within 24 hours of the customer's last message; templates any time.
    reply_window = timedelta(hours=24)

    def __init__(
        self,
        client: GraphClient,
        *,
        app_secret: str,
        verify_token: str | None,
        ingest: Ingest,
        status_update: StatusSink,
        messages_per_second: int = 80,
    ) -> None:
        # Cloud API: 80 messages a second per business phone number unless Meta raised it.
        self.rate_limit = RateLimit(per_second=messages_per_second, burst=messages_per_second)
        self._client = client
        self._app_secret = app_secret
        self._verify_token = verify_token
        self._ingest = ingest
        self._status_update = status_update

    def routes(self) -> Sequence[tuple[str, str, Handler]]:
        return [("GET", PATH, self.handshake), ("POST", PATH, self.webhook)]

    async def start(self) -> None:
        await self._client.start()

    async def stop(self) -> None:
        await self._client.close()

    # ---- inbound ----------------------------------------------------------------------------

    async def handshake(self, request: web.Request) -> web.StreamResponse:
        challenge = handshake_challenge(request.query, self._verify_token)
        if challenge is None:
            log.warning("whatsapp_handshake_refused", mode=request.query.get("hub.mode"))
            return _error(403, "forbidden", "verification token does not match")
        log.info("whatsapp_handshake_accepted")
        return web.Response(text=challenge, content_type="text/plain")

    async def webhook(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()  # the raw bytes: the signature covers exactly these
        header = request.headers.get("X-Hub-Signature-256")
        if not header:
            log.warning("whatsapp_webhook_refused", reason="no signature")
            return _error(401, "unauthorized", "missing X-Hub-Signature-256")
        if not is_valid_signature(body, header, self._app_secret):
            log.warning("whatsapp_webhook_refused", reason="bad signature")
            return _error(403, "forbidden", "X-Hub-Signature-256 does not match the body")
        try:
            parsed = parse_webhook(orjson.loads(body))
        except (orjson.JSONDecodeError, ValueError) as exc:
            return _error(400, "bad_request", f"not a WhatsApp webhook body: {exc}")
        for err in parsed.errors:
            log.warning("whatsapp_webhook_error_reported", error=describe_error(err))
        try:
            messages = await asyncio.gather(*(self._with_media(p) for p in parsed.messages))
        except ChannelError as exc:  # retryable: let Meta deliver the webhook again later
            log.warning("whatsapp_media_unavailable", error=exc.message)
            return _error(503, "unavailable", f"media not available yet: {exc.message}")
        results = await asyncio.gather(*(self._ingest(m) for m in messages))
        try:
            for status in parsed.statuses:  # in the order given; ranks make any order safe
                await self._status_update(status)
        except StatusNotYetKnown as exc:  # our send of it has not committed its wamid yet
            log.info("whatsapp_status_early", wamid=str(exc))
            return _error(503, "unavailable", "status for a message still being sent; retry")
        log.info(
            "whatsapp_webhook_stored",
            messages=len(results),
            duplicates=sum(r.duplicate for r in results),
            statuses=len(parsed.statuses),
        )
        return web.json_response({"status": "ok"})

    async def _with_media(self, parsed: ParsedMessage) -> InboundMessage:
        message, media = parsed.message, parsed.media
        if media is None:
            return message
        try:
            data, mime = await self._client.fetch_media(media.media_id)
        except ChannelError as exc:
            if exc.retryable:
                raise
            note = f"[{message.kind} could not be downloaded: {exc.message}]"
            return replace(message, text=f"{message.text}\n{note}".strip())
        file = InboundAttachment(media.filename, media.mime_type or mime, data)
        return replace(message, attachments=(file,))

    # ---- outbound ---------------------------------------------------------------------------

    async def send(self, message: OutboundMessage) -> SendReceipt:
        base: dict[str, Any] = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": message.address,
        }
        if message.reply_to_external_id:
            base["context"] = {"message_id": message.reply_to_external_id}
        if message.template is not None:
            return SendReceipt(await self._client.send_message({**base, **_template(message)}))
        wamid: str | None = None
        text = message.text.strip()
        caption = text if message.attachments and len(text) <= MAX_CAPTION else ""
        if text and not caption:
            for chunk in split_text(text, MAX_TEXT):
                payload = {"type": "text", "text": {"preview_url": False, "body": chunk}}
                wamid = await self._client.send_message({**base, **payload})
        for i, file in enumerate(message.attachments):
            media_id = await self._client.upload_media(file.data, file.content_type, file.filename)
            wamid = await self._client.send_message(
                {**base, **_media(file, media_id, caption if i == 0 else "")}
            )
        return SendReceipt(wamid)


def _template(message: OutboundMessage) -> dict[str, Any]:
    t = message.template or {}
    template: dict[str, Any] = {"name": t.get("name"), "language": {"code": t.get("language")}}
    params = list(t.get("parameters") or [])
    if params:
        template["components"] = [
            {"type": "body", "parameters": [{"type": "text", "text": str(p)} for p in params]}
        ]
    return {"type": "template", "template": template}


def _media(file: OutboundAttachment, media_id: str, caption: str) -> dict[str, Any]:
    major = file.content_type.split("/")[0]
    kind = {"image": "image", "video": "video", "audio": "audio"}.get(major, "document")
    body: dict[str, Any] = {"id": media_id}
    if caption and kind != "audio":
        body["caption"] = caption
    if kind == "document":
        body["filename"] = file.filename
    return {"type": kind, kind: body}


def split_text(text: str, limit: int) -> list[str]:
    """Chunks of at most `limit` characters, cut at a line break or space when there is one."""
    chunks = []
    while len(text) > limit:
        cut = max(text.rfind("\n", 0, limit), text.rfind(" ", 0, limit))
        cut = cut if cut > limit // 2 else limit
        chunks.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        chunks.append(text)
    return chunks
