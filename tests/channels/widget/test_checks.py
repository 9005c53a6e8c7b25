"""The widget's pure checks: origins, signed identity, file types, rate limit buckets."""

from __future__ import annotations

import pytest

from channels.widget.identity import (
    IdentityRefused,
    is_origin_allowed,
    new_visitor_id,
    resolve_visitor,
    sign_user_id,
)
from channels.widget.limits import KeyedLimiter, Rate
from channels.widget.upload import is_content_of_type, safe_filename


@pytest.mark.parametrize(
    ("origin", "allowed", "verdict"),
    [
        ("http://desk.example:8080", (), True),
        ("https://desk.example:8080", (), True),
        ("http://evil.example", (), False),
        ("http://desk.example:8080.evil.example", (), False),
        (None, ("*",), False),
        ("null", ("*",), False),
        ("https://anything.example", ("*",), True),
        ("https://shop.example", ("https://shop.example/",), True),
        ("https://SHOP.example", ("https://shop.example",), True),
        ("http://shop.example", ("https://shop.example",), False),
        ("https://shop.example.evil", ("https://shop.example",), False),
    ],
    ids=[
        "own",
        "own-https",
        "other",
        "own-as-prefix",
        "missing-any",
        "null-any",
        "any",
        "listed-slash",
        "listed-case",
        "scheme-differs",
        "listed-as-prefix",
    ],
)
def test_origin_rules(origin: str | None, allowed: tuple[str, ...], verdict: bool) -> None:
    """Exact origins from the list, `*` for any real origin, else the server's own host."""
    assert is_origin_allowed(origin, allowed, "desk.example:8080") is verdict


def test_visitor_ids_are_random_and_well_formed() -> None:
    """Issued ids pass the format check and do not repeat."""
    ids = {new_visitor_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(
        resolve_visitor(visitor_id=v, user_id=None, user_hash=None, identity_secret=None).address
        == v
        for v in ids
    )


@pytest.mark.parametrize(
    ("user_id", "user_hash", "secret", "code"),
    [
        ("42", sign_user_id("s", "42"), None, "identity_not_enabled"),
        ("42", sign_user_id("other", "42"), "s", "bad_identity"),
        ("42", None, "s", "bad_identity"),
        ("x" * 201, sign_user_id("s", "x" * 201), "s", "bad_identity"),
    ],
    ids=["no-secret", "wrong-secret", "no-hash", "too-long"],
)
def test_signed_identity_refusals(
    user_id: str, user_hash: str | None, secret: str | None, code: str
) -> None:
    """A signed identity holds only with the configured secret and a matching hash."""
    with pytest.raises(IdentityRefused) as caught:
        resolve_visitor(
            visitor_id=None, user_id=user_id, user_hash=user_hash, identity_secret=secret
        )
    assert caught.value.code == code


@pytest.mark.parametrize(
    ("content_type", "data", "verdict"),
    [
        ("image/png", b"\x89PNG\r\n\x1a\n....", True),
        ("image/png", b"GIF89a....", False),
        ("image/jpeg", b"\xff\xd8\xff\xe0", True),
        ("image/gif", b"GIF87a", True),
        ("image/webp", b"RIFF\x00\x00\x00\x00WEBPVP8 ", True),
        ("image/webp", b"RIFF\x00\x00\x00\x00WAVE", False),
        ("application/pdf", b"%PDF-1.7", True),
        ("application/pdf", b"<html>", False),
        ("text/plain", "Привет".encode(), True),
        ("text/plain", b"\xff\xfe\x00", False),
    ],
    ids=[
        "png",
        "gif-as-png",
        "jpeg",
        "gif",
        "webp",
        "wav-as-webp",
        "pdf",
        "html-as-pdf",
        "utf8-text",
        "binary-as-text",
    ],
)
def test_content_matches_declared_type(content_type: str, data: bytes, verdict: bool) -> None:
    """The bytes must be what the declared type says."""
    assert is_content_of_type(content_type, data) is verdict


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("C:\\Users\\a\\photo.png", "photo.png"),
        ('../"<x>".pdf', "x.pdf"),
        ("", "file"),
        ("\x00\x07", "file"),
    ],
    ids=["windows-path", "quotes-and-dots", "empty", "control"],
)
def test_safe_filename(name: str, safe: str) -> None:
    """Paths, quotes and control characters are dropped from uploaded names."""
    assert safe_filename(name) == safe


def test_limiter_refuses_past_burst_and_refills() -> None:
    """A key gets `burst` tokens at once, then one per 1/rate seconds; keys are independent."""
    now = [0.0]
    limiter = KeyedLimiter(Rate(per_second=2.0, burst=3), clock=lambda: now[0])
    assert [limiter.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take("a") == pytest.approx(0.5)
    assert limiter.take("b") == 0.0
    now[0] = 0.5
    assert limiter.take("a") == 0.0
    assert limiter.take("a") > 0
