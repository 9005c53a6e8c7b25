"""The channel registry: every channel built from the settings, by kind.

A channel is on when its credentials are set; an unconfigured one is absent, and replies
on it fail visibly. Each channel kind adds one builder here.
"""

from __future__ import annotations

from collections.abc import Callable

from channels.base import ApplyEdit, Channel, Ingest, StatusSink
from relaydesk.settings import Settings, TelegramSettings, WhatsAppSettings
from storage import Database


def build_channels(
    settings: Settings,
    *,
    ingest: Ingest,
    edit: ApplyEdit,
    status_update: StatusSink,
    database: Callable[[], Database] | None = None,
) -> dict[str, Channel]:
    """The configured channels by kind. `database` returns the app's database once it is open
    (channels that keep state of their own, like Telegram's seen update ids, use it)."""
    channels: dict[str, Channel] = {}
    telegram = settings.telegram
    if telegram is not None:
        channels["telegram"] = build_telegram(
            telegram, ingest, edit, database or _own_database(settings.database_url)
        )
    whatsapp = WhatsAppSettings.from_channel_env(settings.channel_env)
    if whatsapp is not None:
        channels["whatsapp"] = build_whatsapp(whatsapp, ingest, status_update)
    return channels


def build_whatsapp(s: WhatsAppSettings, ingest: Ingest, status_update: StatusSink) -> Channel:
    from channels.whatsapp.adapter import WhatsAppChannel
    from channels.whatsapp.client import GraphClient

    client = GraphClient(
        api_base=s.api_base,
        api_version=s.api_version,
        phone_number_id=s.phone_number_id,
        access_token=s.access_token,
    )
    return WhatsAppChannel(
        client,
        app_secret=s.app_secret,
        verify_token=s.verify_token,
        ingest=ingest,
        status_update=status_update,
        messages_per_second=s.messages_per_second,
    )


def build_telegram(
    s: TelegramSettings, ingest: Ingest, edit: ApplyEdit, database: Callable[[], Database]
) -> Channel:
    from channels.telegram import TelegramChannel, TelegramConfig
    from channels.telegram.client import DEFAULT_MAX_FILE_BYTES, LOCAL_MAX_FILE_BYTES
    from storage.telegram import TelegramRepository

    config = TelegramConfig(
        token=s.bot_token,
        mode=s.mode,
        webhook_secret=s.webhook_secret,
        webhook_url=s.webhook_url,
        api_base=s.api_base,
        local_files=s.local_files,
        max_file_bytes=LOCAL_MAX_FILE_BYTES if s.local_files else DEFAULT_MAX_FILE_BYTES,
    )
    return TelegramChannel(config, ingest=ingest, edit=edit, store=TelegramRepository(database))


def _own_database(url: str) -> Callable[[], Database]:
    """A database of the channels' own, opened on first use: for callers that pass none."""
    opened: list[Database] = []

    def get() -> Database:
        if not opened:
            opened.append(Database(url))
        return opened[0]

    return get
