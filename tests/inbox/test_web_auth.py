"""Login, sessions, CSRF and roles of the web pages, and the API through the session cookie."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import AUTH
from tests.inbox.web_helpers import add_agent, csrf_in, log_in


async def test_login_opens_the_inbox(client: TestClient) -> None:
    """A right password sets an HttpOnly, SameSite=Lax session cookie and lands in the inbox."""
    await add_agent(client, "alice", "s3cret-pass")
    form = await client.get("/login?next=/inbox/account")
    r = await client.post(
        "/login",
        data={
            "login": "alice",
            "password": "s3cret-pass",
            "csrf": csrf_in(await form.text()),
            "next": "/inbox/account",
        },
        allow_redirects=False,
    )
    assert r.status == 302 and r.headers["Location"] == "/inbox/account"
    cookie = next(v for v in r.headers.getall("Set-Cookie") if v.startswith("rd_session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    page = await client.get("/inbox")
    assert page.status == 200 and "alice" in await page.text()


async def test_secure_cookie_behind_https_proxy(client: TestClient) -> None:
    """Behind a TLS proxy (X-Forwarded-Proto: https) the session cookie is Secure."""
    await add_agent(client, "alice", "pw-alice-1")
    form = await client.get("/login")
    r = await client.post(
        "/login",
        data={"login": "alice", "password": "pw-alice-1", "csrf": csrf_in(await form.text())},
        headers={"X-Forwarded-Proto": "https"},
        allow_redirects=False,
    )
    cookie = next(v for v in r.headers.getall("Set-Cookie") if v.startswith("rd_session="))
    assert "Secure" in cookie


@pytest.mark.parametrize(
    ("login", "password"),
    [("alice", "wrong"), ("nobody", "s3cret-pass")],
    ids=["bad-password", "unknown-login"],
)
async def test_bad_credentials_are_refused(client: TestClient, login: str, password: str) -> None:
    """A wrong password or unknown login is a 401 form with a message and no session."""
    await add_agent(client, "alice", "s3cret-pass")
    form = await client.get("/login", headers={"Accept-Language": "ru"})
    r = await client.post(
        "/login",
        data={"login": login, "password": password, "csrf": csrf_in(await form.text())},
        headers={"Accept-Language": "ru"},
        allow_redirects=False,
    )
    assert r.status == 401
    assert "Неверный логин или пароль" in await r.text()
    assert not any(v.startswith("rd_session=") for v in r.headers.getall("Set-Cookie", []))
    assert (await client.get("/inbox", allow_redirects=False)).status == 302


async def test_login_form_needs_its_csrf_token(client: TestClient) -> None:
    """A login posted from elsewhere (no token from the form) is refused."""
    await add_agent(client, "alice", "s3cret-pass")
    r = await client.post(
        "/login", data={"login": "alice", "password": "s3cret-pass"}, allow_redirects=False
    )
    assert r.status == 403
    assert (await client.get("/inbox", allow_redirects=False)).status == 302


@pytest.mark.parametrize(
    "path", ["/inbox", "/inbox/dialogs/1", "/admin/rules", "/admin/agents", "/inbox/account"]
)
async def test_pages_redirect_to_login(client: TestClient, path: str) -> None:
    """Every page under /inbox and /admin sends a visitor without a session to /login."""
    r = await client.get(path, allow_redirects=False)
    assert r.status == 302
    assert r.headers["Location"].startswith("/login?next=")


async def test_unknown_paths_under_inbox_are_protected_too(client: TestClient) -> None:
    """The guard is by prefix: a page added later is protected without doing anything."""
    r = await client.get("/admin/some-future-page", allow_redirects=False)
    assert r.status == 302


async def test_no_open_redirect_after_login(client: TestClient) -> None:
    """`next` pointing at another site is ignored."""
    await add_agent(client, "alice", "s3cret-pass")
    form = await client.get("/login")
    r = await client.post(
        "/login",
        data={
            "login": "alice",
            "password": "s3cret-pass",
            "csrf": csrf_in(await form.text()),
            "next": "//evil.example/x",
        },
        allow_redirects=False,
    )
    assert r.headers["Location"] == "/inbox"


async def test_agent_cannot_open_admin_pages_or_change_rules(client: TestClient) -> None:
    """An agent gets 403 on /admin pages and on PUT /api/v1/rules through the session."""
    await add_agent(client, "bob", "bob-password")
    csrf = await log_in(client, "bob", "bob-password")
    for path in ("/admin/rules", "/admin/agents", "/admin"):
        r = await client.get(path, allow_redirects=False)
        assert r.status == 403, path
    r = await client.put(
        "/api/v1/rules", json={"text": "version: 1\n"}, headers={"X-CSRF-Token": csrf}
    )
    assert r.status == 403
    assert (await r.json())["error"]["code"] == "forbidden"


async def test_admin_opens_admin_pages(client: TestClient) -> None:
    """An admin sees the rules editor with the file's text and the agents page."""
    await add_agent(client, "root", "root-password", role="admin")
    await log_in(client, "root", "root-password")
    rules = await client.get("/admin/rules")
    assert rules.status == 200 and "queues:" in await rules.text()
    agents = await client.get("/admin/agents")
    assert agents.status == 200 and 'data-agent="root"' in await agents.text()


