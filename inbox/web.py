"""The web UI in one call for the composition root: session signing, static files, pages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from aiohttp import web

from inbox.login_throttle import THROTTLE, LoginThrottle
from inbox.pages_account import add_account_routes
from inbox.pages_accounts import add_accounts_routes
from inbox.pages_admin import add_admin_routes
from inbox.pages_inbox import ATTACHMENTS_ROOT, add_inbox_routes
from inbox.pages_library import add_library_routes
from inbox.render import STATIC
from inbox.session import SIGNER, SessionSigner
from inbox.web_auth import add_auth_routes

STATIC_PREFIX = "/static/inbox"


def add_web_ui(
    app: web.Application,
    *,
    secret_key: str,
    attachments_root: Path,
    clock: Callable[[], datetime],
) -> None:
    app[SIGNER] = SessionSigner(secret_key)
    app[THROTTLE] = LoginThrottle(clock)
    app[ATTACHMENTS_ROOT] = attachments_root
    app.router.add_static(STATIC_PREFIX, STATIC)
    add_auth_routes(app)
    add_inbox_routes(app)
    add_account_routes(app)
    add_admin_routes(app)
    add_library_routes(app)
    add_accounts_routes(app)
