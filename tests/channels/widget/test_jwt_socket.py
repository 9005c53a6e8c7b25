"""JWT-signed visitors over the real WebSocket and uploads, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import jwt
import pytest
from aiohttp.test_utils import TestClient
from structlog.testing import capture_logs

from channels.widget import sign_user_id
from relaydesk.settings import Settings
from tests.channels.widget.conftest import Visitor, origin_of
from tests.channels.widget.tokens import JWT_SECRET, claims, hs256_by_hand, rsa_keys, sign
from tests.conftest import AUTH

AUDIENCE = "relaydesk"
ISSUER = "https://shop.example"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
async def jclient(aiohttp_client, settings: Settings) -> TestClient:  # type: ignore[no-untyped-def]
    """The app with HS256 tokens: signed with the shared secret."""
    from relaydesk.app import create_app

    app = create_app(settings.with_(widget_identity_secret=JWT_SECRET), bootstrap_admin=False)
    return await aiohttp_client(app)


@pytest.fixture
async def rclient(aiohttp_client, settings: Settings) -> TestClient:  # type: ignore[no-untyped-def]
    """The app with RS256 tokens (the site keeps the private key), audience and issuer."""
    from relaydesk.app import create_app

    configured = settings.with_(
        widget_identity_secret=JWT_SECRET,  # still there for HMAC-signed ids: not for JWTs
        widget_jwt_public_key=rsa_keys()[1],
        widget_jwt_audience=AUDIENCE,
        widget_jwt_issuer=ISSUER,
    )
    return await aiohttp_client(create_app(configured, bootstrap_admin=False))


@pytest.fixture
async def opened() -> AsyncIterator[list[Visitor]]:
    sockets: list[Visitor] = []
    yield sockets
    for v in sockets:
        await v.close()


async def connect(client: TestClient, opened: list[Visitor], **hello: Any) -> Visitor:
    ws = await client.ws_connect("/widget/ws", headers={"Origin": origin_of(client)})
    visitor = Visitor(ws)
    opened.append(visitor)
    await visitor.send({"type": "hello", **hello})
    visitor.welcome = await visitor.next()
    return visitor


async def contact_of(client: TestClient, dialog_id: int) -> dict[str, Any]:
    r = await client.get(f"/api/v1/dialogs/{dialog_id}", headers=AUTH)
    contact: dict[str, Any] = (await r.json())["contact"]
    return contact


async def dialog_count(client: TestClient) -> int:
    r = await client.get("/api/v1/dialogs", headers=AUTH)
    return len((await r.json())["items"])


async def known_contact(client: TestClient, email: str) -> int:
    """A contact the help desk knows from another channel (here the API), with an email."""
    r = await client.post(
        "/api/v1/messages",
        json={
            "channel": "api",
            "external_id": "crm-1",
            "contact": {"id": "crm-olga", "name": "O. Petrova", "email": email},
            "text": "from the CRM",
        },
        headers=AUTH,
    )
    assert r.status in (200, 201, 202), await r.text()
    contact_id: int = (await r.json())["contact_id"]
    return contact_id


async def test_token_user_is_stored_with_the_profile_the_site_vouches_for(
    jclient: TestClient, opened: list[Visitor]
) -> None:
    """An HS256 token's sub is the visitor; its name and email (not the page's hello) are the
    contact's profile."""
    token = sign(claims("u-1001", name="Ольга Петрова", email="olga@example.com"))
    v = await connect(jclient, opened, token=token, name="Mallory", email="mallory@example.com")
    assert v.welcome["type"] == "welcome" and v.welcome["visitor"] is None
    ack = await v.say("c_jwt-first-01", "Здравствуйте")
    contact = await contact_of(jclient, ack["message"]["dialog_id"])
    assert (contact["name"], contact["email"]) == ("Ольга Петрова", "olga@example.com")
    assert [i["address"] for i in contact["identities"]] == ["user:u-1001"]


async def test_one_conversation_across_devices_renewed_tokens_and_hmac(
    jclient: TestClient, opened: list[Visitor]
) -> None:
    """Another device with a fresh token for the same sub, and the same id signed the HMAC way,
    both see the conversation the first device wrote."""
    first = await connect(jclient, opened, token=sign(claims("u-2002", ttl=60)))
    ack = await first.say("c_jwt-device-1", "from my laptop")
    phone = await connect(jclient, opened, token=sign(claims("u-2002", ttl=3600)))
    assert [m["id"] for m in phone.welcome["messages"]] == [ack["message"]["id"]]
    hmac_user = await connect(
        jclient, opened, user_id="u-2002", user_hash=sign_user_id(JWT_SECRET, "u-2002")
    )
    assert [m["id"] for m in hmac_user.welcome["messages"]] == [ack["message"]["id"]]
    assert await dialog_count(jclient) == 1


async def test_token_email_merges_the_first_message_with_a_known_contact(
    jclient: TestClient, opened: list[Visitor]
) -> None:
    """A new user whose token carries a known contact's email writes as that contact."""
    known = await known_contact(jclient, "olga@example.com")
    v = await connect(jclient, opened, token=sign(claims("u-3003", email="OLGA@example.com")))
    ack = await v.say("c_jwt-merge-01", "it's me")
    contact = await contact_of(jclient, ack["message"]["dialog_id"])
    assert contact["id"] == known
    assert {i["channel"] for i in contact["identities"]} == {"api", "widget"}


