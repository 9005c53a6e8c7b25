"""The widget's WebSocket against the real app on SQLite and PostgreSQL: store, dedup, resume."""

from __future__ import annotations

import asyncio

import aiohttp
import orjson
import pytest
from aiohttp.test_utils import TestClient

from tests.channels.widget.conftest import Connect, origin_of
from tests.conftest import AUTH


async def dialog(client: TestClient, dialog_id: int) -> dict:  # type: ignore[type-arg]
    r = await client.get(f"/api/v1/dialogs/{dialog_id}", headers=AUTH)
    assert r.status == 200
    return await r.json()  # type: ignore[no-any-return]


async def reply(client: TestClient, dialog_id: int, text: str) -> dict:  # type: ignore[type-arg]
    r = await client.post(f"/api/v1/dialogs/{dialog_id}/replies", json={"text": text}, headers=AUTH)
    assert r.status == 201, await r.text()
    return await r.json()  # type: ignore[no-any-return]


async def reply_sent(client: TestClient, dialog_id: int, text: str) -> dict:  # type: ignore[type-arg]
    """Post a reply and return once the outbox has sent it (its message_updated event)."""
    async with client.get("/api/v1/events", headers=AUTH) as stream:
        assert (await stream.content.readline()).startswith(b": connected")
        sent = await reply(client, dialog_id, text)
        while True:
            line = await asyncio.wait_for(stream.content.readline(), 10)
            if line.startswith(b"data:"):
                event = orjson.loads(line[5:])
                if event["type"] == "message_updated" and event["message_id"] == sent["id"]:
                    return sent


async def test_first_visit_gets_an_id_and_a_message_is_stored(
    wclient: TestClient, connect: Connect
) -> None:
    """A new visitor is given an id; its message is acknowledged once stored in a widget dialog."""
    v = await connect()
    assert v.welcome["type"] == "welcome" and v.welcome["visitor"].startswith("v_")
    assert v.welcome["messages"] == []
    ack = await v.say("c_first-message", "Где мой заказ?")
    assert ack["duplicate"] is False and ack["client_id"] == "c_first-message"
    stored = await dialog(wclient, ack["message"]["dialog_id"])
    assert stored["channel"] == "widget"
    [m] = stored["messages"]
    assert (m["direction"], m["text"], m["id"]) == ("in", "Где мой заказ?", ack["message"]["id"])
    assert m["external_id"] == f"{v.welcome['visitor']}/c_first-message"


async def test_same_client_id_is_stored_once_even_on_a_new_connection(
    wclient: TestClient, connect: Connect
) -> None:
    """A message sent again (after a reconnect, with the same client id) is acknowledged as the
    original, and the dialog still has one message."""
    v = await connect()
    first = await v.say("c_resent-0001", "hello")
    await v.close()
    again = await connect(visitor=v.welcome["visitor"])
    second = await again.say("c_resent-0001", "hello")
    assert second["duplicate"] is True
    assert second["message"]["id"] == first["message"]["id"]
    assert len((await dialog(wclient, first["message"]["dialog_id"]))["messages"]) == 1


async def test_same_client_id_from_two_visitors_are_two_messages(connect: Connect) -> None:
    """Client ids are per visitor: another visitor's equal id neither collides nor leaks."""
    a, b = await connect(), await connect()
    ack_a = await a.say("c_same-id-01", "from a")
    ack_b = await b.say("c_same-id-01", "from b")
    assert ack_b["duplicate"] is False
    assert ack_a["message"]["id"] != ack_b["message"]["id"]


async def test_agent_reply_arrives_live(wclient: TestClient, connect: Connect) -> None:
    """A reply posted through the REST API is pushed to the visitor's open socket."""
    v = await connect()
    ack = await v.say("c_needs-reply", "help")
    sent = await reply(wclient, ack["message"]["dialog_id"], "Hello, how can we help?")
    frame = await v.next("message")
    while frame["message"]["direction"] != "out":  # the visitor's own message may echo first
        frame = await v.next("message")
    assert frame["message"]["id"] == sent["id"]
    assert frame["message"]["text"] == "Hello, how can we help?"


async def test_resume_returns_what_was_missed_and_history_on_reload(
    wclient: TestClient, connect: Connect
) -> None:
    """Reconnecting with `since` brings the replies stored meanwhile; a reload (no `since`)
    brings the whole conversation in order, each message once."""
    v = await connect()
    ack = await v.say("c_before-drop", "first")
    visitor, dialog_id = v.welcome["visitor"], ack["message"]["dialog_id"]
    seen = await reply(wclient, dialog_id, "seen live")
    frame = await v.next("message")
    while frame["message"]["id"] != seen["id"]:
        frame = await v.next("message")
    await v.close()
    missed = await reply_sent(wclient, dialog_id, "answered while you were away")
    resumed = await connect(visitor=visitor, since=frame["message"]["visible_at"])
    assert missed["id"] in [m["id"] for m in resumed.welcome["messages"]]
    reloaded = await connect(visitor=visitor)
    ids = [m["id"] for m in reloaded.welcome["messages"]]
    assert ids == [ack["message"]["id"], seen["id"], missed["id"]]
    assert [m["direction"] for m in reloaded.welcome["messages"]] == ["in", "out", "out"]


