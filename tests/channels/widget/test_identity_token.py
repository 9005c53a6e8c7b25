"""Host sites' JWTs, checked without a server: what is accepted, and each way one is refused."""

from __future__ import annotations

from collections.abc import Callable

import jwt
import pytest

from channels.widget.identity import IdentityRefused, resolve_visitor
from channels.widget.identity_token import (
    TokenKeys,
    TokenRefused,
    build_token_keys,
    load_public_key,
    verify_user_token,
)
from tests.channels.widget.tokens import (
    JWT_SECRET,
    claims,
    ec_keys,
    hs256_by_hand,
    rsa_keys,
    sign,
)

HS256 = TokenKeys("HS256", JWT_SECRET)


def rs256(audience: str | None = None, issuer: str | None = None) -> TokenKeys | None:
    return build_token_keys(
        secret=JWT_SECRET, public_key=rsa_keys()[1], audience=audience, issuer=issuer
    )


def rsa_token(**extra: object) -> str:
    return sign(claims(**extra), rsa_keys()[0], "RS256")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("keys", "token"),
    [
        (lambda: HS256, lambda: sign(claims(name="Ann", email="ann@example.com"))),
        (rs256, lambda: rsa_token(name="Ann", email="ann@example.com")),
        (
            lambda: build_token_keys(secret=None, public_key=ec_keys()[1]),
            lambda: sign(claims(name="Ann", email="ann@example.com"), ec_keys()[0], "ES256"),
        ),
    ],
    ids=["hs256", "rs256", "es256"],
)
def test_valid_tokens_name_the_user_and_profile(
    keys: Callable[[], TokenKeys], token: Callable[[], str]
) -> None:
    """Each supported algorithm with its key gives sub as the user id and the profile claims."""
    user = verify_user_token(token(), keys())
    assert (user.user_id, user.name, user.email) == ("42", "Ann", "ann@example.com")


def test_profile_claims_are_optional() -> None:
    """A token with only sub and exp names the user with no profile."""
    user = verify_user_token(sign({"sub": "u-7", "exp": claims()["exp"]}), HS256)
    assert (user.user_id, user.name, user.email) == ("u-7", "", None)


def test_small_clock_skew_is_tolerated() -> None:
    """A token expired 10 s ago, or valid from 10 s ahead, passes: clocks differ a little."""
    assert verify_user_token(sign(claims(ttl=-10)), HS256).user_id == "42"
    ahead = claims()
    ahead["nbf"] = ahead["iat"] = ahead["iat"] + 10
    assert verify_user_token(sign(ahead), HS256).user_id == "42"


def test_audience_and_issuer_pass_when_they_match() -> None:
    """Configured aud/iss accept a token carrying them (aud may be a list)."""
    keys = rs256(audience="relaydesk", issuer="https://shop.example")
    token = rsa_token(aud=["crm", "relaydesk"], iss="https://shop.example")
    assert verify_user_token(token, keys).user_id == "42"  # type: ignore[arg-type]


def future(field: str) -> str:
    c = claims()
    c[field] = c["iat"] + 600
    return sign(c)