async def test_api_accepts_the_session_with_csrf_header(client: TestClient) -> None:
    """Reads work with the cookie alone; writes need X-CSRF-Token matching the session."""
    await add_agent(client, "alice", "s3cret-pass")
    csrf = await log_in(client, "alice", "s3cret-pass")
    r = await client.post(
        "/api/v1/messages",
        json={"channel": "api", "external_id": "m1", "contact": {"id": "c1"}, "text": "hi"},
        headers=AUTH,
    )
    dialog_id = (await r.json())["dialog_id"]
    assert (await client.get("/api/v1/dialogs")).status == 200
    no_token = await client.post(f"/api/v1/dialogs/{dialog_id}/notes", json={"text": "n"})
    assert no_token.status == 403
    assert (await no_token.json())["error"]["code"] == "csrf"
    wrong = await client.post(
        f"/api/v1/dialogs/{dialog_id}/notes", json={"text": "n"}, headers={"X-CSRF-Token": "x"}
    )
    assert wrong.status == 403
    ok = await client.post(
        f"/api/v1/dialogs/{dialog_id}/notes", json={"text": "n"}, headers={"X-CSRF-Token": csrf}
    )
    assert ok.status == 201 and (await ok.json())["author"] == "alice"


async def test_forged_cookie_is_not_a_session(client: TestClient) -> None:
    """A cookie not signed with the server's key is ignored: the API answers 401."""
    client.session.cookie_jar.update_cookies({"rd_session": "eyJsIjoiYWRtaW4ifQ.abc.def"})
    assert (await client.get("/api/v1/dialogs")).status == 401
    assert (await client.get("/inbox", allow_redirects=False)).status == 302


async def test_logout_needs_csrf_and_ends_the_session(client: TestClient) -> None:
    """POST /logout without the token is refused; with it the session is gone."""
    await add_agent(client, "alice", "s3cret-pass")
    csrf = await log_in(client, "alice", "s3cret-pass")
    assert (await client.post("/logout", data={}, allow_redirects=False)).status == 403
    assert (await client.get("/inbox", allow_redirects=False)).status == 200
    r = await client.post("/logout", data={"csrf": csrf}, allow_redirects=False)
    assert r.status == 302 and r.headers["Location"] == "/login"
    assert (await client.get("/inbox", allow_redirects=False)).status == 302


async def test_page_forms_need_csrf(client: TestClient) -> None:
    """A state-changing form under /inbox without the token is refused and changes nothing."""
    await add_agent(client, "alice", "s3cret-pass", token="rd_old-token")
    await log_in(client, "alice", "s3cret-pass")
    r = await client.post("/inbox/account/token", data={})
    assert r.status == 403
    still = await client.get("/api/v1/dialogs", headers={"Authorization": "Bearer rd_old-token"})
    assert still.status == 200


async def test_regenerated_token_replaces_the_old_one(client: TestClient) -> None:
    """The account page shows a new API token once; it works and the old one stops working."""
    await add_agent(client, "alice", "s3cret-pass", token="rd_old-token")
    csrf = await log_in(client, "alice", "s3cret-pass")
    r = await client.post("/inbox/account/token", data={"csrf": csrf})
    assert r.status == 200
    html = await r.text()
    start = html.index('id="new-token">') + len('id="new-token">')
    token = html[start : html.index("</pre>", start)]
    assert token.startswith("rd_")
    new = await client.get("/api/v1/dialogs", headers={"Authorization": f"Bearer {token}"})
    assert new.status == 200
    old = await client.get("/api/v1/dialogs", headers={"Authorization": "Bearer rd_old-token"})
    assert old.status == 401


async def test_language_switch_and_accept_language(client: TestClient) -> None:
    """Accept-Language picks Russian; the switch cookie wins over it."""
    ru = await client.get("/login", headers={"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"})
    assert "Вход в Relaydesk" in await ru.text()
    await client.get("/lang/en?next=/login")
    en = await client.get("/login", headers={"Accept-Language": "ru"})
    assert "Log in to Relaydesk" in await en.text()
