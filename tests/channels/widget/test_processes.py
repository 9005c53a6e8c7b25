"""Several processes on one PostgreSQL: a reply stored through one reaches a socket on another."""

from __future__ import annotations

from pathlib import Path

from aiohttp.test_utils import TestClient

from relaydesk.app import create_app
from relaydesk.settings import Settings
from tests.channels.widget.conftest import Visitor, origin_of
from tests.conftest import AUTH, BASIC_RULES, TOKEN


async def test_reply_through_another_process_reaches_the_socket(
    aiohttp_client,
    pg_url: str,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    """The visitor's socket is on process A; the agent replies through process B's API; A
    hears of it through LISTEN/NOTIFY and pushes it."""
    settings = Settings(
        database_url=pg_url, api_token=TOKEN, data_dir=tmp_path / "data", rules_path=BASIC_RULES
    )
    a: TestClient = await aiohttp_client(create_app(settings, bootstrap_admin=False))
    b: TestClient = await aiohttp_client(create_app(settings, bootstrap_admin=False))
    visitor = Visitor(await a.ws_connect("/widget/ws", headers={"Origin": origin_of(a)}))
    await visitor.send({"type": "hello"})
    await visitor.next("welcome")
    ack = await visitor.say("c_two-procs1", "hello from A")
    r = await b.post(
        f"/api/v1/dialogs/{ack['message']['dialog_id']}/replies",
        json={"text": "answered via B"},
        headers=AUTH,
    )
    assert r.status == 201
    reply_id = (await r.json())["id"]
    frame = await visitor.next("message")
    while frame["message"]["id"] != reply_id:
        frame = await visitor.next("message")
    assert frame["message"]["text"] == "answered via B"
    await visitor.close()