REFUSALS: list[tuple[str, Callable[[], TokenKeys | None], Callable[[], str], str]] = [
    (
        "alg-none",
        lambda: HS256,
        lambda: jwt.encode(claims(), None, algorithm="none"),
        "token_algorithm_refused",
    ),
    (
        "alg-none-rs",
        rs256,
        lambda: jwt.encode(claims(), None, algorithm="none"),
        "token_algorithm_refused",
    ),
    (
        "hs256-with-public-key-text",
        rs256,
        lambda: hs256_by_hand(claims(), rsa_keys()[1].encode()),
        "token_algorithm_refused",
    ),
    (
        "hs256-with-shared-secret-when-key-configured",
        rs256,
        lambda: sign(claims()),
        "token_algorithm_refused",
    ),
    (
        "es256-when-rs256-configured",
        rs256,
        lambda: sign(claims(), ec_keys()[0], "ES256"),
        "token_algorithm_refused",
    ),
    (
        "hs512",
        lambda: HS256,
        lambda: sign(claims(), JWT_SECRET * 2, "HS512"),
        "token_algorithm_refused",
    ),
    (
        "wrong-secret",
        lambda: HS256,
        lambda: sign(claims(), "another-secret-of-at-least-32-bytes!"),
        "bad_token_signature",
    ),
    (
        "other-rsa-key",
        rs256,
        lambda: sign(claims(), rsa_keys(3072)[0], "RS256"),
        "bad_token_signature",
    ),
    ("expired", lambda: HS256, lambda: sign(claims(ttl=-60)), "token_expired"),
    ("nbf-in-future", lambda: HS256, lambda: future("nbf"), "token_not_yet_valid"),
    ("iat-in-future", lambda: HS256, lambda: future("iat"), "token_not_yet_valid"),
    ("no-exp", lambda: HS256, lambda: sign({"sub": "42"}), "bad_token"),
    ("no-sub", lambda: HS256, lambda: sign({"exp": claims()["exp"]}), "bad_token"),
    ("empty-sub", lambda: HS256, lambda: sign(claims(sub="")), "bad_token"),
    ("numeric-sub", lambda: HS256, lambda: sign({**claims(), "sub": 42}), "bad_token"),
    ("long-sub", lambda: HS256, lambda: sign(claims(sub="x" * 201)), "bad_token"),
    ("exp-not-a-number", lambda: HS256, lambda: sign({**claims(), "exp": "soon"}), "bad_token"),
    ("name-not-a-string", lambda: HS256, lambda: sign(claims(name=["Ann"])), "bad_token"),
    ("bad-email", lambda: HS256, lambda: sign(claims(email="not-an-email")), "bad_token"),
    (
        "wrong-audience",
        lambda: rs256(audience="relaydesk"),
        lambda: rsa_token(aud="crm"),
        "token_wrong_audience",
    ),
    ("missing-audience", lambda: rs256(audience="relaydesk"), rsa_token, "token_wrong_audience"),
    ("audience-not-configured", rs256, lambda: rsa_token(aud="crm"), "token_wrong_audience"),
    (
        "wrong-issuer",
        lambda: rs256(issuer="https://shop.example"),
        lambda: rsa_token(iss="https://evil.example"),
        "token_wrong_issuer",
    ),
    (
        "missing-issuer",
        lambda: rs256(issuer="https://shop.example"),
        rsa_token,
        "token_wrong_issuer",
    ),
    ("not-a-jwt", lambda: HS256, lambda: "hello", "bad_token"),
    ("bad-base64", lambda: HS256, lambda: "a.b.c", "bad_token"),
    (
        "payload-not-json",
        lambda: HS256,
        lambda: jwt.PyJWS().encode(b"not json", JWT_SECRET, "HS256"),
        "bad_token",
    ),
    ("empty", lambda: HS256, lambda: "", "bad_token"),
    ("too-long", lambda: HS256, lambda: sign(claims(pad="x" * 9000)), "bad_token"),
    ("not-enabled", lambda: None, lambda: sign(claims()), "identity_not_enabled"),
    (
        "short-secret",
        lambda: TokenKeys("HS256", "short"),
        lambda: hs256_by_hand(claims(), b"short"),
        "identity_not_enabled",
    ),
]


@pytest.mark.parametrize(
    ("keys", "token", "code"), [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS]
)
def test_tokens_that_do_not_hold_are_refused_with_a_code(
    keys: Callable[[], TokenKeys | None], token: Callable[[], str], code: str
) -> None:
    """Every way a token can fail has its own code and a message saying what is wrong."""
    with pytest.raises(TokenRefused) as refused:
        verify_user_token(token(), keys())
    assert refused.value.code == code and refused.value.message


def test_a_token_is_the_user_address_an_hmac_signature_names() -> None:
    """A JWT for user 42 is the visitor `user:42`, as the HMAC-signed id 42 is, with the profile."""
    visitor = resolve_visitor(
        visitor_id="v_ignored-when-signed-0000000",
        user_id=None,
        user_hash=None,
        identity_secret=JWT_SECRET,
        token=sign(claims(name="Ann")),
        token_keys=HS256,
    )
    assert (visitor.address, visitor.signed, visitor.name) == ("user:42", True, "Ann")


def test_a_token_and_an_hmac_signature_together_are_refused() -> None:
    """Two ways of naming the user in one hello are ambiguous: refused, not one picked."""
    with pytest.raises(IdentityRefused) as refused:
        resolve_visitor(
            visitor_id=None,
            user_id="42",
            user_hash="00",
            identity_secret=JWT_SECRET,
            token=sign(claims()),
            token_keys=HS256,
        )
    assert refused.value.code == "bad_identity"


@pytest.mark.parametrize(
    ("pem", "fragment"),
    [
        ("not a key", "not a PEM public key"),
        (lambda: rsa_keys()[0], "not a PEM public key"),
        (lambda: rsa_keys(1024)[1], "1024 bits"),
        (lambda: ec_keys("P-384")[1], "P-256"),
    ],
    ids=["garbage", "private-key", "short-rsa", "p384"],
)
def test_unusable_public_keys_are_named(pem: str | Callable[[], str], fragment: str) -> None:
    """A key the server could not verify with stops the start, saying why."""
    with pytest.raises(ValueError, match=fragment):
        load_public_key(pem() if callable(pem) else pem)


def test_public_key_picks_the_algorithm() -> None:
    """An RSA key verifies RS256 tokens, a P-256 key ES256; the secret HS256 only without one."""
    assert load_public_key(rsa_keys()[1])[1] == "RS256"
    assert load_public_key(ec_keys()[1])[1] == "ES256"
    keys = build_token_keys(secret=JWT_SECRET, public_key=None)
    assert keys is not None and keys.algorithm == "HS256"
    assert build_token_keys(secret=None, public_key=None) is None
