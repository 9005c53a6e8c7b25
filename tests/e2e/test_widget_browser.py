"""The chat widget in headless Chromium, embedded in a page of another origin.

The visitor writes; the message is stored in a widget dialog; the agent's reply (REST API)
appears live; the connection drops while the agent answers and the visitor types, and
resumes with nothing lost or doubled; a reload shows the conversation once.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, Page, async_playwright, expect

from relaydesk.app import CHANNELS, create_app
from relaydesk.settings import Settings
from tests.conftest import AUTH, ROOT
from tests.e2e.browser import serve_host_page
from tests.e2e.server import running

CHROMIUM = "/usr/bin/chromium"
XSS = '<img src=x onerror="window.__xss=1">'


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as p:
        chromium = await p.chromium.launch(executable_path=CHROMIUM)
        yield chromium
        await chromium.close()


async def widget_dialog(api: aiohttp.ClientSession, base: str) -> dict[str, Any]:
    async with api.get(f"{base}/api/v1/dialogs?channel=widget", headers=AUTH) as r:
        [item] = (await r.json())["items"]
    async with api.get(f"{base}/api/v1/dialogs/{item['id']}", headers=AUTH) as r:
        detail: dict[str, Any] = await r.json()
    return detail


async def wait_for_status(events: aiohttp.ClientResponse, message_id: int, status: str) -> None:
    """Read the agents' event stream until the message reaches `status`."""
    while True:
        line = await asyncio.wait_for(events.content.readline(), 15)
        if line.startswith(b"data:"):
            event = json.loads(line[5:])
            if event.get("message_id") == message_id and event.get("status") == status:
                return


async def send(page: Page, text: str) -> None:
    box = page.locator("textarea")
    await box.fill(text)
    await box.press("Enter")


async def test_visitor_and_agent_chat_through_a_drop_and_a_reload(
    aiohttp_server: Any, browser: Browser, settings: Settings
) -> None:
    """The whole loop in a real browser; counts prove nothing is lost or shown twice."""
    widget: dict[str, str] = {}
    host = await serve_host_page(aiohttp_server, widget)
    host_origin = f"http://{host.host}:{host.port}"
    app = create_app(settings.with_(widget_origins=(host_origin,)), bootstrap_admin=False)
    server: TestServer = await aiohttp_server(app)
    base = widget["url"] = f"http://{server.host}:{server.port}"
    assert host_origin != base

    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(host_origin)
    await send(page, "Hello, I need help " + XSS)
    await expect(page.locator(".msg.in:not(.pending)")).to_have_count(1)

    async with aiohttp.ClientSession() as api:
        dialog = await widget_dialog(api, base)
        [inbound] = dialog["messages"]
        assert (inbound["direction"], inbound["channel"]) == ("in", "widget")
        assert inbound["text"] == "Hello, I need help " + XSS

        async with api.get(f"{base}/api/v1/events", headers=AUTH) as events:
            async with api.post(
                f"{base}/api/v1/dialogs/{dialog['id']}/replies",
                json={"text": "Hi! What happened? <b>bold?</b>"},
                headers=AUTH,
            ) as r:
                assert r.status == 201
                first_reply = (await r.json())["id"]
            await expect(page.locator(".msg.out")).to_have_text(["Hi! What happened? <b>bold?</b>"])
            # The chat is open and in view: the widget reports the reply read.
            await wait_for_status(events, first_reply, "read")

        # The connection drops: the browser goes offline and the server closes the socket.
        await context.set_offline(True)
        await app[CHANNELS]["widget"].close_connections()  # type: ignore[attr-defined]
        await expect(page.locator(".status")).to_be_visible()
        async with api.post(
            f"{base}/api/v1/dialogs/{dialog['id']}/replies",
            json={"text": "Are you still there?"},
            headers=AUTH,
        ) as r:
            assert r.status == 201
        await send(page, "Sorry, my Wi-Fi dropped")
        await expect(page.locator(".msg.in.pending")).to_have_count(1)
        assert app[CHANNELS]["widget"].hub.sockets == 0  # type: ignore[attr-defined]
        await expect(page.locator(".msg.out")).to_have_count(1)
        await context.set_offline(False)

        await expect(page.locator(".status")).to_be_hidden()
        await expect(page.locator(".msg.in.pending")).to_have_count(0)
        await expect(page.locator(".msg.out")).to_have_count(2)
        expected = [
            "Hello, I need help " + XSS,
            "Hi! What happened? <b>bold?</b>",
            "Are you still there?",
            "Sorry, my Wi-Fi dropped",
        ]
        stored = await widget_dialog(api, base)
        assert sorted(m["text"] for m in stored["messages"]) == sorted(expected)

        await page.reload()
        messages = page.locator(".msg")
        await expect(messages).to_have_count(4)
        shown = await messages.all_inner_texts()
        assert sorted(shown) == sorted(expected)
        assert shown.index("Hi! What happened? <b>bold?</b>") < shown.index("Are you still there?")
        assert await page.evaluate("window.__xss") is None
        if os.environ.get("RELAYDESK_SCREENSHOTS"):
            await page.screenshot(path=str(ROOT / "docs" / "screenshots" / "widget.png"))
    await context.close()


