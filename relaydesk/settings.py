"""One frozen settings object, from command-line flags over environment variables over defaults.

`os.environ` is read here and nowhere else.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///relaydesk.db"


class SettingsError(ValueError):
    pass


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
