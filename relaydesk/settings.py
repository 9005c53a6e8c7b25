"""One frozen settings object, from command-line flags over environment variables over defaults.

`os.environ` is read here and nowhere else.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from relaydesk.email_settings import EmailSettings

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///relaydesk.db"


class SettingsError(ValueError):
    pass


TELEGRAM_MODES = ("webhook", "polling")


@dataclass(frozen=True)
class TelegramSettings:
    """The Telegram channel, on when TELEGRAM_BOT_TOKEN is set (from `Settings.channel_env`)."""

    bot_token: str
    mode: str = "webhook"  # TELEGRAM_MODE: webhook | polling
    webhook_secret: str | None = None  # TELEGRAM_WEBHOOK_SECRET, required in webhook mode
    webhook_url: str | None = None  # TELEGRAM_WEBHOOK_URL: if set, registered on start
    api_base: str | None = None  # TELEGRAM_API_BASE: a Bot API server other than the public one
    # TELEGRAM_LOCAL_FILES: that server runs with --local; "DIR" (its files directory, readable
    # here at the same path) or "SERVER_DIR:DIR_HERE" (the same files mounted elsewhere).
    local_files: tuple[str, str] | None = None

    @classmethod
    def from_channel_env(cls, env: Mapping[str, str]) -> TelegramSettings | None:
        token = env.get("TELEGRAM_BOT_TOKEN")
        if not token:
            return None
        mode = env.get("TELEGRAM_MODE", "webhook").lower()
        if mode not in TELEGRAM_MODES:
            raise SettingsError("TELEGRAM_MODE must be webhook or polling")
        secret = env.get("TELEGRAM_WEBHOOK_SECRET") or None
        if mode == "webhook" and not secret:
            raise SettingsError(
                "TELEGRAM_WEBHOOK_SECRET is required for the Telegram webhook "
                "(or set TELEGRAM_MODE=polling)"
            )
        if secret and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise SettingsError(
                "TELEGRAM_WEBHOOK_SECRET must be 1-256 characters of A-Z, a-z, 0-9, _ and -"
            )
        return cls(
            bot_token=token,
            mode=mode,
            webhook_secret=secret,
            webhook_url=env.get("TELEGRAM_WEBHOOK_URL") or None,
            api_base=env.get("TELEGRAM_API_BASE") or None,
            local_files=_local_files(env),
        )


def _local_files(env: Mapping[str, str]) -> tuple[str, str] | None:
    raw = env.get("TELEGRAM_LOCAL_FILES")
    if not raw:
        return None
    if not env.get("TELEGRAM_API_BASE"):
        raise SettingsError("TELEGRAM_LOCAL_FILES needs TELEGRAM_API_BASE (the local server)")
    server, _, here = raw.partition(":")
    return server, here or server


@dataclass(frozen=True)
class WhatsAppSettings:
    """WhatsApp Cloud API: on when WHATSAPP_ACCESS_TOKEN and WHATSAPP_PHONE_NUMBER_ID are set."""

    access_token: str
    phone_number_id: str
    app_secret: str  # WHATSAPP_APP_SECRET: verifies X-Hub-Signature-256 on every webhook
    verify_token: str | None = None  # WHATSAPP_VERIFY_TOKEN: the GET handshake's shared token
    api_base: str = "https://graph.facebook.com"  # WHATSAPP_API_BASE
    api_version: str = "v21.0"  # WHATSAPP_API_VERSION
    # WHATSAPP_MESSAGES_PER_SECOND: the number's throughput (Cloud API: 80 by default, up to
    # 1,000 once Meta raises it); the outbox never sends faster.
    messages_per_second: int = 80

    @classmethod
    def from_channel_env(cls, env: Mapping[str, str]) -> WhatsAppSettings | None:
        token = env.get("WHATSAPP_ACCESS_TOKEN")
        phone = env.get("WHATSAPP_PHONE_NUMBER_ID")
        if not token and not phone:
            return None
        if not token or not phone:
            raise SettingsError(
                "WhatsApp needs both WHATSAPP_ACCESS_TOKEN and WHATSAPP_PHONE_NUMBER_ID"
            )
        secret = env.get("WHATSAPP_APP_SECRET")
        if not secret:
            raise SettingsError(
                "WHATSAPP_APP_SECRET is required: it verifies the webhooks' X-Hub-Signature-256"
            )
        return cls(
            access_token=token,
            phone_number_id=phone,
            app_secret=secret,
            verify_token=env.get("WHATSAPP_VERIFY_TOKEN") or None,
            api_base=(env.get("WHATSAPP_API_BASE") or cls.api_base).rstrip("/"),
            api_version=env.get("WHATSAPP_API_VERSION") or cls.api_version,
            messages_per_second=_positive_int(
                "WHATSAPP_MESSAGES_PER_SECOND",
                env.get("WHATSAPP_MESSAGES_PER_SECOND") or str(cls.messages_per_second),
            ),
        )


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    database_url: str = DEFAULT_DATABASE_URL
    rules_path: Path = Path("rules.yaml")
    data_dir: Path = Path("relaydesk-data")
    api_token: str | None = None
    secret_key: str | None = None
    admin_password: str | None = None
    widget_origins: tuple[str, ...] = ()
    # The chat widget: the secret host sites sign their users' ids with (signed identity),
    # and what a visitor may upload.
    widget_identity_secret: str | None = None
    # Host sites' JWTs (HS256 with the secret above, or RS256/ES256 with this public key's
    # PEM text, read from a file when the variable names one), and the claims they must carry.
    widget_jwt_public_key: str | None = None
    widget_jwt_audience: str | None = None
    widget_jwt_issuer: str | None = None
    widget_max_upload_bytes: int = 3 * 1024 * 1024
    widget_upload_types: tuple[str, ...] = ()  # empty: the widget's default list
    # Messages a second per widget visitor and per client IP (bursts of 10 and 8 seconds'
    # worth); new sockets per IP at a fifth of the IP rate.
    widget_visitor_rate: float = 1.0
    widget_ip_rate: float = 5.0
    max_body_bytes: int = 4 * 1024 * 1024
    reopen_window: timedelta = timedelta(days=7)
    # An assigned task its agent has not taken up (set in_progress) within this much business
    # time of its SLA calendar goes back to the head of its queue.
    assignment_timeout: timedelta = timedelta(minutes=15)
    # "all": this process ingests, routes and assigns. "ingest": it only accepts and stores
    # messages, leaving routing and assignment to other processes on the same PostgreSQL.
    workers: str = "all"
    log_format: str = "auto"  # auto | json | console
    log_level: str = "info"
    # The outbox: a claimed row falls due again after `outbox_lease` (a sender that died);
    # retries back off exponentially from `outbox_retry_base` seconds, up to the attempts cap.
    outbox_lease: timedelta = timedelta(seconds=120)
    outbox_retry_base: float = 2.0
    outbox_max_attempts: int = 10
    # Channel credentials: a channel is on when its credentials are set (later issues).
    channel_env: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        if url := env.get("RELAYDESK_DATABASE_URL"):
            values["database_url"] = url
        if rules := env.get("RELAYDESK_RULES"):
            values["rules_path"] = Path(rules)
        if data := env.get("RELAYDESK_DATA_DIR"):
            values["data_dir"] = Path(data)
        values["api_token"] = env.get("RELAYDESK_API_TOKEN") or None
        values["secret_key"] = env.get("RELAYDESK_SECRET_KEY") or None
        values["admin_password"] = env.get("RELAYDESK_ADMIN_PASSWORD") or None
        if origins := env.get("RELAYDESK_WIDGET_ORIGINS"):
            values["widget_origins"] = tuple(o.strip() for o in origins.split(",") if o.strip())
        values["widget_identity_secret"] = env.get("RELAYDESK_WIDGET_IDENTITY_SECRET") or None
        if raw := env.get("RELAYDESK_WIDGET_JWT_PUBLIC_KEY"):
            values["widget_jwt_public_key"] = _pem_or_path("RELAYDESK_WIDGET_JWT_PUBLIC_KEY", raw)
        values["widget_jwt_audience"] = env.get("RELAYDESK_WIDGET_JWT_AUDIENCE") or None
        values["widget_jwt_issuer"] = env.get("RELAYDESK_WIDGET_JWT_ISSUER") or None
        if raw := env.get("RELAYDESK_WIDGET_MAX_UPLOAD_BYTES"):
            values["widget_max_upload_bytes"] = _positive_int(
                "RELAYDESK_WIDGET_MAX_UPLOAD_BYTES", raw
            )
        if raw := env.get("RELAYDESK_WIDGET_VISITOR_RATE"):
            values["widget_visitor_rate"] = _positive_float("RELAYDESK_WIDGET_VISITOR_RATE", raw)
        if raw := env.get("RELAYDESK_WIDGET_IP_RATE"):
            values["widget_ip_rate"] = _positive_float("RELAYDESK_WIDGET_IP_RATE", raw)
        if raw := env.get("RELAYDESK_WIDGET_UPLOAD_TYPES"):
            values["widget_upload_types"] = tuple(
                t.strip().lower() for t in raw.split(",") if t.strip()
            )
        if raw := env.get("RELAYDESK_MAX_BODY_BYTES"):
            values["max_body_bytes"] = _positive_int("RELAYDESK_MAX_BODY_BYTES", raw)
        if raw := env.get("RELAYDESK_REOPEN_WINDOW_HOURS"):
            values["reopen_window"] = timedelta(
                hours=_positive_int("RELAYDESK_REOPEN_WINDOW_HOURS", raw)
            )
        if raw := env.get("RELAYDESK_ASSIGNMENT_TIMEOUT_MINUTES"):
            values["assignment_timeout"] = timedelta(
                minutes=_positive_int("RELAYDESK_ASSIGNMENT_TIMEOUT_MINUTES", raw)
            )
        if raw := env.get("RELAYDESK_OUTBOX_LEASE_SECONDS"):
            values["outbox_lease"] = timedelta(
                seconds=_positive_int("RELAYDESK_OUTBOX_LEASE_SECONDS", raw)
            )
        if raw := env.get("RELAYDESK_OUTBOX_RETRY_BASE_SECONDS"):
            try:
                values["outbox_retry_base"] = float(raw)
            except ValueError:
                raise SettingsError(
                    "RELAYDESK_OUTBOX_RETRY_BASE_SECONDS must be a number"
                ) from None
        if raw := env.get("RELAYDESK_OUTBOX_MAX_ATTEMPTS"):
            values["outbox_max_attempts"] = _positive_int("RELAYDESK_OUTBOX_MAX_ATTEMPTS", raw)
        if workers := env.get("RELAYDESK_WORKERS"):
            if workers not in ("all", "ingest"):
                raise SettingsError("RELAYDESK_WORKERS must be all or ingest")
            values["workers"] = workers
        if fmt := env.get("RELAYDESK_LOG_FORMAT"):
            if fmt not in ("auto", "json", "console"):
                raise SettingsError("RELAYDESK_LOG_FORMAT must be auto, json or console")
            values["log_format"] = fmt
        if level := env.get("RELAYDESK_LOG_LEVEL"):
            values["log_level"] = level.lower()
        values["channel_env"] = {
            k: v
            for k, v in env.items()
            if k.startswith(("TELEGRAM_", "WHATSAPP_", "IMAP_", "SMTP_")) and v
        }
        known = {f.name for f in fields(cls)}
        values.update({k: v for k, v in overrides.items() if k in known and v is not None})
        settings = cls(**values)
        settings.check()
        return settings

    def check(self) -> None:
        if not self.database_url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise SettingsError(
                "database URL must start with sqlite+aiosqlite:// or postgresql+asyncpg:// "
                f"(got {self.database_url.split(':', 1)[0]}:…)"
            )
        if not 0 < self.port < 65536:
            raise SettingsError("port must be between 1 and 65535")
        # A misconfigured channel stops the start with a clear message.
        _ = self.telegram
        _ = WhatsAppSettings.from_channel_env(self.channel_env)
        if self.widget_jwt_public_key:
            # Imported here: the widget package (aiohttp and all) only when a key is set.
            from channels.widget.identity_token import load_public_key

            try:
                load_public_key(self.widget_jwt_public_key)
            except ValueError as exc:
                raise SettingsError(f"RELAYDESK_WIDGET_JWT_PUBLIC_KEY: {exc}") from None
        _ = self.email

    @property
    def telegram(self) -> TelegramSettings | None:
        """The Telegram channel's settings, or None when it is off."""
        return TelegramSettings.from_channel_env(self.channel_env)

    @property
    def email(self) -> EmailSettings | None:
        """The email channel's settings (IMAP_*, SMTP_*), or None when it is off."""
        from relaydesk.email_settings import EmailSettings

        return EmailSettings.from_channel_env(self.channel_env)

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **changes)


def _positive_int(name: str, raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number") from None
    if value <= 0:
        raise SettingsError(f"{name} must be positive")
    return value


def _pem_or_path(name: str, raw: str) -> str:
    """PEM text as given (a one-line value may spell its line breaks `\\n`), or a file's."""
    if "-----BEGIN" in raw:
        return raw.replace("\\n", "\n") if "\n" not in raw else raw
    try:
        return Path(raw).expanduser().read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{name}: cannot read {raw}: {exc}") from None


def _positive_float(name: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number") from None
    if not value > 0:
        raise SettingsError(f"{name} must be positive")
    return value
