"""The channel registry: every channel built from the settings, by kind.

A channel is on when its credentials are set; an unconfigured one is absent, and replies
on it fail visibly. Each channel kind adds one builder here.
"""

from __future__ import annotations

from collections.abc import Callable

from channels.base import Channel, Ingest, StatusSink
from relaydesk.email_settings import EmailSettings
from relaydesk.settings import Settings, TelegramSettings, WhatsAppSettings
from storage import Database


def build_channels(
    settings: Settings,
    *,
    ingest: Ingest,
    status_update: StatusSink,
    database: Callable[[], Database] | None = None,
) -> dict[str, Channel]:
    """The configured channels by kind. `database` returns the app's database once it is open
    (channels that keep state of their own, like Telegram's seen update ids, use it)."""
    channels: dict[str, Channel] = {}
    telegram = settings.telegram
    if telegram is not None:
        channels["telegram"] = build_telegram(
            telegram, ingest, database or _own_database(settings.database_url)
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
    )


def build_telegram(
    s: TelegramSettings, ingest: Ingest, database: Callable[[], Database]
) -> Channel:
    from channels.telegram import TelegramChannel, TelegramConfig
    from storage.telegram import TelegramRepository

    config = TelegramConfig(
        token=s.bot_token,
        mode=s.mode,
        webhook_secret=s.webhook_secret,
        webhook_url=s.webhook_url,
        api_base=s.api_base,
    )
    return TelegramChannel(config, ingest=ingest, store=TelegramRepository(database))


def _own_database(url: str) -> Callable[[], Database]:
    """A database of the channels' own, opened on first use: for callers that pass none."""
    opened: list[Database] = []

    def get() -> Database:
        if not opened:
            opened.append(Database(url))
        return opened[0]

    return get
