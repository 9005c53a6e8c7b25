"""RELAYDESK_WIDGET_JWT_*: the widget's JWT keys from the environment, and clear refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from relaydesk.settings import Settings, SettingsError
from tests.channels.widget.tokens import JWT_SECRET, ec_keys, rsa_keys
from tests.relaydesk.test_settings_widget import widget_of


def test_no_jwt_without_a_secret_or_a_key(tmp_path: Path) -> None:
    """An empty environment accepts no tokens."""
    assert widget_of(Settings.from_env({}, data_dir=tmp_path)).config.token_keys is None


def test_shared_secret_alone_means_hs256(tmp_path: Path) -> None:
    """RELAYDESK_WIDGET_IDENTITY_SECRET signs HMAC user ids and HS256 tokens alike."""
    env = {"RELAYDESK_WIDGET_IDENTITY_SECRET": JWT_SECRET}
    keys = widget_of(Settings.from_env(env, data_dir=tmp_path)).config.token_keys
    assert keys is not None
    assert (keys.algorithm, keys.key, keys.audience, keys.issuer) == (
        "HS256",
        JWT_SECRET,
        None,
        None,
    )


@pytest.mark.parametrize("given", ["inline", "escaped", "path"])
def test_public_key_inline_escaped_or_as_a_path(tmp_path: Path, given: str) -> None:
    """The public key may be the PEM text, the PEM on one line with `\\n` for line breaks (as
    env files hold it), or a path; with it tokens must be RS256, and aud/iss are checked."""
    pem = rsa_keys()[1]
    path = tmp_path / "shop.pub.pem"
    path.write_text(pem)
    value = {"inline": pem, "escaped": pem.replace("\n", "\\n"), "path": str(path)}[given]
    env = {
        "RELAYDESK_WIDGET_IDENTITY_SECRET": JWT_SECRET,
        "RELAYDESK_WIDGET_JWT_PUBLIC_KEY": value,
        "RELAYDESK_WIDGET_JWT_AUDIENCE": "relaydesk",
        "RELAYDESK_WIDGET_JWT_ISSUER": "https://shop.example",
    }
    settings = Settings.from_env(env, data_dir=tmp_path)
    assert settings.widget_jwt_public_key == pem
    keys = widget_of(settings).config.token_keys
    assert keys is not None and keys.algorithm == "RS256"
    assert (keys.audience, keys.issuer) == ("relaydesk", "https://shop.example")
    assert widget_of(settings).config.identity_secret == JWT_SECRET  # HMAC ids still work


def test_ec_public_key_means_es256(tmp_path: Path) -> None:
    """A P-256 public key verifies ES256 tokens."""
    env = {"RELAYDESK_WIDGET_JWT_PUBLIC_KEY": ec_keys()[1]}
    keys = widget_of(Settings.from_env(env, data_dir=tmp_path)).config.token_keys
    assert keys is not None and keys.algorithm == "ES256"


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("/nonexistent/shop.pub.pem", "RELAYDESK_WIDGET_JWT_PUBLIC_KEY: cannot read"),
        (
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
            "RELAYDESK_WIDGET_JWT_PUBLIC_KEY: not a PEM public key",
        ),
        ("private", "RELAYDESK_WIDGET_JWT_PUBLIC_KEY: not a PEM public key"),
        ("p384", "RELAYDESK_WIDGET_JWT_PUBLIC_KEY: ES256 needs a P-256 key"),
    ],
    ids=["missing-file", "garbage-pem", "private-key", "p384"],
)
def test_unusable_public_key_stops_the_start(value: str, fragment: str) -> None:
    """A key the server could not verify tokens with is a settings error naming the variable."""
    value = {"private": rsa_keys()[0], "p384": ec_keys("P-384")[1]}.get(value, value)
    with pytest.raises(SettingsError, match=fragment):
        Settings.from_env({"RELAYDESK_WIDGET_JWT_PUBLIC_KEY": value})
