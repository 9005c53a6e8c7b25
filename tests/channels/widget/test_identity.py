"""Signed identity for a host site's logged-in users, and the name/email form that merges."""

from __future__ import annotations

import aiohttp
from aiohttp.test_utils import TestClient

from channels.widget import sign_user_id
from tests.channels.widget.conftest import IDENTITY_SECRET, Connect, origin_of
from tests.conftest import AUTH


async def contact_of(client: TestClient, dialog_id: int) -> dict:  # type: ignore[type-arg]
    r = await client.get(f"/api/v1/dialogs/{dialog_id}", headers=AUTH)
    return (await r.json())["contact"]  # type: ignore[no-any-return]


async def test_signed_user_keeps_one_conversation_across_devices(
    wclient: TestClient, connect: Connect
) -> None:
    """A correctly signed user id is the visitor on any device: the second browser sees the
    first one's history, and the contact's identity is the user id."""
    signature = sign_user_id(IDENTITY_SECRET, "42")
    laptop = await connect(user_id="42", user_hash=signature)
    assert laptop.welcome["type"] == "welcome" and laptop.welcome["visitor"] is None
    ack = await laptop.say("c_signed-0001", "I am logged in")
    phone = await connect(user_id="42", user_hash=signature.upper())
    assert [m["id"] for m in phone.welcome["messages"]] == [ack["message"]["id"]]
    contact = await contact_of(wclient, ack["message"]["dialog_id"])
    assert any(i["address"] == "user:42" for i in contact["identities"])


async def test_wrong_signature_is_refused(wclient: TestClient) -> None:
    """A user id with someone else's signature gets bad_identity and the socket is closed."""
    ws = await wclient.ws_connect("/widget/ws", headers={"Origin": origin_of(wclient)})
    await ws.send_json(
        {"type": "hello", "user_id": "42", "user_hash": sign_user_id(IDENTITY_SECRET, "43")}
    )
    assert (await ws.receive()).json()["code"] == "bad_identity"
    assert (await ws.receive()).type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)


async def test_signed_identity_off_without_a_secret(client: TestClient) -> None:
    """With no RELAYDESK_WIDGET_IDENTITY_SECRET a signed hello is refused, not trusted."""
    ws = await client.ws_connect(
        "/widget/ws", headers={"Origin": f"http://{client.host}:{client.port}"}
    )
    await ws.send_json({"type": "hello", "user_id": "42", "user_hash": sign_user_id("", "42")})
    assert (await ws.receive()).json()["code"] == "identity_not_enabled"
    await ws.close()


async def test_email_merges_the_visitor_with_the_known_contact(
    wclient: TestClient, connect: Connect
) -> None:
    """A visitor who gives the email of a contact known from another channel becomes that
    contact (its dialog moves); it still sees only its own widget conversation."""
    r = await wclient.post(
        "/api/v1/messages",
        json={
            "channel": "api",
            "external_id": "crm-1",
            "contact": {"id": "crm-ann", "name": "Ann", "email": "Ann@Example.com"},
            "text": "private note from the CRM",
        },
        headers=AUTH,
    )
    known = (await r.json())["contact_id"]
    v = await connect()
    ack = await v.say("c_merge-0001", "hello, it's Ann")
    assert (await contact_of(wclient, ack["message"]["dialog_id"]))["id"] != known
    await v.send({"type": "identify", "name": "Ann", "email": "ann@example.com"})
    assert (await v.next("identified"))["email"] == "ann@example.com"
    contact = await contact_of(wclient, ack["message"]["dialog_id"])
    assert contact["id"] == known
    assert {i["channel"] for i in contact["identities"]} == {"api", "widget"}
    again = await connect(visitor=v.welcome["visitor"])
    assert [m["text"] for m in again.welcome["messages"]] == ["hello, it's Ann"]


async def test_email_of_no_known_contact_is_saved_on_the_visitor(
    wclient: TestClient, connect: Connect
) -> None:
    """A new email is recorded on the visitor's own contact, with the name."""
    v = await connect()
    ack = await v.say("c_newmail-01", "hi")
    await v.send({"type": "identify", "name": "Boris", "email": "boris@example.com"})
    await v.next("identified")
    contact = await contact_of(wclient, ack["message"]["dialog_id"])
    assert contact["name"] == "Boris"


async def test_bad_email_is_a_bad_frame(connect: Connect) -> None:
    """A malformed email in the form is refused with a message naming the field."""
    v = await connect()
    await v.send({"type": "identify", "name": "X", "email": "not-an-email"})
    error = await v.next("error")
    assert error["code"] == "bad_frame" and "email" in error["message"]
