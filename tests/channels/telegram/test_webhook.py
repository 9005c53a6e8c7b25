"""POST /webhooks/telegram against a real channel, the real ingestion core and the fake Bot API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from storage import Database
from storage.files import load_blob
from storage.tables import attachments, contacts, messages
from tests.channels.telegram.conftest import SECRET, ChannelFactory, Core, load
from tests.fakes.telegram_api import FakeTelegram, server_error

HEADERS = {"X-Telegram-Bot-Api-Secret-Token": SECRET}


async def webhook_client(
    aiohttp_client: Any, make_channel: ChannelFactory, **config: Any
) -> TestClient:
    channel = make_channel(**config)
    await channel.start()
    app = web.Application()
    for method, path, handler in channel.routes():
        app.router.add_route(method, path, handler)
    client: TestClient = await aiohttp_client(app)
    return client


async def post(client: TestClient, name: str, headers: dict[str, str] = HEADERS) -> int:
    response = await client.post("/webhooks/telegram", json=load(name), headers=headers)
    return response.status


async def stored(db: Database) -> list[Any]:
    async with db.read() as tx:
        result = await tx.execute(select(messages).order_by(messages.c.id))
        return list(result)


async def test_wrong_or_missing_secret_refused(
    aiohttp_client: Any, make_channel: ChannelFactory, core: Core
) -> None:
    """A wrong or missing secret token is answered 401 and nothing is stored."""
    client = await webhook_client(aiohttp_client, make_channel)
    wrong = {"X-Telegram-Bot-Api-Secret-Token": "nope"}
    response = await client.post("/webhooks/telegram", json=load("text_private"), headers=wrong)
    assert response.status == 401
    assert (await response.json())["error"]["code"] == "unauthorized"
    assert await post(client, "text_private", headers={}) == 401
    assert await stored(core.db) == []


async def test_malformed_json_is_400(
    aiohttp_client: Any, make_channel: ChannelFactory, core: Core
) -> None:
    """A body that is not JSON, or not an update, is a 400 with a JSON error."""
    client = await webhook_client(aiohttp_client, make_channel)
    response = await client.post("/webhooks/telegram", data=b"{not json", headers=HEADERS)
    assert response.status == 400
    assert (await response.json())["error"]["code"] == "malformed_json"
    response = await client.post("/webhooks/telegram", json={"update_id": "x"}, headers=HEADERS)
    assert response.status == 400
    assert await stored(core.db) == []


async def test_text_stored_before_200(
    aiohttp_client: Any, make_channel: ChannelFactory, core: Core
) -> None:
    """A 200 means the message is already committed."""
    client = await webhook_client(aiohttp_client, make_channel)
    assert await post(client, "text_private") == 200
    [row] = await stored(core.db)
    assert (row.channel, row.external_id, row.text) == (
        "telegram",
        "555000111:2001",
        "Где мой заказ? Order 1234",
    )


async def test_duplicates_stored_once(
    aiohttp_client: Any, make_channel: ChannelFactory, core: Core, fake: FakeTelegram
) -> None:
    """The same update twice, and the same message under another update id, are one message."""
    fake.add_file("photo-large", b"\xff\xd8 big photo", "photos/file_1.jpg")
    client = await webhook_client(aiohttp_client, make_channel)
    for name in ("text_private", "text_private", "same_message_other_update", "photo", "photo"):
        assert await post(client, name) == 200
    rows = await stored(core.db)
    assert [r.external_id for r in rows] == ["555000111:2001", "555000111:2005"]
    assert len(fake.calls_to("getFile")) == 1  # the redelivered photo update was skipped whole


async def test_photo_fetched_and_stored(
    aiohttp_client: Any, make_channel: ChannelFactory, core: Core, fake: FakeTelegram
) -> None:
    """The largest photo size is fetched with getFile and stored as the message's attachment."""
    fake.add_file("photo-large", b"\xff\xd8 the large one", "photos/file_9.jpg")
    client = await webhook_client(aiohttp_client, make_channel)
    assert await post(client, "photo") == 200
    [call] = fake.calls_to("getFile")
    assert call.params["file_id"] == "photo-large"
    async with core.db.read() as tx:
        [att] = list(await tx.execute(select(attachments)))
    assert (att.filename, att.content_type) == ("photo_pl.jpg", "image/jpeg")
    assert load_blob(core.files_root, att.sha256) == b"\xff\xd8 the large one"


async def test_album_items_are_messages_of_one_group(
    aiohttp_client: Any, make_channel: ChannelFactory, core: Core, fake: FakeTelegram
) -> None:
    """Each album item is its own message with an attachment; the group id is the hint."""
    fake.add_file("album-a", b"A", "photos/a.jpg")
    fake.add_file("album-b", b"B", "photos/b.jpg")
    client = await webhook_client(aiohttp_client, make_channel)
    assert await post(client, "album_1") == 200
    assert await post(client, "album_2") == 200
    rows = await stored(core.db)
    assert [r.thread_hints["media_group_id"] for r in rows] == ["13579246801357924"] * 2
    assert len({r.dialog_id for r in rows}) == 1
    async with core.db.read() as tx:
        assert (await tx.execute(select(func.count()).select_from(attachments))).scalar() == 2


async def test_file_download_failure_is_retried_by_telegram(
    aiohttp_client: Any, make_channel: ChannelFactory, core: Core, fake: FakeTelegram
) -> None:
    """getFile failing with a 5xx answers 503 (Telegram redelivers); the redelivery stores it."""
    fake.add_file("doc-1", b"%PDF-1.7", "documents/invoice.pdf")
    fake.fail("getFile", server_error())
    client = await webhook_client(aiohttp_client, make_channel)
    assert await post(client, "document") == 503
    assert await stored(core.db) == []
    assert await post(client, "document") == 200
    [row] = await stored(core.db)
    assert row.kind == "document"


