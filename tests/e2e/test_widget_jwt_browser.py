"""A host site's logged-in users in the widget, in headless Chromium: JWT identity end to end.

The shop signs an RS256 token for its user when it renders the page and hands it to the
widget through the JS API before the script has loaded. The agents see the user's name from
the token; renewing the token keeps the conversation, another user starts their own, an
expired token is refused and the page is told, and logging out makes an anonymous visitor.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, async_playwright, expect

from relaydesk.app import create_app
from relaydesk.settings import Settings
from tests.channels.widget.tokens import claims, rsa_keys
from tests.conftest import AUTH
from tests.e2e.test_widget_browser import CHROMIUM, send

AUDIENCE = "relaydesk"
ISSUER = "https://shop.example"
XSS = '<img src=x onerror="window.__xss=1">'

SHOP_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Shop</title></head>
<body><h1>Welcome back</h1>
<script>
  window.refusals = [];
  window.addEventListener("relaydesk:identity-refused", function (e) {{
    window.refusals.push(e.detail.code);
  }});
  window.relaydesk = window.relaydesk || function () {{
    (relaydesk.q = relaydesk.q || []).push(arguments);
  }};
  relaydesk("identify", {{ token: "{token}" }});
</script>
<script src="{widget}/widget.js" data-site="shop" data-lang="en" data-open async></script>
</body></html>"""


TAG_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Shop</title></head>
<body><script src="{widget}/widget.js" data-user-token="{token}" data-open async></script>
</body></html>"""


def shop_token(sub: str, ttl: int = 600, **profile: Any) -> str:
    """What the shop's server signs with the private key it keeps to itself."""
    payload = claims(sub, ttl=ttl, aud=AUDIENCE, iss=ISSUER, **profile)
    return jwt.encode(payload, rsa_keys()[0], algorithm="RS256")


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as p:
        chromium = await p.chromium.launch(executable_path=CHROMIUM)
        yield chromium
        await chromium.close()


async def widget_contacts(api: aiohttp.ClientSession, base: str) -> list[dict[str, Any]]:
    """The contact of each widget dialog, oldest dialog first, with its messages' texts."""
    async with api.get(f"{base}/api/v1/dialogs?channel=widget", headers=AUTH) as r:
        items = (await r.json())["items"]
    found = []
    for item in sorted(items, key=lambda d: d["id"]):
        async with api.get(f"{base}/api/v1/dialogs/{item['id']}", headers=AUTH) as r:
            detail = await r.json()
        found.append({**detail["contact"], "texts": [m["text"] for m in detail["messages"]]})
    return found


async def test_logged_in_user_is_named_in_the_inbox_and_switches_cleanly(
    aiohttp_server: Any, browser: Browser, settings: Settings
) -> None:
    """The token's name reaches the agents; renewal, another user, expiry and logout each do
    what a shop expects, with nothing shown to the wrong person."""
    widget: dict[str, str] = {}

    async def page_for_olga(_request: web.Request) -> web.Response:
        token = shop_token("u-olga", name="Ольга " + XSS, email="olga@example.com")
        text = SHOP_PAGE.format(widget=widget["url"], token=token)
        return web.Response(text=text, content_type="text/html")

    shop_app = web.Application()

    async def tag_page_for_olga(_request: web.Request) -> web.Response:
        text = TAG_PAGE.format(widget=widget["url"], token=shop_token("u-olga"))
        return web.Response(text=text, content_type="text/html")

    shop_app.router.add_get("/", page_for_olga)
    shop_app.router.add_get("/tag", tag_page_for_olga)
    shop: TestServer = await aiohttp_server(shop_app)
    shop_origin = f"http://{shop.host}:{shop.port}"
    configured = settings.with_(
        widget_origins=(shop_origin,),
        widget_jwt_public_key=rsa_keys()[1],
        widget_jwt_audience=AUDIENCE,
        widget_jwt_issuer=ISSUER,
    )
    server: TestServer = await aiohttp_server(create_app(configured, bootstrap_admin=False))
    base = widget["url"] = f"http://{server.host}:{server.port}"

    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(shop_origin)
    await send(page, "Where is my order?")
    await expect(page.locator(".msg.in:not(.pending)")).to_have_count(1)

    async with aiohttp.ClientSession() as api:
        [olga] = await widget_contacts(api, base)
        assert (olga["name"], olga["email"]) == ("Ольга " + XSS, "olga@example.com")
        assert [i["address"] for i in olga["identities"]] == ["user:u-olga"]

        # A renewed token for the same user keeps the conversation on screen and in storage.
        await page.evaluate("t => relaydesk('identify', {token: t})", shop_token("u-olga"))
        await send(page, "It was order 1234")
        await expect(page.locator(".msg.in:not(.pending)")).to_have_count(2)
        [olga] = await widget_contacts(api, base)
        assert olga["texts"] == ["Where is my order?", "It was order 1234"]

        # Olga on her phone, signed in the script tag: the same conversation.
        phone = await browser.new_context()
        phone_page = await phone.new_page()
        await phone_page.goto(shop_origin + "/tag")
        await expect(phone_page.locator(".msg.in")).to_have_text(
            ["Where is my order?", "It was order 1234"]
        )
        await phone.close()

        # Another user logs in on this browser: Olga's messages leave the screen.
        await page.evaluate(
            "t => relaydesk('identify', {token: t})", shop_token("u-pavel", name="Pavel")
        )
        await expect(page.locator(".msg")).to_have_count(0)
        await send(page, "Hi, Pavel here")
        await expect(page.locator(".msg.in:not(.pending)")).to_have_count(1)
        assert [c["name"] for c in await widget_contacts(api, base)] == ["Ольга " + XSS, "Pavel"]

        # An expired token is refused; the page hears why and the widget stops retrying.
        await page.evaluate(
            "t => relaydesk('identify', {token: t})", shop_token("u-ivan", ttl=-120)
        )
        await page.wait_for_function("window.refusals.length === 1")
        assert await page.evaluate("window.refusals") == ["token_expired"]

        # Logged out: an anonymous visitor with a fresh conversation and an id of its own.
        await page.evaluate("relaydesk('logout')")
        await expect(page.locator(".msg")).to_have_count(0)
        await send(page, "Just browsing")
        await expect(page.locator(".msg.in:not(.pending)")).to_have_count(1)
        contacts = await widget_contacts(api, base)
        assert [c["texts"] for c in contacts] == [
            ["Where is my order?", "It was order 1234"],
            ["Hi, Pavel here"],
            ["Just browsing"],
        ]
        assert contacts[2]["identities"][0]["address"].startswith("v_")
    assert await page.evaluate("window.__xss") is None
    await context.close()
