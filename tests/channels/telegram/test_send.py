"""Replies out through real aiogram to the fake Bot API: splitting, files, error mapping."""

from __future__ import annotations

import pytest

from channels.base import ChannelError, OutboundAttachment, OutboundMessage
from channels.telegram.entities import utf16_len
from channels.telegram.outbound import split_text
from tests.channels.telegram.conftest import ChannelFactory, Core, update
from tests.fakes.telegram_api import (
    Failure,
    FakeTelegram,
    refused_url,
    server_error,
    slow,
    too_many_requests,
)

ANNA = "555000111"


def reply(text: str, *, message_id: int = 1, **extra: object) -> OutboundMessage:
    return OutboundMessage(
        message_id=message_id,
        dialog_id=1,
        channel="telegram",
        address=ANNA,
        text=text,
        **extra,  # type: ignore[arg-type]
    )


def test_split_on_line_then_word_boundaries() -> None:
    """Long text is cut at line breaks, else spaces, else anywhere; nothing is lost."""
    lines = "\n".join(f"line {i} " + "word " * 30 for i in range(60))
    parts = split_text(lines, 1000)
    assert all(utf16_len(p) <= 1000 for p in parts)
    assert all(p.startswith("line ") for p in parts)  # every cut fell on a line break
    assert "\n".join(parts).split() == lines.split()
    assert split_text("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]
    assert split_text("   ") == []


def test_split_counts_utf16_units() -> None:
    """Emoji count double toward the 4,096 limit and are never cut in half."""
    parts = split_text("😀" * 3000)
    assert [utf16_len(p) for p in parts] == [4096, 1904]
    assert "".join(parts) == "😀" * 3000


async def test_long_text_sent_in_parts(make_channel: ChannelFactory, fake: FakeTelegram) -> None:
    """Above 4,096 characters each part is its own sendMessage; only the first quotes."""
    text = "\n".join("Параграф " + "слово " * 100 for _ in range(20))
    channel = make_channel()
    receipt = await channel.send(reply(text, reply_to_external_id=f"{ANNA}:2001"))
    calls = fake.calls_to("sendMessage")
    assert len(calls) == 4
    assert all(utf16_len(c.params["text"]) <= 4096 for c in calls)
    assert calls[0].params["reply_parameters"]["message_id"] == 2001
    assert all("reply_parameters" not in c.params for c in calls[1:])
    assert receipt.external_id == f"{ANNA}:1001"


async def test_photo_and_document(make_channel: ChannelFactory, fake: FakeTelegram) -> None:
    """An image goes out with sendPhoto and its caption; a PDF with sendDocument."""
    channel = make_channel()
    photo = OutboundAttachment("label.png", "image/png", b"\x89PNG fake")
    await channel.send(reply("Вот ваша накладная", attachments=(photo,)))
    [call] = fake.calls_to("sendPhoto")
    assert call.params["caption"] == "Вот ваша накладная"
    assert call.files["photo"] == ("label.png", b"\x89PNG fake")
    pdf = OutboundAttachment("invoice.pdf", "application/pdf", b"%PDF-1.7")
    await channel.send(reply("", message_id=2, attachments=(pdf,)))
    [doc] = fake.calls_to("sendDocument")
    assert doc.files["document"] == ("invoice.pdf", b"%PDF-1.7")
    assert "caption" not in doc.params


@pytest.mark.parametrize(
    ("failure", "code", "retry_after"),
    [
        (too_many_requests(7), "rate_limited", 7.0),
        (server_error(), "5xx", None),
        (Failure(502, "Bad Gateway"), "5xx", None),
    ],
    ids=["429", "500", "502"],
)
async def test_transient_failures_are_retryable(
    make_channel: ChannelFactory,
    fake: FakeTelegram,
    failure: Failure,
    code: str,
    retry_after: float | None,
) -> None:
    """429 (with Telegram's retry_after) and 5xx answers are retryable errors."""
    fake.fail("sendMessage", failure)
    channel = make_channel()
    with pytest.raises(ChannelError) as caught:
        await channel.send(reply("hello"))
    assert (caught.value.retryable, caught.value.code) == (True, code)
    assert caught.value.retry_after == retry_after


async def test_timeout_and_refused_are_retryable(
    make_channel: ChannelFactory, fake: FakeTelegram
) -> None:
    """A slow answer past the timeout, or nothing listening, is a retryable network error."""
    fake.fail("sendMessage", slow(0.8))
    with pytest.raises(ChannelError) as slow_error:
        await make_channel(request_timeout=0.2).send(reply("hello"))
    assert (slow_error.value.retryable, slow_error.value.code) == (True, "network")
    with pytest.raises(ChannelError) as refused:
        await make_channel(api_base=refused_url()).send(reply("hello"))
    assert (refused.value.retryable, refused.value.code) == (True, "network")


async def test_429_then_500_then_200_sends_once(
    make_channel: ChannelFactory, fake: FakeTelegram
) -> None:
    """Retried after 429 and 500, a reply is delivered exactly once."""
    fake.fail("sendMessage", too_many_requests(1), server_error())
    channel = make_channel()
    for _ in range(2):
        with pytest.raises(ChannelError):
            await channel.send(reply("hello"))
    receipt = await channel.send(reply("hello"))
    assert receipt.external_id is not None
    assert len(fake.calls_to("sendMessage")) == 3  # two refused, one delivered


async def test_retry_after_partial_send_does_not_repeat_parts(
    make_channel: ChannelFactory, fake: FakeTelegram
) -> None:
    """A 429 on part two of three: the retry sends parts two and three only."""
    text = "\n".join("a" * 4000 for _ in range(3))
    channel = make_channel()
    fake.fail("sendMessage", Failure(delay=0.0), too_many_requests(1))
    with pytest.raises(ChannelError):
        await channel.send(reply(text, message_id=9))
    await channel.send(reply(text, message_id=9))
    delivered = [c for c in fake.calls_to("sendMessage")]
    assert len(delivered) == 4  # part 1, refused part 2, part 2, part 3


async def test_chat_not_found_is_final(make_channel: ChannelFactory, fake: FakeTelegram) -> None:
    """400 chat not found fails at once with a message an agent understands."""
    fake.unknown_chats.add(int(ANNA))
    with pytest.raises(ChannelError) as caught:
        await make_channel().send(reply("hello"))
    assert (caught.value.retryable, caught.value.code) == (False, "chat_not_found")
    assert "chat not found" in caught.value.message


async def test_blocked_user_marks_contact_and_later_sends_fail_at_once(
    make_channel: ChannelFactory, fake: FakeTelegram, core: Core
) -> None:
    """403 blocked is final and marks the contact unreachable; the next reply fails before
    any request; unblocking (my_chat_member member) lets replies through again."""
    channel = make_channel()
    await channel.start()
    await channel.updates.handle(update("text_private"))  # the contact exists
    fake.blocked_chats.add(int(ANNA))
    with pytest.raises(ChannelError) as caught:
        await channel.send(reply("hello"))
    assert (caught.value.retryable, caught.value.code) == (False, "blocked")
    assert "blocked the bot" in caught.value.message
    assert not await core.repo.is_reachable(ANNA)
    calls = len(fake.calls_to("sendMessage"))
    with pytest.raises(ChannelError) as again:
        await channel.send(reply("hello again", message_id=2))
    assert again.value.code == "blocked"
    assert len(fake.calls_to("sendMessage")) == calls  # refused without asking Telegram

    fake.blocked_chats.clear()
    await channel.updates.handle(update("my_chat_member_member"))
    await channel.send(reply("welcome back", message_id=3))
    assert fake.calls_to("sendMessage")[-1].params["text"] == "welcome back"


async def test_group_reply_goes_to_the_group(
    make_channel: ChannelFactory, fake: FakeTelegram
) -> None:
    """A reply to a group message goes to that group, quoting the customer's message."""
    await make_channel().send(reply("On it!", reply_to_external_id="-1001234567890:3001"))
    [call] = fake.calls_to("sendMessage")
    assert int(call.params["chat_id"]) == -1001234567890
    assert call.params["reply_parameters"]["message_id"] == 3001


def test_group_chats_are_paced_at_20_a_minute(make_channel: ChannelFactory) -> None:
    """The outbox paces per chat: a person's at 1/s, a group's (where the reply goes to the
    group, not to the member's own address) at 20 a minute."""
    channel = make_channel()
    assert channel.pace(reply("hi")) == (ANNA, 1.0)
    in_group = reply("hi", reply_to_external_id="-100200300:7")
    assert channel.pace(in_group) == ("-100200300", pytest.approx(20 / 60))
