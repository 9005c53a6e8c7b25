"""GET /admin/reports: the dashboard shows the API's figures as server-rendered SVG charts."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from inbox.reports_page import duration, percent
from storage import Database
from tests.conftest import AUTH
from tests.dialogs.reports.history import generate, store
from tests.dialogs.reports.test_history import PERIOD, app_settings
from tests.inbox.web_helpers import add_agent, log_in


@pytest.fixture
async def client(aiohttp_client, db_url: str, tmp_path: Path) -> TestClient:  # type: ignore[no-untyped-def]
    from relaydesk.app import create_app

    db = Database(db_url)
    try:
        await store(db, generate(n_dialogs=1500, seed=3))
    finally:
        await db.dispose()
    app = create_app(app_settings(db_url, tmp_path), bootstrap_admin=False)
    client: TestClient = await aiohttp_client(app)
    await add_agent(client, "lead", "lead-password", role="admin")
    await log_in(client, "lead", "lead-password")  # the page is behind the /admin login
    return client


async def test_the_page_is_for_admins_only(client: TestClient) -> None:
    """Logged out, the dashboard sends to the login form; an agent is refused."""
    client.session.cookie_jar.clear()
    r = await client.get("/admin/reports", params=PERIOD, allow_redirects=False)
    assert r.status in (302, 303) and "/login" in r.headers["Location"]
    await add_agent(client, "ann", "ann-password")
    await log_in(client, "ann", "ann-password")
    r = await client.get("/admin/reports", params=PERIOD, allow_redirects=False)
    assert r.status == 403


async def api_summary(client: TestClient, **extra: str) -> dict[str, Any]:
    r = await client.get("/api/v1/reports/summary", params={**PERIOD, **extra}, headers=AUTH)
    return dict(await r.json())


async def test_page_shows_the_api_figures(client: TestClient) -> None:
    """Tiles, the per-agent table and the charts carry the same figures as the API."""
    r = await client.get("/admin/reports", params=PERIOD)
    assert r.status == 200 and r.content_type == "text/html"
    page = await r.text()
    totals = (await api_summary(client))["totals"]
    assert f"New dialogs<b>{totals['dialogs']}</b>" in page
    assert f"First response (median)<b>{duration(totals['first_response_median_s'])}</b>" in page
    assert f"SLA attainment<b>{percent(totals['sla_attainment'])}</b>" in page
    for agent in (await api_summary(client))["agents"]:
        row = f"<tr><td>{agent['agent']}</td><td>{agent['tasks_resolved']}</td>"
        assert row in page
    assert page.count("<svg") == 4  # volume, response times, SLA, heat map
    assert "wsparcie-łódź" in page and "возвраты" in page


async def test_filters_are_the_apis_and_are_escaped(client: TestClient) -> None:
    """A filtered page shows the filtered figures; hostile input comes back inert."""
    page = await (await client.get("/admin/reports", params={**PERIOD, "channel": "email"})).text()
    totals = (await api_summary(client, channel="email"))["totals"]
    assert f"New dialogs<b>{totals['dialogs']}</b>" in page
    hostile = '"><script>alert(1)</script>'
    page = await (await client.get("/admin/reports", params={**PERIOD, "tag": hostile})).text()
    assert "<script>alert" not in page and escape(hostile, quote=True) in page


async def test_bad_input_is_a_400_page_naming_it(client: TestClient) -> None:
    r = await client.get("/admin/reports", params={"from": "someday"})
    assert r.status == 400
    assert "from: &#x27;someday&#x27; is not a date" in await r.text()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_charts_render_in_a_browser(client: TestClient) -> None:
    """Headless Chromium draws the charts: bars and points with real sizes, no script errors."""
    from playwright.async_api import async_playwright

    errors: list[str] = []
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path="/usr/bin/chromium")
        try:
            context = await browser.new_context()
            await context.add_cookies(
                [
                    {"name": c.key, "value": c.value, "url": str(client.make_url("/"))}
                    for c in client.session.cookie_jar
                ]
            )
            page = await context.new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            query = "&".join(f"{k}={v}" for k, v in PERIOD.items())
            await page.goto(str(client.make_url(f"/admin/reports?{query}")))
            bars = await page.locator("svg.chart rect").count()
            box = await page.locator("svg.chart").first.bounding_box()
            cells = await page.locator("svg.heat rect").count()
        finally:
            await browser.close()
    assert bars > 20 and cells == 7 * 24 and not errors
    assert box is not None and box["width"] > 300