async def test_a_visitors_other_tab_sees_its_messages(connect: Connect) -> None:
    """A message written in one tab appears live in the visitor's other tab."""
    first = await connect()
    second = await connect(visitor=first.welcome["visitor"])
    ack = await first.say("c_other-tab1", "written in tab one")
    frame = await second.next("message")
    assert frame["message"]["id"] == ack["message"]["id"]
    assert frame["message"]["client_id"] == "c_other-tab1"


async def test_notes_are_never_shown_to_the_visitor(wclient: TestClient, connect: Connect) -> None:
    """An internal note stays with the agents: not in the history, not pushed."""
    v = await connect()
    ack = await v.say("c_note-test1", "hi")
    dialog_id = ack["message"]["dialog_id"]
    r = await wclient.post(
        f"/api/v1/dialogs/{dialog_id}/notes", json={"text": "VIP, be nice"}, headers=AUTH
    )
    assert r.status == 201
    sent = await reply(wclient, dialog_id, "visible")
    frame = await v.next("message")
    while frame["message"]["id"] != sent["id"]:
        assert frame["message"]["text"] != "VIP, be nice"
        frame = await v.next("message")
    again = await connect(visitor=v.welcome["visitor"])
    assert "VIP, be nice" not in [m["text"] for m in again.welcome["messages"]]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("not json", "frame is not JSON"),
        ('["a list"]', "frame must be a JSON object with a type"),
        ('{"type": "shout"}', "type"),
        ('{"type": "message", "client_id": "c_long-text", "text": "' + "x" * 4001 + '"}', "text"),
        ('{"type": "message", "client_id": "bad id!", "text": "hi"}', "client_id"),
        ('{"type": "message", "client_id": "c_extra-key", "text": "hi", "x": 1}', "x"),
        ('{"type": "hello"}', "hello was already sent"),
        ('{"type": "ping", "pad": "' + "x" * 20000 + '"}', "larger than"),
    ],
    ids=[
        "not-json",
        "not-object",
        "unknown-type",
        "text-too-long",
        "bad-client-id",
        "extra-key",
        "second-hello",
        "frame-too-large",
    ],
)
async def test_bad_frames_get_an_error_and_the_socket_stays(
    connect: Connect, raw: str, expected: str
) -> None:
    """A malformed frame is answered with a bad_frame error naming the problem; the connection
    goes on working."""
    v = await connect()
    await v.ws.send_str(raw)
    error = await v.next("error")
    assert error["code"] == "bad_frame" and expected in error["message"]
    assert (await v.say("c_after-error", "still here"))["duplicate"] is False


async def test_first_frame_must_be_hello(wclient: TestClient) -> None:
    """A socket that starts with anything but hello is told so and closed."""
    ws = await wclient.ws_connect("/widget/ws", headers={"Origin": origin_of(wclient)})
    await ws.send_json({"type": "message", "client_id": "c_no-hello-1", "text": "hi"})
    error = (await ws.receive()).json()
    assert error["code"] == "bad_frame" and "hello" in error["message"]
    assert (await ws.receive()).type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)


@pytest.mark.parametrize(
    "visitor", ["v_short", "user:1", "../../etc"], ids=["short", "user", "path"]
)
async def test_malformed_visitor_id_is_refused(wclient: TestClient, visitor: str) -> None:
    """A visitor id the server could not have issued (or one posing as a signed user) is refused."""
    ws = await wclient.ws_connect("/widget/ws", headers={"Origin": origin_of(wclient)})
    await ws.send_json({"type": "hello", "visitor": visitor})
    assert (await ws.receive()).json()["code"] == "bad_visitor"


@pytest.mark.parametrize(
    "origin", ["https://evil.example", None, "null"], ids=["other-site", "missing", "null"]
)
async def test_origin_not_allowed_is_refused(wclient: TestClient, origin: str | None) -> None:
    """By default only the server's own origin may open the socket: others get a JSON 403."""
    headers = {"Origin": origin} if origin else {}
    with pytest.raises(aiohttp.WSServerHandshakeError) as caught:
        await wclient.ws_connect("/widget/ws", headers=headers)
    assert caught.value.status == 403
    r = await wclient.get(
        "/widget/ws", headers={**headers, "Connection": "Upgrade", "Upgrade": "websocket"}
    )
    assert (await r.json())["error"]["code"] == "origin_not_allowed"


async def test_visitor_rate_limit_refuses_and_stores_nothing_extra(
    wclient: TestClient, connect: Connect
) -> None:
    """Past its burst a visitor's messages are refused with retry_after and not stored; the
    ones acknowledged are exactly the ones stored."""
    v = await connect()
    acked, refused = [], []
    for i in range(15):
        await v.send({"type": "message", "client_id": f"c_burst-{i:04d}", "text": f"m{i}"})
        frame = await v.next("ack", "error")
        (acked if frame["type"] == "ack" else refused).append(frame)
    assert refused and all(f["code"] == "rate_limited" and f["retry_after"] > 0 for f in refused)
    stored = await dialog(wclient, acked[0]["message"]["dialog_id"])
    assert len(stored["messages"]) == len(acked)


