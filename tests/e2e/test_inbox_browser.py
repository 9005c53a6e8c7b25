"""The inbox and the rules editor in headless Chromium against a real `relaydesk serve`."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Page, expect

from tests.builders import api_message
from tests.conftest import AUTH, BASIC_RULES, fresh_database
from tests.e2e.browser import chromium, create_accounts, log_in, screenshot
from tests.e2e.server import running, wait_for_events

pytestmark = pytest.mark.slow

HOSTILE_NAME = '<img src=x onerror="window.__xss=1">Eve'
HOSTILE_TEXT = "<script>window.__xss=2</script>I was charged twice"
HOSTILE_FILE = '<svg onload="window.__xss=3">receipt.txt'


@pytest.fixture
def sqlite_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return fresh_database("sqlite", tmp_path, request)


def no_dialogs_allowed(page: Page) -> list[str]:
    """Collect any alert/confirm a payload managed to open (there must be none)."""
    opened: list[str] = []
    page.on("dialog", lambda d: (opened.append(d.message), d.dismiss()))
    return opened


async def post_message(session: aiohttp.ClientSession, url: str, body: dict[str, Any]) -> Any:
    async with session.post(f"{url}/api/v1/messages", json=body, headers=AUTH) as r:
        assert r.status == 201, await r.text()
        return await r.json()


async def test_agent_sees_messages_live_and_replies(sqlite_url: str, tmp_path: Path) -> None:
    """A message posted to the API appears in the open inbox without a reload; the agent's
    reply from the dialog page is stored as outbound; hostile content stays text."""
    await create_accounts(sqlite_url, {"alice": ("alice-password", "agent")})
    async with (
        running(sqlite_url, tmp_path / "srv") as server,
        aiohttp.ClientSession() as session,
        chromium() as browser,
    ):
        page = await browser.new_page(viewport={"width": 1280, "height": 800})
        opened = no_dialogs_allowed(page)
        await log_in(page, server.url, "alice", "alice-password")
        await expect(page.locator("body[data-live=on]")).to_have_count(1)

        sent = await post_message(
            session,
            server.url,
            {
                **api_message("e2e-1", contact="eve", text=HOSTILE_TEXT, name=HOSTILE_NAME),
                "subject": "Double charge",
            },
        )
        row = page.locator(f'tr[data-dialog="{sent["dialog_id"]}"]')
        await expect(row).to_be_visible()  # arrived live: no reload happened
        await expect(row.locator(".contact-name")).to_have_text(HOSTILE_NAME)
        await expect(row.locator(".unread-count")).to_have_text("1")
        await screenshot(page, tmp_path, "inbox")

        await row.locator("a.contact-name").click()
        await page.wait_for_url(f"**/inbox/dialogs/{sent['dialog_id']}")
        await expect(page.locator("body[data-live=on]")).to_have_count(1)
        await expect(page.locator(".msg-in .msg-text").first).to_have_text(HOSTILE_TEXT)

        await page.fill("#reply-text", "Sorry about that, Eve: the refund is on its way.")
        await page.set_input_files(
            "#reply-files",
            files=[{"name": HOSTILE_FILE, "mimeType": "text/plain", "buffer": b"receipt"}],
        )
        await page.click("#reply-send")
        await expect(page.locator(".msg-out .msg-text")).to_have_text(
            "Sorry about that, Eve: the refund is on its way."
        )
        await expect(page.locator(".msg-out .files a")).to_have_text(HOSTILE_FILE)
        await post_message(session, server.url, api_message("e2e-2", contact="eve", text="Thanks!"))
        await expect(page.locator(".msg-in .msg-text").last).to_have_text("Thanks!")
        await expect(page.locator("#tasks .task")).to_have_count(1)
        first_in = page.locator(".msg-in").first
        await first_in.locator(".make-task summary").click()
        await first_in.locator("input[name=title]").fill("Check the double charge")
        await first_in.locator(".make-task-form button").click()
        await expect(page.locator("#tasks .task")).to_have_count(2)  # refreshed live
        await expect(page.locator("#tasks")).to_contain_text("Check the double charge")
        await page.locator(".task details.why summary").first.click()
        await screenshot(page, tmp_path, "dialog")

        async with session.get(
            f"{server.url}/api/v1/dialogs/{sent['dialog_id']}", headers=AUTH
        ) as r:
            dialog = await r.json()
        out = [m for m in dialog["messages"] if m["direction"] == "out"]
        assert len(out) == 1 and out[0]["author"] == "alice"
        assert [a["filename"] for a in out[0]["attachments"]] == [HOSTILE_FILE]
        assert out[0]["text"] == "Sorry about that, Eve: the refund is on its way."
        assert await page.evaluate("window.__xss === undefined")
        assert opened == []


async def test_admin_fixes_broken_rules_and_routing_follows(
    sqlite_url: str, tmp_path: Path
) -> None:
    """A broken rules file shows its error at its line and is not saved; the fixed one is
    written to disk, put in force, and the next message routes by it."""
    rules = tmp_path / "rules.yaml"
    shutil.copyfile(BASIC_RULES, rules)
    await create_accounts(sqlite_url, {"root": ("root-password", "admin")})
    base_text = rules.read_text()
    good = base_text.replace(
        "  support: {team: support, strategy: least_loaded}",
        "  support: {team: support, strategy: least_loaded}\n  billing: {team: support}",
    ).replace(
        "rules:\n",
        "rules:\n  - name: refunds\n    when: {text: {contains: refund}}\n"
        "    then: {task: {queue: billing}}\n",
    )
    broken = good.replace("then: {task: {queue: billing}}", "then: {task: {queue: biling}}")
    bad_line = broken.splitlines().index("    then: {task: {queue: biling}}") + 1
    async with (
        running(sqlite_url, tmp_path / "srv", rules=rules) as server,
        aiohttp.ClientSession() as session,
        chromium() as browser,
    ):
        page = await browser.new_page(viewport={"width": 1280, "height": 800})
        await log_in(page, server.url, "root", "root-password")
        await page.goto(f"{server.url}/admin/rules")
        await page.fill("#rules-text", broken)
        await page.click("#rules-save")
        marked = page.locator(f'#gutter span.err[data-line="{bad_line}"]')
        await expect(marked).to_have_count(1)
        issue = page.locator(f'#rules-issues li[data-line="{bad_line}"]')
        await expect(issue).to_contain_text("biling")
        await expect(page.locator("#rules-status")).to_have_class("editor-status bad")
        await screenshot(page, tmp_path, "rules-editor-error")
        assert rules.read_text() == base_text  # nothing written

        await page.fill("#rules-text", good)
        await page.click("#rules-save")
        await expect(page.locator("#rules-status")).to_have_class("editor-status ok")
        await expect(page.locator("#gutter span.err")).to_have_count(0)
        assert rules.read_text() == good

        await page.fill("#dry-run textarea[name=text]", "I want a refund")
        await page.click("#dry-run button")
        await expect(page.locator("#dry-run-output")).to_contain_text("billing")
        await screenshot(page, tmp_path, "rules-editor")

        sent = await post_message(
            session, server.url, api_message("after-fix", text="refund me please")
        )

        async def routed_to_billing() -> bool:
            async with session.get(f"{server.url}/api/v1/tasks", headers=AUTH) as r:
                items = (await r.json())["items"]
            return any(
                t["dialog_id"] == sent["dialog_id"] and t["queue"] == "billing" for t in items
            )

        await wait_for_events(session, server.url, routed_to_billing, within=30)

        await page.click("#replay button")
        await expect(page.locator("#replay-output")).to_contain_text("billing")


async def test_agent_is_refused_admin_pages_in_the_browser(sqlite_url: str, tmp_path: Path) -> None:
    """An agent who types /admin/rules sees a refusal, not the editor."""
    await create_accounts(sqlite_url, {"bob": ("bob-password", "agent")})
    async with running(sqlite_url, tmp_path / "srv") as server, chromium() as browser:
        page = await browser.new_page()
        await log_in(page, server.url, "bob", "bob-password")
        response = await page.goto(f"{server.url}/admin/rules")
        assert response is not None and response.status == 403
        await expect(page.locator("#rules-text")).to_have_count(0)


async def test_agents_see_each_other_viewing_and_typing(sqlite_url: str, tmp_path: Path) -> None:
    """Two agents on one dialog: each sees the other there, and sees the other typing."""
    await create_accounts(
        sqlite_url, {"alice": ("alice-password", "agent"), "bob": ("bob-password", "agent")}
    )
    async with (
        running(sqlite_url, tmp_path / "srv") as server,
        aiohttp.ClientSession() as session,
        chromium() as browser,
    ):
        sent = await post_message(session, server.url, api_message("both", text="anyone?"))
        pages = {}
        for login in ("alice", "bob"):
            context = await browser.new_context()
            page = await context.new_page()
            await log_in(page, server.url, login, f"{login}-password")
            await page.goto(f"{server.url}/inbox/dialogs/{sent['dialog_id']}")
            await expect(page.locator("body[data-live=on]")).to_have_count(1)
            pages[login] = page
        await expect(pages["alice"].locator("#presence-notice")).to_have_text(
            "bob is viewing this dialog"
        )
        await expect(pages["bob"].locator("#presence-notice")).to_have_text(
            "alice is viewing this dialog"
        )
        await pages["bob"].type("#reply-text", "On it")
        await expect(pages["alice"].locator("#presence-notice")).to_have_text(
            "bob is typing a reply…"
        )
