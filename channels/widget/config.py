"""The widget channel's settings, as the composition root builds them from the environment."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from channels.widget.identity_token import TokenKeys
from channels.widget.limits import Rate

DEFAULT_UPLOAD_TYPES = (
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
    "text/plain",
)


@dataclass(frozen=True, slots=True)
class WidgetConfig:
    origins: tuple[str, ...] = ()  # RELAYDESK_WIDGET_ORIGINS; empty: the server's own origin
    identity_secret: str | None = None  # RELAYDESK_WIDGET_IDENTITY_SECRET: signed user ids
    token_keys: TokenKeys | None = None  # how host sites' JWTs are checked; None: not accepted
    max_upload_bytes: int = 3 * 1024 * 1024
    upload_types: tuple[str, ...] = DEFAULT_UPLOAD_TYPES
    heartbeat: float = 25.0  # seconds between WebSocket pings; a silent peer is dropped
    history_limit: int = 200
    # How far back a resume re-reads before the widget's newest message: covers writers
    # that committed out of id order. The widget drops the ids it already shows.
    resume_overlap: timedelta = timedelta(seconds=30)
    visitor_rate: Rate = field(default_factory=lambda: Rate(per_second=1.0, burst=10))
    ip_rate: Rate = field(default_factory=lambda: Rate(per_second=5.0, burst=40))
    connect_rate: Rate = field(default_factory=lambda: Rate(per_second=1.0, burst=20))
