"""GET /widget.js and the demo page at / ."""

from __future__ import annotations

from aiohttp.test_utils import TestClient


async def test_script_is_served_with_caching_headers(client: TestClient) -> None:
    """The script is JavaScript with a public cache lifetime and an ETag that revalidates to 304."""
    r = await client.get("/widget.js")
    assert r.status == 200
    assert r.headers["Content-Type"].startswith("text/javascript")
    assert "max-age=" in r.headers["Cache-Control"] and "public" in r.headers["Cache-Control"]
    body = await r.text()
    assert "attachShadow" in body and "/widget/ws" in body
    again = await client.get("/widget.js", headers={"If-None-Match": r.headers["ETag"]})
    assert again.status == 304


async def test_demo_page_embeds_the_widget_and_points_to_the_inbox(client: TestClient) -> None:
    """/ is the demo: the widget script, a link to the inbox, and the API quick start."""
    r = await client.get("/")
    page = await r.text()
    assert '<script src="/widget.js"' in page
    assert 'href="/inbox"' in page
    assert "/api/v1/messages" in page and f"http://{client.host}:{client.port}/widget.js" in page
