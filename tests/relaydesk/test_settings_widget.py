"""The widget's settings from the environment, and what the channel is built with."""

from __future__ import annotations

from pathlib import Path

import pytest

from channels.widget import WidgetChannel
from channels.widget.config import DEFAULT_UPLOAD_TYPES
from channels.widget.limits import Rate
from relaydesk.channels import build_channels
from relaydesk.settings import Settings, SettingsError


async def _never(*_args: object) -> object:
    raise AssertionError("not called while building")


async def _no_events():  # type: ignore[no-untyped-def]
    return
    yield


def widget_of(settings: Settings) -> WidgetChannel:
    channels = build_channels(
        settings,
        ingest=_never,  # type: ignore[arg-type]
        edit=_never,  # type: ignore[arg-type]
        status_update=_never,  # type: ignore[arg-type]
        events=_no_events,
    )
    channel = channels["widget"]
    assert isinstance(channel, WidgetChannel)
    return channel


def test_widget_is_on_with_no_configuration(tmp_path: Path) -> None:
    """With an empty environment the widget is built with its defaults: own origin only,
    no signed identity, 3 MiB uploads of the default types, 1 message/s per visitor."""
    config = widget_of(Settings.from_env({}, data_dir=tmp_path)).config
    assert config.origins == () and config.identity_secret is None
    assert config.max_upload_bytes == 3 * 1024 * 1024
    assert config.upload_types == DEFAULT_UPLOAD_TYPES
    assert config.visitor_rate == Rate(1.0, burst=10)
    assert config.ip_rate == Rate(5.0, burst=40)
    assert config.connect_rate == Rate(1.0, burst=20)


def test_widget_environment_is_parsed(tmp_path: Path) -> None:
    """Every RELAYDESK_WIDGET_* variable reaches the channel."""
    env = {
        "RELAYDESK_WIDGET_ORIGINS": "https://shop.example,*",
        "RELAYDESK_WIDGET_IDENTITY_SECRET": "s3cret",
        "RELAYDESK_WIDGET_MAX_UPLOAD_BYTES": "1024",
        "RELAYDESK_WIDGET_UPLOAD_TYPES": "image/png, Application/PDF",
        "RELAYDESK_WIDGET_VISITOR_RATE": "0.5",
        "RELAYDESK_WIDGET_IP_RATE": "50",
    }
    config = widget_of(Settings.from_env(env, data_dir=tmp_path)).config
    assert config.origins == ("https://shop.example", "*")
    assert config.identity_secret == "s3cret" and config.max_upload_bytes == 1024
    assert config.upload_types == ("image/png", "application/pdf")
    assert config.visitor_rate == Rate(0.5, burst=5)
    assert config.ip_rate == Rate(50.0, burst=400) and config.connect_rate == Rate(10.0, burst=200)


@pytest.mark.parametrize(
    ("env", "fragment"),
    [
        ({"RELAYDESK_WIDGET_MAX_UPLOAD_BYTES": "big"}, "RELAYDESK_WIDGET_MAX_UPLOAD_BYTES"),
        ({"RELAYDESK_WIDGET_VISITOR_RATE": "0"}, "RELAYDESK_WIDGET_VISITOR_RATE must be positive"),
        ({"RELAYDESK_WIDGET_IP_RATE": "fast"}, "RELAYDESK_WIDGET_IP_RATE must be a number"),
    ],
    ids=["upload-size", "visitor-rate", "ip-rate"],
)
def test_bad_widget_settings_are_named(env: dict[str, str], fragment: str) -> None:
    """A bad value stops the start with the variable's name."""
    with pytest.raises(SettingsError, match=fragment):
        Settings.from_env(env)
