"""`POST /widget/upload` (a visitor's file, stored as a message) and `GET /widget/files/{id}`.

An upload is a message like any other: multipart fields `visitor` (or a signed `token`, or
`user_id` and `user_hash`), `client_id`, optional `text`, and one `file`. The declared type
must be an allowed one and match what the bytes are; the size is checked while reading, so
an oversize body is refused without being held in memory.
"""

from __future__ import annotations

import re

import aiohttp
from aiohttp import BodyPartReader, web

from channels.widget.config import WidgetConfig
from channels.widget.identity import IdentityRefused, Visitor, resolve_visitor
from dialogs.model import InboundAttachment

_CLIENT_ID = re.compile(r"[A-Za-z0-9_-]{8,100}")
_MAX_FIELD = 8 * 1024

# The leading bytes each allowed binary type starts with.
_SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "application/pdf": (b"%PDF-",),
}


class UploadRefused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def is_content_of_type(content_type: str, data: bytes) -> bool:
    """Whether `data` is what `content_type` says (so a script cannot pass for a picture)."""
    if content_type == "image/webp":
        return data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    if content_type.startswith("text/"):
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return False
        return b"\x00" not in data
    signatures = _SIGNATURES.get(content_type)
    return signatures is None or data.startswith(signatures)


def safe_filename(name: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch for ch in base if ch.isprintable() and ch not in '"<>:|?*').strip()
    return (cleaned or "file")[:200]


class UploadForm:
    def __init__(self) -> None:
        self.fields: dict[str, str] = {}
        self.filename = ""
        self.content_type = ""
        self.data = b""

    def visitor(self, config: WidgetConfig) -> Visitor:
        fields = self.fields
        if not fields.get("visitor") and not fields.get("user_id") and not fields.get("token"):
            raise UploadRefused(
                422, "invalid", "visitor (or token, or user_id and user_hash) is required"
            )
        try:
            return resolve_visitor(
                visitor_id=fields.get("visitor") or None,
                user_id=fields.get("user_id") or None,
                user_hash=fields.get("user_hash") or None,
                identity_secret=config.identity_secret,
                token=fields.get("token") or None,
                token_keys=config.token_keys,
            )
        except IdentityRefused as exc:
            raise UploadRefused(403, exc.code, exc.message) from None

    @property
    def client_id(self) -> str:
        value = self.fields.get("client_id", "")
        if not _CLIENT_ID.fullmatch(value):
            raise UploadRefused(422, "invalid", "client_id: 8-100 characters of A-Z a-z 0-9 _ -")
        return value


async def read_upload(request: web.Request, config: WidgetConfig) -> UploadForm:
    """The form, with the file checked against the size and type limits."""
    if not request.content_type.startswith("multipart/form-data"):
        raise UploadRefused(415, "unsupported_media_type", "send multipart/form-data")
    try:
        return await _read_form(request, config)
    except (
        ValueError,
        AssertionError,
        aiohttp.ClientPayloadError,
        aiohttp.http.HttpProcessingError,
    ):
        # aiohttp's multipart reader says "malformed" with these (it asserts on some framing).
        raise UploadRefused(400, "bad_request", "the multipart body is malformed") from None


async def _read_form(request: web.Request, config: WidgetConfig) -> UploadForm:
    form = UploadForm()
    reader = await request.multipart()
    async for part in reader:
        if not isinstance(part, BodyPartReader) or part.name is None:
            continue
        if part.filename is not None and part.name == "file":
            if form.filename:
                raise UploadRefused(422, "invalid", "one file per upload")
            form.filename = safe_filename(part.filename)
            form.content_type = (part.headers.get("Content-Type") or "").split(";")[0].lower()
            if form.content_type not in config.upload_types:
                allowed = ", ".join(config.upload_types)
                raise UploadRefused(
                    415, "unsupported_media_type", f"files of this type are not accepted: {allowed}"
                )
            form.data = await _read_limited(part, config.max_upload_bytes)
            if not is_content_of_type(form.content_type, form.data):
                raise UploadRefused(
                    415, "unsupported_media_type", f"the file is not a valid {form.content_type}"
                )
        else:
            form.fields[part.name] = (await _read_limited(part, _MAX_FIELD, field=True)).decode(
                "utf-8", errors="replace"
            )
    if not form.filename:
        raise UploadRefused(422, "invalid", "file: a file part is required")
    if not form.data:
        raise UploadRefused(422, "invalid", "file: the file is empty")
    return form


async def _read_limited(part: BodyPartReader, limit: int, *, field: bool = False) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while chunk := await part.read_chunk(64 * 1024):
        size += len(chunk)
        if size > limit:
            what = "a form field" if field else "the file"
            raise UploadRefused(413, "payload_too_large", f"{what} is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def attachment_of(form: UploadForm) -> InboundAttachment:
    return InboundAttachment(form.filename, form.content_type, form.data)
