"""Login, logout and the middleware that guards the web pages.

Every path under /inbox and /admin needs a session (admin role for /admin), so a page
added later is protected without doing anything. The REST API accepts the same session
cookie when no Authorization header is sent, so the pages' scripts can call it. Every
state-changing request made with a session carries its CSRF token, in the form field
`csrf` or the `X-CSRF-Token` header; the login form uses a short-lived cookie of its own.
"""

from __future__ import annotations

import asyncio
import secrets
from typing import Any
from urllib.parse import quote

import structlog
from aiohttp import web

from inbox.auth import hash_password, verify_password
from inbox.context import PRINCIPAL_KEY, SERVICES, Principal
from inbox.errors import ApiError, Handler
from inbox.i18n import LANG_COOKIE, LANGUAGES
from inbox.login_throttle import THROTTLE, throttle_keys
from inbox.render import SESSION_KEY, render
from inbox.session import (
    CSRF_FIELD,
    CSRF_HEADER,
    LOGIN_CSRF_COOKIE,
    SAFE_METHODS,
    SESSION_COOKIE,
    SESSION_MAX_AGE,
    SIGNER,
    Session,
    csrf_matches,
    new_session,
    password_fingerprint,
    set_cookie,
)
from storage import agents as agent_repo

log = structlog.get_logger(__name__)

# Verified against when the login is unknown, so a wrong login costs as long as a wrong password.
_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


def is_page_path(path: str) -> bool:
    return path in ("/inbox", "/admin") or path.startswith(("/inbox/", "/admin/"))


def is_admin_path(path: str) -> bool:
    return path == "/admin" or path.startswith("/admin/")


def safe_next(raw: str | None) -> str:
    """Only a local path: never an absolute or protocol-relative URL (no open redirect)."""
    if raw and raw.startswith("/") and not raw.startswith(("//", "/\\")):
        return raw
    return "/inbox"


async def session_agent(request: web.Request) -> tuple[Session, Any] | None:
    session = request.config_dict[SIGNER].loads(request.cookies.get(SESSION_COOKIE))
    if session is None:
        return None
    async with request.config_dict[SERVICES].db.read() as tx:
        agent = await agent_repo.find_agent_by_login(tx, session.login)
    if agent is None or password_fingerprint(agent.password_hash) != session.password_fingerprint:
        return None
    return session, agent


async def _given_csrf(request: web.Request) -> str | None:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        value = (await request.post()).get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


def _refuse_page(request: web.Request, status: int, key: str) -> web.Response:
    return render(request, "error.html", status=status, message_key=key)


@web.middleware
async def web_session(request: web.Request, handler: Handler) -> web.StreamResponse:
    path = request.path
    is_api = path.startswith("/api/")
    if not (is_api or is_page_path(path)):
        return await handler(request)
    if is_api and "Authorization" in request.headers:
        return await handler(request)  # a bearer token: api_auth decides
    found = await session_agent(request)
    if found is None:
        if is_api:
            return await handler(request)  # api_auth answers 401
        if request.method in SAFE_METHODS:
            raise web.HTTPFound("/login?next=" + quote(request.path_qs, safe=""))
        raise ApiError(401, "unauthorized", "log in first")
    session, agent = found
    if request.method not in SAFE_METHODS and not csrf_matches(
        session.csrf, await _given_csrf(request)
    ):
        log.warning("csrf_refused", login=agent.login, path=path)
        raise ApiError(403, "csrf", "missing or wrong CSRF token; reload the page")
    request[PRINCIPAL_KEY] = Principal(agent.login, agent.role)
    request[SESSION_KEY] = session
    if is_admin_path(path) and agent.role != "admin":
        return _refuse_page(request, 403, "forbidden")
    with structlog.contextvars.bound_contextvars(agent=agent.login):
        return await handler(request)


async def login_page(request: web.Request) -> web.Response:
    return _login_form(request, error_key=None, status=200)


def _login_form(
    request: web.Request, *, error_key: str | None, status: int, login: str = ""
) -> web.Response:
    token = secrets.token_urlsafe(24)
    response = render(
        request,
        "login.html",
        status=status,
        login_csrf=token,
        error_key=error_key,
        login=login,
        next=safe_next(request.query.get("next")),
    )
    set_cookie(request, response, LOGIN_CSRF_COOKIE, token, max_age=3600)
    return response


async def login_submit(request: web.Request) -> web.Response:
    form = await request.post()
    login = str(form.get("login", "")).strip()
    password = str(form.get("password", ""))
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not csrf_matches(expected, str(form.get(CSRF_FIELD, ""))):
        return _login_form(request, error_key="session_expired", status=403, login=login)
    throttle = request.config_dict[THROTTLE]
    keys = throttle_keys(request, login)
    if wait := throttle.retry_after(*keys):
        log.warning("login_throttled", login=login[:100], retry_after=wait)
        response = _login_form(request, error_key="too_many_logins", status=429, login=login)
        response.headers["Retry-After"] = str(wait)
        return response
    async with request.config_dict[SERVICES].db.read() as tx:
        agent = await agent_repo.find_agent_by_login(tx, login) if login else None
    stored = agent.password_hash if agent is not None and agent.password_hash else _DUMMY_HASH
    ok = await asyncio.to_thread(verify_password, stored, password)
    if agent is None or not agent.password_hash or not ok:
        log.info("login_failed", login=login[:100])
        throttle.failed(*keys)
        return _login_form(request, error_key="bad_login", status=401, login=login)
    throttle.succeeded(keys[0])
    session = new_session(agent.login, agent.password_hash)
    log.info("login_succeeded", login=agent.login)
    response = web.HTTPFound(safe_next(str(form.get("next", ""))))
    set_cookie(
        request,
        response,
        SESSION_COOKIE,
        request.config_dict[SIGNER].dumps(session),
        max_age=SESSION_MAX_AGE,
    )
    response.del_cookie(LOGIN_CSRF_COOKIE, path="/")
    raise response


async def logout(request: web.Request) -> web.Response:
    """POST /logout with the session's CSRF token (a cross-site page cannot log anyone out)."""
    found = await session_agent(request)
    if found is not None:
        form = await request.post()
        if not csrf_matches(found[0].csrf, str(form.get(CSRF_FIELD, ""))):
            raise ApiError(403, "csrf", "missing or wrong CSRF token; reload the page")
        log.info("logged_out", login=found[1].login)
    response = web.HTTPFound("/login")
    response.del_cookie(SESSION_COOKIE, path="/")
    raise response


async def switch_language(request: web.Request) -> web.Response:
    lang = request.match_info["lang"]
    if lang not in LANGUAGES:
        raise web.HTTPNotFound()
    response = web.HTTPFound(safe_next(request.query.get("next")))
    set_cookie(request, response, LANG_COOKIE, lang, max_age=365 * 24 * 3600)
    raise response


def add_auth_routes(app: web.Application) -> None:
    app.router.add_get("/login", login_page)
    app.router.add_post("/login", login_submit)
    app.router.add_post("/logout", logout)
    app.router.add_get("/lang/{lang}", switch_language)