async def test_token_profile_given_later_merges_on_the_next_connection(
    jclient: TestClient, opened: list[Visitor]
) -> None:
    """A user who wrote before the site sent its email is joined to the known contact when a
    token with the email arrives, and keeps seeing only its own widget conversation."""
    v = await connect(jclient, opened, token=sign(claims("u-4004")))
    ack = await v.say("c_jwt-later-01", "hello")
    known = await known_contact(jclient, "olga@example.com")
    assert (await contact_of(jclient, ack["message"]["dialog_id"]))["id"] != known
    again = await connect(
        jclient, opened, token=sign(claims("u-4004", name="Olga", email="olga@example.com"))
    )
    assert [m["text"] for m in again.welcome["messages"]] == ["hello"]
    contact = await contact_of(jclient, ack["message"]["dialog_id"])
    assert contact["id"] == known


async def test_rs256_token_with_audience_and_issuer_is_accepted(
    rclient: TestClient, opened: list[Visitor]
) -> None:
    """With a public key configured, a token signed with its private key is the user."""
    token = jwt.encode(
        claims("u-5005", name="Ann", aud=AUDIENCE, iss=ISSUER), rsa_keys()[0], algorithm="RS256"
    )
    v = await connect(rclient, opened, token=token)
    ack = await v.say("c_jwt-rs256-01", "signed by the shop")
    contact = await contact_of(rclient, ack["message"]["dialog_id"])
    assert contact["name"] == "Ann"


def rs(**extra: Any) -> str:
    base: dict[str, Any] = {"aud": AUDIENCE, "iss": ISSUER}
    return jwt.encode(claims("u-6006", **{**base, **extra}), rsa_keys()[0], algorithm="RS256")


REFUSED = [
    (
        "alg-none",
        lambda: jwt.encode(claims(aud=AUDIENCE, iss=ISSUER), None, algorithm="none"),
        "token_algorithm_refused",
    ),
    (
        "hs256-keyed-with-the-public-key",
        lambda: hs256_by_hand(claims(aud=AUDIENCE, iss=ISSUER), rsa_keys()[1].encode()),
        "token_algorithm_refused",
    ),
    (
        "hs256-with-the-shared-secret",
        lambda: sign(claims(aud=AUDIENCE, iss=ISSUER)),
        "token_algorithm_refused",
    ),
    ("expired", lambda: rs(exp=claims()["iat"] - 120), "token_expired"),
    ("not-yet-valid", lambda: rs(nbf=claims()["iat"] + 600), "token_not_yet_valid"),
    ("wrong-audience", lambda: rs(aud="crm"), "token_wrong_audience"),
    ("wrong-issuer", lambda: rs(iss="https://evil.example"), "token_wrong_issuer"),
    ("malformed", lambda: "eyJhbGciOiJSUzI1NiJ9.not-base64!.sig", "bad_token"),
]


@pytest.mark.parametrize(("token", "code"), [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED])
async def test_refused_token_gets_an_error_frame_and_nothing_is_stored(
    rclient: TestClient, token: Any, code: str
) -> None:
    """Each bad token is answered with its own error code, the socket is closed, the refusal is
    logged without the token, and no contact or dialog appears."""
    raw = token()
    ws = await rclient.ws_connect("/widget/ws", headers={"Origin": origin_of(rclient)})
    with capture_logs() as logs:
        await ws.send_json({"type": "hello", "token": raw, "name": "Eve"})
        error = (await ws.receive()).json()
        closing = await ws.receive()
    assert (error["type"], error["code"]) == ("error", code) and error["message"]
    assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    [refusal] = [e for e in logs if e["event"] == "widget_identity_refused"]
    assert refusal["code"] == code and raw not in repr(logs)
    assert await dialog_count(rclient) == 0


async def test_token_without_jwt_configured_is_refused(
    client: TestClient, opened: list[Visitor]
) -> None:
    """With neither a secret nor a public key a token is not trusted: identity_not_enabled."""
    v = await connect(client, opened, token=sign(claims()))
    assert v.welcome["code"] == "identity_not_enabled"


def upload_form(token: str, client_id: str) -> aiohttp.FormData:
    f = aiohttp.FormData()
    f.add_field("token", token)
    f.add_field("client_id", client_id)
    f.add_field("name", "Mallory")
    f.add_field("file", io.BytesIO(PNG), filename="receipt.png", content_type="image/png")
    return f


async def test_token_user_uploads_and_downloads_its_file(jclient: TestClient) -> None:
    """An upload signed with a token is the user's message under the token's name; the file
    comes back with a token for the same user, not to an expired token or another user."""
    origin = {"Origin": origin_of(jclient)}
    token = sign(claims("u-7007", name="Olga"))
    r = await jclient.post(
        "/widget/upload", data=upload_form(token, "f_jwt-upload1"), headers=origin
    )
    assert r.status == 200, await r.text()
    message = (await r.json())["message"]
    assert (await contact_of(jclient, message["dialog_id"]))["name"] == "Olga"
    url = f"/widget/files/{message['attachments'][0]['id']}"
    fresh = await jclient.get(url, params={"token": sign(claims("u-7007"))})
    assert fresh.status == 200 and (await fresh.read()) == PNG
    other = await jclient.get(url, params={"token": sign(claims("u-8008"))})
    assert other.status == 404
    expired = await jclient.get(url, params={"token": sign(claims("u-7007", ttl=-120))})
    assert expired.status == 403
    assert (await expired.json())["error"]["code"] == "token_expired"


async def test_upload_with_an_expired_token_is_refused_and_not_stored(jclient: TestClient) -> None:
    """An expired token on an upload gets a JSON 403 naming the reason; nothing is stored."""
    r = await jclient.post(
        "/widget/upload",
        data=upload_form(sign(claims("u-9009", ttl=-120)), "f_jwt-upload2"),
        headers={"Origin": origin_of(jclient)},
    )
    assert r.status == 403
    assert (await r.json())["error"] == {
        "code": "token_expired",
        "message": "the token has expired (exp)",
    }
    assert await dialog_count(jclient) == 0
