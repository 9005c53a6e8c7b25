"""Who a widget visitor is, and whether a page may talk to us: pure checks, no I/O.

A visitor is either anonymous, named by a random id its browser keeps (`v_…`), or a
host site's logged-in user whose id the site signed with the shared secret
(RELAYDESK_WIDGET_IDENTITY_SECRET): `hex(HMAC-SHA256(secret, user_id))`. The two never
collide: a signed user's address is `user:<id>`, which no visitor id can take. A JWT the
site signed (channels/widget/identity_token.py) names the same `user:<sub>`, so a site can
move from one way of signing to the other and its users keep their conversations.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from channels.widget.identity_token import TokenKeys, TokenRefused, verify_user_token

_VISITOR_ID = re.compile(r"v_[A-Za-z0-9_-]{22,64}")
MAX_USER_ID = 200


class IdentityRefused(ValueError):
    """The visitor's credentials do not hold; `code` goes back to the widget."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class Visitor:
    address: str  # contact_identities.address and the thread_key of its dialogs
    signed: bool = False
    # The profile a signed token vouches for (its `name` and `email` claims).
    name: str = ""
    email: str | None = None


def new_visitor_id() -> str:
    return "v_" + secrets.token_urlsafe(24)


def sign_user_id(secret: str, user_id: str) -> str:
    """What the host site's server computes for its logged-in user (and what we check)."""
    return hmac.new(secret.encode(), user_id.encode(), hashlib.sha256).hexdigest()


def resolve_visitor(
    *,
    visitor_id: str | None,
    user_id: str | None,
    user_hash: str | None,
    identity_secret: str | None,
    token: str | None = None,
    token_keys: TokenKeys | None = None,
) -> Visitor:
    """The visitor these credentials name; raises IdentityRefused when they do not hold."""
    if token is not None:
        if user_id is not None or user_hash is not None:
            raise IdentityRefused("bad_identity", "send a token or user_id and user_hash, not both")
        try:
            user = verify_user_token(token, token_keys)
        except TokenRefused as exc:
            raise IdentityRefused(exc.code, exc.message) from None
        return Visitor(f"user:{user.user_id}", signed=True, name=user.name, email=user.email)
    if user_id is not None or user_hash is not None:
        if not identity_secret:
            raise IdentityRefused(
                "identity_not_enabled", "signed identity is not enabled on this server"
            )
        if not user_id or not user_hash or len(user_id) > MAX_USER_ID:
            raise IdentityRefused("bad_identity", "user_id and user_hash are both required")
        if not hmac.compare_digest(sign_user_id(identity_secret, user_id), user_hash.lower()):
            raise IdentityRefused("bad_identity", "user_hash does not match user_id")
        return Visitor(f"user:{user_id}", signed=True)
    if visitor_id is None:
        return Visitor(new_visitor_id())
    if not is_visitor_id(visitor_id):
        raise IdentityRefused("bad_visitor", "visitor id is malformed")
    return Visitor(visitor_id)


def is_visitor_id(value: str) -> bool:
    return _VISITOR_ID.fullmatch(value) is not None


def is_origin_allowed(origin: str | None, allowed: Sequence[str], own_host: str) -> bool:
    """`allowed` as configured (RELAYDESK_WIDGET_ORIGINS); empty means the server's own origin.

    Browsers always send Origin on WebSocket handshakes and cross-site POSTs; a request
    without one is refused, so only pages we allow can open the widget's socket.
    """
    if not origin or origin == "null":
        return False
    if "*" in allowed:
        return True
    if not allowed:
        return urlsplit(origin).netloc.lower() == own_host.lower()
    normalized = origin.rstrip("/").lower()
    return any(normalized == a.rstrip("/").lower() for a in allowed)
