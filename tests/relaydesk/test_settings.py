"""Settings: one frozen object from flags over environment over defaults, with clear errors."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
import structlog

from relaydesk.logging import configure_logging
from relaydesk.settings import DEFAULT_DATABASE_URL, Settings, SettingsError, WhatsAppSettings


def test_defaults_need_no_configuration() -> None:
    """With an empty environment the server runs on SQLite with the shipped rules."""
    s = Settings.from_env({})
    assert s.database_url == DEFAULT_DATABASE_URL
    assert s.rules_path == Path("rules.yaml") and s.api_token is None
    assert (s.host, s.port) == ("127.0.0.1", 8080)


def test_flags_override_environment() -> None:
    """A flag given on the command line wins over the same setting in the environment."""
    env = {"RELAYDESK_DATABASE_URL": "postgresql+asyncpg://db/x", "RELAYDESK_RULES": "a.yaml"}
    s = Settings.from_env(env, rules_path=Path("b.yaml"), port=9000, host=None)
    assert s.database_url == "postgresql+asyncpg://db/x"
    assert s.rules_path == Path("b.yaml") and s.port == 9000 and s.host == "127.0.0.1"


def test_environment_values_are_parsed() -> None:
    """Lists, numbers and durations from the environment become typed values."""
    s = Settings.from_env(
        {
            "RELAYDESK_WIDGET_ORIGINS": "https://a.example, https://b.example,",
            "RELAYDESK_MAX_BODY_BYTES": "1000",
            "RELAYDESK_REOPEN_WINDOW_HOURS": "48",
            "TELEGRAM_BOT_TOKEN": "123:abc",
            "TELEGRAM_WEBHOOK_SECRET": "s3cret",
            "UNRELATED": "x",
        }
    )
    assert s.widget_origins == ("https://a.example", "https://b.example")
    assert s.max_body_bytes == 1000 and s.reopen_window == timedelta(hours=48)
    assert s.channel_env == {"TELEGRAM_BOT_TOKEN": "123:abc", "TELEGRAM_WEBHOOK_SECRET": "s3cret"}


WHATSAPP = {
    "WHATSAPP_ACCESS_TOKEN": "t",
    "WHATSAPP_PHONE_NUMBER_ID": "1",
    "WHATSAPP_APP_SECRET": "s",
}


def test_whatsapp_throughput_sets_the_outbox_pace() -> None:
    """WHATSAPP_MESSAGES_PER_SECOND becomes the channel's rate limit (80 unless raised)."""
    from relaydesk.channels import build_whatsapp

    async def nothing(*_: object) -> None:
        raise AssertionError("not called")

    for env, expected in (
        (WHATSAPP, 80),
        ({**WHATSAPP, "WHATSAPP_MESSAGES_PER_SECOND": "250"}, 250),
    ):
        wa = WhatsAppSettings.from_channel_env(Settings.from_env(env).channel_env)
        assert wa is not None
        channel = build_whatsapp(wa, nothing, nothing)  # type: ignore[arg-type]
        assert channel.rate_limit.per_second == expected  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("env", "fragment"),
    [
        ({"RELAYDESK_DATABASE_URL": "mysql://x"}, "database URL must start with"),
        ({"RELAYDESK_MAX_BODY_BYTES": "lots"}, "RELAYDESK_MAX_BODY_BYTES must be a whole number"),
        ({"RELAYDESK_REOPEN_WINDOW_HOURS": "-1"}, "must be positive"),
        ({"RELAYDESK_LOG_FORMAT": "xml"}, "RELAYDESK_LOG_FORMAT must be"),
        ({"RELAYDESK_WORKERS": "some"}, "RELAYDESK_WORKERS must be all or ingest"),
        ({**WHATSAPP, "WHATSAPP_MESSAGES_PER_SECOND": "fast"}, "WHATSAPP_MESSAGES_PER_SECOND"),
        ({"WHATSAPP_ACCESS_TOKEN": "t"}, "needs both"),
        (
            {"TELEGRAM_BOT_TOKEN": "1:a", "TELEGRAM_MODE": "polling", "TELEGRAM_LOCAL_FILES": "/x"},
            "TELEGRAM_LOCAL_FILES needs TELEGRAM_API_BASE",
        ),
    ],
    ids=[
        "db-url",
        "body-size",
        "window",
        "log-format",
        "workers",
        "wa-rate",
        "wa-partial",
        "tg-local",
    ],
)
def test_bad_values_are_named(env: dict[str, str], fragment: str) -> None:
    """A bad value fails at start-up with a message that names the variable."""
    with pytest.raises(SettingsError, match=fragment):
        Settings.from_env(env)


def test_settings_are_frozen() -> None:
    """Nothing changes settings after start-up; with_() makes a changed copy."""
    s = Settings.from_env({})
    with pytest.raises(AttributeError):
        s.port = 1  # type: ignore[misc]
    assert s.with_(port=1).port == 1 and s.port == 8080


def test_json_logs_when_not_on_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    """Off a terminal each log line is one JSON object with bound ids and a UTC timestamp."""
    configure_logging("auto", "info", cache=False)
    try:
        with structlog.contextvars.bound_contextvars(request_id="r-1"):
            structlog.get_logger("t").info("message_ingested", message_id=7, dialog_id=3)
        line = capsys.readouterr().err.strip().splitlines()[-1]
        record = json.loads(line)
        assert record["event"] == "message_ingested" and record["message_id"] == 7
        assert record["request_id"] == "r-1" and record["timestamp"].endswith("Z")
        structlog.get_logger("t").debug("hidden")
        assert capsys.readouterr().err == ""
    finally:
        structlog.reset_defaults()
