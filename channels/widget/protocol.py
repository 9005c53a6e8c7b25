"""The widget's WebSocket frames: JSON objects with a `type`, parsed strictly at the boundary.

Client → server: `hello` (first, once), `message`, `typing`, `identify`, `read`, `ping`.
Server → client: `welcome`, `message`, `ack`, `typing`, `identified`, `pong`, `error`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, EmailStr, Field, TypeAdapter, ValidationError

from channels.widget.identity_token import MAX_TOKEN

MAX_TEXT = 4000
MAX_FRAME_BYTES = 16 * 1024


class _Frame(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Hello(_Frame):
    type: Literal["hello"]
    visitor: str | None = None  # the id this browser keeps; none on a first visit
    user_id: str | None = None  # a host site's signed user
    user_hash: str | None = None
    token: Annotated[str, Field(max_length=MAX_TOKEN)] | None = None  # a host site's signed JWT
    since: datetime | None = None  # visible_at of the newest message the widget shows
    name: Annotated[str, Field(max_length=200)] = ""
    email: EmailStr | None = None


class Message(_Frame):
    type: Literal["message"]
    client_id: Annotated[str, Field(min_length=8, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")]
    text: Annotated[str, Field(min_length=1, max_length=MAX_TEXT)]


class Typing(_Frame):
    type: Literal["typing"]


class Identify(_Frame):
    type: Literal["identify"]
    name: Annotated[str, Field(max_length=200)] = ""
    email: EmailStr | None = None


class Read(_Frame):
    """The visitor has the chat open and in view, showing replies up to `message_id`."""

    type: Literal["read"]
    message_id: Annotated[int, Field(ge=1, le=2**62)]


class Ping(_Frame):
    type: Literal["ping"]


ClientFrame = Annotated[
    Hello | Message | Typing | Identify | Read | Ping, Field(discriminator="type")
]
_FRAME: TypeAdapter[ClientFrame] = TypeAdapter(ClientFrame)


class BadFrame(ValueError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def parse_frame(raw: str) -> ClientFrame:
    """One client frame; BadFrame says what is wrong with it."""
    if len(raw.encode()) > MAX_FRAME_BYTES:
        raise BadFrame(f"frame larger than {MAX_FRAME_BYTES} bytes")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise BadFrame("frame is not JSON") from None
    if not isinstance(data, dict) or "type" not in data:
        raise BadFrame("frame must be a JSON object with a type")
    try:
        return _FRAME.validate_python(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"][1:]) or "type"
        raise BadFrame(f"{where}: {first['msg']}") from None


def build_error(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"type": "error", "code": code, "message": message, **extra}