async def test_ip_rate_limit_spans_visitors(connect: Connect) -> None:
    """Many visitors from one address, each under its own limit, hit the per-IP limit."""
    visitors = [await connect() for _ in range(6)]
    codes = []
    for n, v in enumerate(visitors):
        for i in range(9):
            await v.send({"type": "message", "client_id": f"c_ip-{n}-{i:04d}", "text": "x"})
            frame = await v.next("ack", "error")
            codes.append(frame.get("code", frame["type"]))
    assert "rate_limited" in codes and "ack" in codes


async def test_connection_rate_limit_per_ip(wclient: TestClient) -> None:
    """Opening sockets faster than the per-IP connection rate gets 429 with Retry-After."""
    statuses = []
    for _ in range(30):
        r = await wclient.get(
            "/widget/ws",
            headers={"Origin": origin_of(wclient), "Connection": "Upgrade", "Upgrade": "nope"},
        )
        statuses.append(r.status)
        if r.status == 429:
            assert int(r.headers["Retry-After"]) >= 1
            assert (await r.json())["error"]["code"] == "rate_limited"
    assert 429 in statuses


async def test_agent_typing_reaches_the_visitor(wclient: TestClient, connect: Connect) -> None:
    """POST /api/v1/dialogs/{id}/typing shows the typing indicator in the visitor's widget."""
    v = await connect()
    ack = await v.say("c_typing-001", "hi")
    r = await wclient.post(f"/api/v1/dialogs/{ack['message']['dialog_id']}/typing", headers=AUTH)
    assert r.status == 204
    assert (await v.next("typing"))["type"] == "typing"


async def test_visitor_typing_reaches_agents(wclient: TestClient, connect: Connect) -> None:
    """A visitor's typing frame becomes a visitor_typing event on the agents' event stream."""
    v = await connect()
    ack = await v.say("c_typing-002", "hi")
    async with wclient.get("/api/v1/events", headers=AUTH) as stream:
        assert (await stream.content.readline()).startswith(b": connected")
        await v.send({"type": "typing"})
        while True:
            line = await asyncio.wait_for(stream.content.readline(), 10)
            if line.startswith(b"data:") and b"visitor_typing" in line:
                break
    assert str(ack["message"]["dialog_id"]).encode() in line


async def test_pushed_reply_becomes_delivered_then_read(
    wclient: TestClient, connect: Connect
) -> None:
    """A reply pushed to the widget is recorded delivered; the widget's read frame (chat open and
    in view) records it read; the agents' event stream hears both."""
    v = await connect()
    ack = await v.say("c_statuses-1", "hi")
    async with wclient.get("/api/v1/events", headers=AUTH) as stream:
        assert (await stream.content.readline()).startswith(b": connected")
        sent = await reply(wclient, ack["message"]["dialog_id"], "an answer")
        frame = await v.next("message")
        while frame["message"]["id"] != sent["id"]:
            frame = await v.next("message")
        assert frame["message"]["status"] == "sent"
        await v.send({"type": "read", "message_id": sent["id"]})
        statuses = []
        while statuses[-1:] != ["read"]:
            line = await asyncio.wait_for(stream.content.readline(), 10)
            if line.startswith(b"data:"):
                event = orjson.loads(line[5:])
                if event["type"] == "message_updated" and event["message_id"] == sent["id"]:
                    statuses.append(event["status"])
    assert statuses == ["sent", "delivered", "read"]
    stored = await dialog(wclient, ack["message"]["dialog_id"])
    assert [m["status"] for m in stored["messages"] if m["direction"] == "out"] == ["read"]


async def test_reply_not_yet_sent_is_not_shown(
    aiohttp_client,
    widget_settings,  # type: ignore[no-untyped-def]
) -> None:
    """A reply still queued in the outbox (here no process sends) is not in the history: the
    visitor sees a reply once the outbox has handed it to the widget."""
    from relaydesk.app import create_app

    client = await aiohttp_client(
        create_app(widget_settings.with_(workers="ingest"), bootstrap_admin=False)
    )
    origin = origin_of(client)
    ws = await client.ws_connect("/widget/ws", headers={"Origin": origin})
    await ws.send_json({"type": "hello"})
    visitor = (await ws.receive_json())["visitor"]
    await ws.send_json({"type": "message", "client_id": "c_queued-01", "text": "hi"})
    ack = await ws.receive_json()
    while ack["type"] != "ack":
        ack = await ws.receive_json()
    queued = await reply(client, ack["message"]["dialog_id"], "still queued")
    assert queued["status"] == "queued"
    await ws.close()
    again = await client.ws_connect("/widget/ws", headers={"Origin": origin})
    await again.send_json({"type": "hello", "visitor": visitor})
    welcome = await again.receive_json()
    assert [m["text"] for m in welcome["messages"]] == ["hi"]
    await again.close()
