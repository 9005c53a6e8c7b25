"""Headless Chromium (Debian's, never a downloaded one) driven by Playwright, for e2e tests."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, Page, async_playwright

from inbox.auth import hash_password
from storage import Database
from storage import agents as agent_repo

CHROMIUM = "/usr/bin/chromium"
HOST_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Shop</title>
<style>*{{color:red!important;font-size:40px!important}}</style></head>
<body><h1>A shop on another origin</h1>
<script src="{widget}/widget.js" data-site="shop" {lang} data-open async></script>
</body></html>"""

# Set to a directory (docs/screenshots) to keep the screenshots the tests take.
SCREENSHOTS_ENV = "RELAYDESK_SCREENSHOTS_DIR"


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    async with async_playwright() as p:
        browser = await p.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
        )
        try:
            yield browser
        finally:
            await browser.close()


async def create_accounts(db_url: str, accounts: dict[str, tuple[str, str]]) -> None:
    """`accounts`: login -> (password, role), straight into a migrated database."""
    db = Database(db_url)
    try:
        async with db.write() as tx:
            for login, (password, role) in accounts.items():
                await agent_repo.create_agent(
                    tx,
                    login=login,
                    name=login.title(),
                    role=role,
                    password_hash=hash_password(password),
                    token_hash=None,
                    now=datetime.now(UTC),
                )
    finally:
        await db.dispose()


async def log_in(page: Page, base: str, login: str, password: str) -> None:
    await page.goto(f"{base}/inbox")
    assert "/login" in page.url  # the guard sent us to the form
    await page.fill("input[name=login]", login)
    await page.fill("input[name=password]", password)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{base}/inbox*")


async def screenshot(page: Page, tmp_path: Path, name: str) -> Path:
    keep = os.environ.get(SCREENSHOTS_ENV)
    target = (Path(keep) if keep else tmp_path) / f"{name}.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(target), full_page=False)
    assert target.stat().st_size > 1000
    return target


async def serve_host_page(
    aiohttp_server: Any, widget: dict[str, str], lang: str = "en"
) -> TestServer:
    """A page on another origin (another port) that embeds the widget of `widget["url"]`."""

    async def page(_request: web.Request) -> web.Response:
        text = HOST_PAGE.format(widget=widget["url"], lang=f'data-lang="{lang}"' if lang else "")
        return web.Response(text=text, content_type="text/html")

    host_app = web.Application()
    host_app.router.add_get("/", page)
    server: TestServer = await aiohttp_server(host_app)
    return server