async def test_local_bot_api_server_files_are_read_from_its_disk(
    aiohttp_client: Any,
    make_channel: ChannelFactory,
    core: Core,
    fake: FakeTelegram,
    tmp_path: Path,
) -> None:
    """A Bot API server in --local mode answers getFile with a path on its own disk; the file
    is read there (under the mapped directory), not downloaded."""
    server_dir, here = "/var/lib/telegram-bot-api", tmp_path / "mounted"
    (here / "documents").mkdir(parents=True)
    (here / "documents" / "invoice.pdf").write_bytes(b"%PDF-1.7 local")
    fake.add_file("doc-1", b"not served over HTTP", f"{server_dir}/documents/invoice.pdf")
    client = await webhook_client(aiohttp_client, make_channel, local_files=(server_dir, str(here)))
    assert await post(client, "document") == 200
    async with core.db.read() as tx:
        [att] = (await tx.execute(select(attachments))).all()
    assert load_blob(core.files_root, att.sha256) == b"%PDF-1.7 local"


async def test_edit_updates_message_in_place(
    aiohttp_client: Any, make_channel: ChannelFactory, core: Core
) -> None:
    """An edit rewrites the stored message: same id, new text, old text in history."""
    client = await webhook_client(aiohttp_client, make_channel)
    assert await post(client, "text_private") == 200
    [before] = await stored(core.db)
    assert await post(client, "edited_message") == 200
    [after] = await stored(core.db)
    assert after.id == before.id
    assert after.text == "Где мой заказ? Order 1235 (typo fixed)"
    assert after.edited_at is not None
    assert [h["text"] for h in after.history] == ["Где мой заказ? Order 1234"]


async def test_edit_of_unseen_message_is_ingested(
    aiohttp_client: Any, make_channel: ChannelFactory, core: Core
) -> None:
    """An edit whose original never arrived is stored as the message it now is."""
    client = await webhook_client(aiohttp_client, make_channel)
    assert await post(client, "edited_unknown_message") == 200
    [row] = await stored(core.db)
    assert (row.external_id, row.text) == ("555000111:2099", "edited before we ever saw it")


async def test_callback_query_stored_and_answered(
    aiohttp_client: Any, make_channel: ChannelFactory, core: Core, fake: FakeTelegram
) -> None:
    """A button press is a message of kind callback, and its spinner is answered once."""
    client = await webhook_client(aiohttp_client, make_channel)
    assert await post(client, "callback_query") == 200
    assert await post(client, "callback_query") == 200
    [row] = await stored(core.db)
    assert (row.kind, row.text) == ("callback", "rate:5")
    [answer] = fake.calls_to("answerCallbackQuery")
    assert answer.params["callback_query_id"] == "4382bfdwdsb323b2d9"


async def test_group_messages_only_when_addressed(
    aiohttp_client: Any, make_channel: ChannelFactory, core: Core
) -> None:
    """In a group, mentions and replies to the bot are stored; other chatter is not."""
    client = await webhook_client(aiohttp_client, make_channel)
    for name in ("group_mention", "group_not_addressed", "group_reply_to_bot"):
        assert await post(client, name) == 200
    rows = await stored(core.db)
    assert [r.external_id for r in rows] == ["-1001234567890:3001", "-1001234567890:3003"]


async def test_blocking_marks_contact_unreachable(
    aiohttp_client: Any, make_channel: ChannelFactory, core: Core
) -> None:
    """my_chat_member kicked → contact unreachable; member again → reachable."""
    client = await webhook_client(aiohttp_client, make_channel)
    assert await post(client, "text_private") == 200

    async def reachable() -> bool:
        async with core.db.read() as tx:
            return bool((await tx.execute(select(contacts.c.reachable))).scalar_one())

    assert await post(client, "my_chat_member_kicked") == 200
    assert not await reachable()
    assert await post(client, "my_chat_member_member") == 200
    assert await reachable()


async def test_an_update_that_keeps_failing_is_kept_as_a_placeholder(
    aiohttp_client: Any, make_channel: ChannelFactory, core: Core, fake: FakeTelegram
) -> None:
    """A document whose file Telegram keeps failing to serve is answered 503 (redelivered)
    until it has failed 5 times over 5 minutes; then it is stored once as a placeholder that
    keeps the whole update, so the bot's inbox is not blocked and nothing is lost."""
    fake.fail("getFile", *[server_error() for _ in range(10)])
    now = [datetime(2026, 12, 1, 12, 0, tzinfo=UTC)]
    channel = make_channel(clock=lambda: now[0])
    await channel.start()
    app = web.Application()
    for method, path, handler in channel.routes():
        app.router.add_route(method, path, handler)
    client: TestClient = await aiohttp_client(app)
    answers = []
    for _ in range(5):
        answers.append(await post(client, "document"))
        now[0] += timedelta(minutes=2)
    assert answers == [503, 503, 503, 503, 200]
    assert await post(client, "document") == 200  # a redelivery after that is a duplicate
    rows = await stored(core.db)
    assert len(rows) == 1
    assert rows[0].kind == "unsupported" and "could not be processed" in rows[0].text
    assert rows[0].raw["update"]["update_id"] == load("document")["update_id"]
    assert "TelegramServerError" in rows[0].raw["error"]
