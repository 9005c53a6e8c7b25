"""Signed session cookies and CSRF tokens for the web pages.

The cookie holds the agent's login, a CSRF token and a fingerprint of the password hash,
signed (itsdangerous, HMAC-SHA1 over a key derived from RELAYDESK_SECRET_KEY) and dated:
a changed password ends every session of that agent, and a session older than
`SESSION_MAX_AGE` is refused. Nothing is stored server-side, so several processes share
sessions as long as they share the key.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web
from itsdangerous import BadSignature, URLSafeTimedSerializer

from inbox.auth import same_secret

SESSION_COOKIE = "rd_session"
LOGIN_CSRF_COOKIE = "rd_login_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf"
SESSION_MAX_AGE = 12 * 3600
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True, slots=True)
class Session:
    login: str
    csrf: str
    password_fingerprint: str


def password_fingerprint(password_hash: str | None) -> str:
    return hashlib.sha256((password_hash or "").encode()).hexdigest()[:16]


class SessionSigner:
    def __init__(self, secret_key: str) -> None:
        self._serializer = URLSafeTimedSerializer(secret_key, salt="relaydesk-session")

    def dumps(self, session: Session) -> str:
        return self._serializer.dumps(
            {"l": session.login, "c": session.csrf, "p": session.password_fingerprint}
        )

    def loads(self, raw: str | None) -> Session | None:
        if not raw:
            return None
        try:
            data = self._serializer.loads(raw, max_age=SESSION_MAX_AGE)
        except BadSignature:  # also SignatureExpired
            return None
        if not isinstance(data, dict):
            return None
        login, csrf, fp = data.get("l"), data.get("c"), data.get("p")
        if not (isinstance(login, str) and isinstance(csrf, str) and isinstance(fp, str)):
            return None
        return Session(login, csrf, fp)


SIGNER = web.AppKey("session_signer", SessionSigner)


def new_session(login: str, password_hash: str | None) -> Session:
    return Session(login, secrets.token_urlsafe(24), password_fingerprint(password_hash))


def is_https(request: web.Request) -> bool:
    """Behind a TLS-terminating proxy the scheme arrives in X-Forwarded-Proto."""
    forwarded = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    return request.scheme == "https" or forwarded == "https"


def set_cookie(
    request: web.Request, response: web.StreamResponse, name: str, value: str, max_age: int
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="Lax",
        secure=is_https(request),
    )


def csrf_matches(expected: str, given: str | None) -> bool:
    return bool(given) and same_secret(expected, given or "")


def load_or_create_secret(path: Path) -> str:
    """The key in `path`, or a new random one written there (0600) for the next start."""
    try:
        existing = path.read_text().strip()
    except FileNotFoundError:
        existing = ""
    if existing:
        return existing
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process starting at the same moment wrote it
        return path.read_text().strip()
    with os.fdopen(fd, "w") as f:
        f.write(key + "\n")
    return key
