"""Helpers for the web page tests: accounts, logging in through the real form, CSRF tokens."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from aiohttp.test_utils import TestClient

from inbox.auth import hash_password, hash_token
from inbox.context import SERVICES
from storage import agents as agent_repo

_CSRF_INPUT = re.compile(r'name="csrf" value="([^"]+)"')
_CSRF_BODY = re.compile(r'data-csrf="([^"]*)"')


async def add_agent(
    client: TestClient,
    login: str,
    password: str,
    *,
    role: str = "agent",
    name: str = "",
    token: str | None = None,
) -> None:
    async with client.app[SERVICES].db.write() as tx:
        await agent_repo.create_agent(
            tx,
            login=login,
            name=name or login.title(),
            role=role,
            password_hash=hash_password(password),
            token_hash=hash_token(token) if token else None,
            now=datetime.now(UTC),
        )


def csrf_in(html: str) -> str:
    found = _CSRF_INPUT.search(html) or _CSRF_BODY.search(html)
    assert found, "no CSRF token in the page"
    return found.group(1)


async def log_in(client: TestClient, login: str, password: str) -> str:
    """Log in through the form; return the session's CSRF token from the inbox page."""
    form = await client.get("/login")
    r = await client.post(
        "/login",
        data={"login": login, "password": password, "csrf": csrf_in(await form.text())},
        allow_redirects=False,
    )
    assert r.status == 302, await r.text()
    page = await client.get("/inbox")
    assert page.status == 200
    token = _CSRF_BODY.search(await page.text())
    assert token and token.group(1)
    return token.group(1)
