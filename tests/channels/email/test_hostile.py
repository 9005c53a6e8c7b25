"""Hostile mail is refused or truncated quickly and within limits, never crashing the parser."""

from __future__ import annotations

import time

import pytest

from channels.email.mime import MessageRefused, MimeLimits, parse_email

HEAD = "From: a@b.test\r\nSubject: x\r\nMessage-ID: <x@b.test>\r\nMIME-Version: 1.0\r\n"


def nested(depth: int) -> bytes:
    opening = "".join(
        f'Content-Type: multipart/mixed; boundary="b{i}"\r\n\r\n--b{i}\r\n' for i in range(depth)
    )
    closing = "".join(f"--b{i}--\r\n" for i in reversed(range(depth)))
    return (HEAD + opening + "Content-Type: text/plain\r\n\r\ndeep\r\n" + closing).encode()


def many_parts(n: int) -> bytes:
    parts = "".join("--x\r\nContent-Type: text/plain\r\n\r\np\r\n" for _ in range(n))
    return (
        HEAD + 'Content-Type: multipart/mixed; boundary="x"\r\n\r\n' + parts + "--x--\r\n"
    ).encode()


def huge_headers() -> bytes:
    junk = "".join(f"X-Junk-{i}: {'y' * 900}\r\n" for i in range(2000))
    return (HEAD + junk + "\r\nbody\r\n").encode()


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (nested(1000), "nested multiparts"),
        (many_parts(100_000), "MIME boundary lines"),
        (huge_headers(), "header block"),
    ],
    ids=["1000-level bomb", "100000 parts", "huge headers"],
)
def test_hostile_mail_is_refused_fast(raw: bytes, reason: str) -> None:
    """Each is refused in well under 2 seconds with a reason naming the limit."""
    started = time.perf_counter()
    with pytest.raises(MessageRefused) as refused:
        parse_email(raw)
    assert time.perf_counter() - started < 2
    assert reason in refused.value.reason


def test_nesting_within_limits_parses_and_deeper_is_refused_by_the_walk() -> None:
    """The tree walk enforces the depth limit itself, not only the byte scan."""
    assert parse_email(nested(10)).text == "deep"
    with pytest.raises(MessageRefused, match="deeper than 5"):
        parse_email(nested(10), MimeLimits(max_depth=5, max_parts=1000))


def test_oversize_attachment_is_skipped_with_a_note() -> None:
    """An attachment over the limit is left out and the message says so; the text stays."""
    raw = (
        HEAD
        + 'Content-Type: multipart/mixed; boundary="m"\r\n\r\n--m\r\nContent-Type: text/plain\r\n\r\n'
        + "see file\r\n--m\r\nContent-Type: application/octet-stream\r\n"
        + 'Content-Disposition: attachment; filename="big.bin"\r\n\r\n'
        + "z" * 5000
        + "\r\n--m--\r\n"
    ).encode()
    mail = parse_email(raw, MimeLimits(max_attachment_bytes=1000))
    assert mail.text == "see file"
    assert mail.attachments == ()
    assert "big.bin" in mail.notes[0] and "limit" in mail.notes[0]
    assert len(parse_email(raw).attachments) == 1


def test_oversize_message_is_refused() -> None:
    """A message over the size limit is refused before it is parsed."""
    with pytest.raises(MessageRefused, match="byte limit"):
        parse_email(many_parts(10), MimeLimits(max_message_bytes=100))