async def test_demo_page_of_a_bare_server_chats(browser: Browser, tmp_path: Path) -> None:
    """`relaydesk serve` with no settings: the demo page at / embeds the widget (own origin,
    the default), and a message written there is stored as a widget dialog."""
    async with running(f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}", tmp_path) as server:
        page = await browser.new_page()
        await page.goto(server.url + "/")
        await expect(page.locator("a[href='/inbox']").first).to_be_visible()
        await page.locator(".bubble").click()
        await send(page, "Привет из демо")
        await expect(page.locator(".msg.in:not(.pending)")).to_have_count(1)
        async with aiohttp.ClientSession() as api:
            dialog = await widget_dialog(api, server.url)
        assert [m["text"] for m in dialog["messages"]] == ["Привет из демо"]
        await page.close()


async def test_russian_visitor_attaches_a_file_leaves_an_email_and_sees_typing(
    aiohttp_server: Any, browser: Browser, settings: Settings, tmp_path: Path
) -> None:
    """A browser in Russian gets the Russian widget; a picture goes up through the paperclip and
    comes back as a link; an oversize file is refused with a message; the contact form stores
    the email; the agent's typing shows."""
    widget: dict[str, str] = {}
    host = await serve_host_page(aiohttp_server, widget, lang="")
    host_origin = f"http://{host.host}:{host.port}"
    app = create_app(
        settings.with_(widget_origins=(host_origin,), widget_max_upload_bytes=1024),
        bootstrap_admin=False,
    )
    server: TestServer = await aiohttp_server(app)
    base = widget["url"] = f"http://{server.host}:{server.port}"
    context = await browser.new_context(locale="ru-RU")
    page = await context.new_page()
    await page.goto(host_origin)
    await expect(page.locator(".title")).to_have_text("Напишите нам")
    await send(page, "Здравствуйте")
    await expect(page.locator(".msg.in:not(.pending)")).to_have_count(1)

    picture = tmp_path / "screen.png"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
    await page.locator("label.attach input").set_input_files(str(picture))
    await expect(page.locator("a.file")).to_have_text("screen.png")
    href = await page.locator("a.file").get_attribute("href")
    big = tmp_path / "big.png"
    big.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 2048)
    await page.locator("label.attach input").set_input_files(str(big))
    await expect(page.locator(".note").last).to_contain_text("Не удалось отправить файл")

    await page.locator(".who").click()
    await page.locator("form.contact input[name=name]").fill("Анна")
    await page.locator("form.contact input[name=email]").fill("anna@example.com")
    await page.locator("form.contact button").click()
    async with aiohttp.ClientSession() as api:
        assert href is not None
        async with api.get(href) as r:
            assert r.status == 200 and (await r.read()).startswith(b"\x89PNG")
        dialog = await widget_dialog(api, base)
        async with api.post(f"{base}/api/v1/dialogs/{dialog['id']}/typing", headers=AUTH) as r:
            assert r.status == 204
        await expect(page.locator(".typing")).to_have_text("Оператор печатает…")
        await expect(page.locator(".note").last).to_have_text("Спасибо, теперь мы вас узнаем.")
        dialog = await widget_dialog(api, base)
        assert dialog["contact"]["email"] == "anna@example.com"
        assert [
            m["attachments"][0]["filename"] for m in dialog["messages"] if m["attachments"]
        ] == ["screen.png"]
    await context.close()
