"""The whole loop in headless Chromium: a visitor in the widget, an agent in the inbox.

The visitor writes in the widget on a shop's page of another origin; the message appears live in
the agent's inbox; the agent answers from the dialog page; the visitor sees it live. Then the
visitor's connection drops while the agent answers again and comes back: the answer arrives
once. Nothing here uses the REST API: both people use the pages.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, expect

from tests.conftest import fresh_database
from tests.e2e.browser import chromium, create_accounts, log_in, screenshot, serve_host_page
from tests.e2e.server import running

pytestmark = pytest.mark.slow


@pytest.fixture
def sqlite_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return fresh_database("sqlite", tmp_path, request)


async def visitor_says(page: Page, text: str) -> None:
    box = page.locator("textarea[name=text]")
    await box.fill(text)
    await box.press("Enter")


async def agent_answers(page: Page, text: str) -> None:
    await page.fill("#reply-text", text)
    await page.click("#reply-send")
    await expect(page.locator(".msg-out .msg-text").filter(has_text=text)).to_have_count(1)


async def test_visitor_and_agent_talk_through_widget_and_inbox(
    aiohttp_server: Any, sqlite_url: str, tmp_path: Path
) -> None:
    """Widget → inbox live, inbox → widget live, and a dropped connection loses nothing."""
    await create_accounts(sqlite_url, {"alice": ("alice-password", "agent")})
    widget: dict[str, str] = {}
    shop = await serve_host_page(aiohttp_server, widget)
    shop_origin = f"http://{shop.host}:{shop.port}"
    allowed = {"RELAYDESK_WIDGET_ORIGINS": shop_origin}
    async with (
        running(sqlite_url, tmp_path / "srv", env=allowed) as server,
        chromium() as browser,
    ):
        widget["url"] = server.url
        agent = await (await browser.new_context()).new_page()
        await log_in(agent, server.url, "alice", "alice-password")
        await expect(agent.locator("body[data-live=on]")).to_have_count(1)

        visitor_context = await browser.new_context()
        visitor = await visitor_context.new_page()
        await visitor.goto(shop_origin)  # the host page opens the chat itself (data-open)
        await visitor_says(visitor, "Hi! My parcel never arrived.")
        await expect(visitor.locator(".msg.in:not(.pending)")).to_have_count(1)

        row = agent.locator("tr[data-dialog]").filter(has=agent.locator(".chan-widget"))
        await expect(row).to_have_count(1)  # arrived live: the inbox was not reloaded
        await row.locator("a.contact-name").click()
        await agent.wait_for_url("**/inbox/dialogs/*")
        await expect(agent.locator("body[data-live=on]")).to_have_count(1)
        await expect(agent.locator(".msg-in .msg-text")).to_have_text(
            "Hi! My parcel never arrived."
        )
        # an anonymous visitor is named for people, not by its random widget id
        await expect(agent.locator("h1.contact-name")).to_have_text(re.compile(r"^Visitor #\d+$"))

        await agent_answers(agent, "Sorry! Let me check the tracking number.")
        answers = visitor.locator(".msg.out")
        await expect(answers).to_have_text(["Sorry! Let me check the tracking number."])

        await visitor_context.set_offline(True)  # the visitor's network goes away
        await agent_answers(agent, "Found it: it is at the pick-up point.")
        await visitor_context.set_offline(False)
        await expect(answers).to_have_text(
            ["Sorry! Let me check the tracking number.", "Found it: it is at the pick-up point."]
        )
        await visitor_says(visitor, "Thank you!")
        await expect(agent.locator(".msg-in .msg-text")).to_have_text(
            ["Hi! My parcel never arrived.", "Thank you!"]
        )
        await screenshot(agent, tmp_path, "widget-to-inbox")
        await visitor.reload()
        await expect(visitor.locator(".msg.out")).to_have_count(2)  # history once, no doubles
        await expect(visitor.locator(".msg.in:not(.pending)")).to_have_count(2)
