"""The channel registry: every channel built from the settings, by kind.

A channel is on when its credentials are set; an unconfigured one is absent, and replies
on it fail visibly. Each channel kind adds one builder here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from channels.base import ApplyEdit, Channel, Ingest, StatusSink
from relaydesk.email_settings import EmailSettings
from relaydesk.settings import Settings, TelegramSettings, WhatsAppSettings
from storage import Database


def build_channels(
    settings: Settings,
    *,
    ingest: Ingest,
    edit: ApplyEdit,
    status_update: StatusSink,
    database: Callable[[], Database] | None = None,
    events: Callable[[], AsyncIterator[dict[str, Any]]] | None = None,
    typing: Callable[[int], Awaitable[None]] | None = None,
) -> dict[str, Channel]:
    """The configured channels by kind. `database` returns the app's database once it is open
    (channels that keep state of their own, like Telegram's seen update ids, use it).
    `events` streams the core's live events (the widget pushes replies from them) and
    `typing` publishes that a visitor is typing in a dialog."""
    channels: dict[str, Channel] = {}
    if events is not None:  # the widget is always on: it needs no credentials
        channels["widget"] = build_widget(
            settings,
            ingest,
            status_update,
            database or _own_database(settings.database_url),
            events,
            typing,
        )
    telegram = settings.telegram
    if telegram is not None:
        channels["telegram"] = build_telegram(
            telegram, ingest, edit, database or _own_database(settings.database_url)
        )
    whatsapp = WhatsAppSettings.from_channel_env(settings.channel_env)
    if whatsapp is not None:
        channels["whatsapp"] = build_whatsapp(whatsapp, ingest, status_update)
    email = settings.email
    if email is not None:
        channels["email"] = build_email(
            email, ingest, status_update, database or _own_database(settings.database_url)
        )
    return channels


def build_email(
    s: EmailSettings, ingest: Ingest, status_update: StatusSink, database: Callable[[], Database]
) -> Channel:
    from datetime import timedelta

    from channels.email.adapter import EmailChannel, EmailConfig
    from channels.email.imap import MailboxConfig
    from channels.email.imap_client import ImapAccount
    from channels.email.mime import MimeLimits
    from channels.email.smtp import SmtpConfig
    from storage.email import EmailCursorRepository

    smtp = s.smtp
    config = EmailConfig(
        mailboxes=tuple(
            MailboxConfig(
                name=m.name,
                account=ImapAccount(
                    m.host, m.port, m.user, m.password, ssl=m.ssl, ca_file=m.ca_file
                ),
                folder=m.folder,
                move_to=m.move_to,
                quarantine_folder=m.quarantine_folder,
                idle=m.idle,
                idle_renew=float(m.idle_renew_seconds),
                poll_interval=float(m.poll_seconds),
            )
            for m in s.mailboxes
        ),
        smtp=None
        if smtp is None
        else SmtpConfig(
            smtp.host,
            smtp.port,
            smtp.user,
            smtp.password,
            smtp.starttls,
            smtp.ssl,
            ca_file=smtp.ca_file,
        ),
        sender=s.sender,
        limits=MimeLimits(
            max_message_bytes=s.max_message_bytes, max_attachment_bytes=s.max_attachment_bytes
        ),
        subject_window=timedelta(hours=s.subject_window_hours) if s.subject_window_hours else None,
    )
    return EmailChannel(
        config,
        ingest=ingest,
        status_update=status_update,
        cursors=EmailCursorRepository(database),
    )


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


def build_widget(
    s: Settings,
    ingest: Ingest,
    status_update: StatusSink,
    database: Callable[[], Database],
    events: Callable[[], AsyncIterator[dict[str, Any]]],
    typing: Callable[[int], Awaitable[None]] | None,
) -> Channel:
    from channels.widget import WidgetChannel, WidgetConfig
    from channels.widget.config import DEFAULT_UPLOAD_TYPES
    from channels.widget.identity_token import build_token_keys
    from channels.widget.limits import Rate
    from storage.widget import WidgetRepository

    config = WidgetConfig(
        origins=s.widget_origins,
        identity_secret=s.widget_identity_secret,
        token_keys=build_token_keys(
            secret=s.widget_identity_secret,
            public_key=s.widget_jwt_public_key,
            audience=s.widget_jwt_audience,
            issuer=s.widget_jwt_issuer,
        ),
        max_upload_bytes=s.widget_max_upload_bytes,
        upload_types=s.widget_upload_types or DEFAULT_UPLOAD_TYPES,
        visitor_rate=Rate(s.widget_visitor_rate, burst=max(1, round(s.widget_visitor_rate * 10))),
        ip_rate=Rate(s.widget_ip_rate, burst=max(1, round(s.widget_ip_rate * 8))),
        connect_rate=Rate(s.widget_ip_rate / 5, burst=max(1, round(s.widget_ip_rate * 4))),
    )
    store = WidgetRepository(database, files_root=s.data_dir / "attachments")
    return WidgetChannel(
        config,
        ingest=ingest,
        store=store,
        events=events,
        typing=typing,
        status_update=status_update,
    )


def _own_database(url: str) -> Callable[[], Database]:
    """A database of the channels' own, opened on first use: for callers that pass none."""
    opened: list[Database] = []

    def get() -> Database:
        if not opened:
            opened.append(Database(url))
        return opened[0]

    return get
