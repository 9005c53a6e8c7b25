"""Meta's webhook checks, pure: X-Hub-Signature-256 and the GET verification handshake."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

PREFIX = "sha256="


def build_signature(body: bytes, app_secret: str) -> str:
    """The header value Meta sends: "sha256=" + hex HMAC-SHA256 of the raw body."""
    return PREFIX + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def is_valid_signature(body: bytes, header: str | None, app_secret: str) -> bool:
    """True when `header` signs exactly these bytes; compared in constant time."""
    if not header or not header.startswith(PREFIX):
        return False
    return hmac.compare_digest(build_signature(body, app_secret).encode(), header.encode())


def handshake_challenge(query: Mapping[str, str], verify_token: str | None) -> str | None:
    """The challenge to echo when the handshake is ours to accept, else None."""
    if verify_token is None or query.get("hub.mode") != "subscribe":
        return None
    token = query.get("hub.verify_token", "")
    if not hmac.compare_digest(token.encode(), verify_token.encode()):
        return None
    return query.get("hub.challenge")
