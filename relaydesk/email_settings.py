"""The email channel's settings, from the IMAP_* and SMTP_* variables (and, for more than one
mailbox, a YAML file named by IMAP_MAILBOXES). On when IMAP_HOST or SMTP_HOST is set."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from relaydesk.settings import SettingsError

# RFC 2177: servers may drop an IDLE after 30 minutes; renew well inside that.
MAX_IDLE_RENEW = 29 * 60


@dataclass(frozen=True)
class MailboxSettings:
    name: str
    host: str
    port: int
    user: str
    password: str
    ssl: bool = True
    folder: str = "INBOX"
    move_to: str | None = None  # None: processed mail is marked \Seen and stays
    quarantine_folder: str | None = "Quarantine"
    idle: bool = True
    idle_renew_seconds: int = 20 * 60
    poll_seconds: int = 60
    ca_file: str | None = None  # a CA to trust besides the system's (self-signed servers)


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    user: str | None
    password: str | None
    starttls: bool
    ssl: bool
    ca_file: str | None = None


@dataclass(frozen=True)
class EmailSettings:
    mailboxes: tuple[MailboxSettings, ...]
    smtp: SmtpSettings | None
    sender: str  # SMTP_FROM
    max_message_bytes: int = 25 * 1024 * 1024
    max_attachment_bytes: int = 10 * 1024 * 1024
    subject_window_hours: int = 0  # 0: never join by subject alone

    @classmethod
    def from_channel_env(cls, env: Mapping[str, str]) -> EmailSettings | None:
        if not env.get("IMAP_HOST") and not env.get("SMTP_HOST") and not env.get("IMAP_MAILBOXES"):
            return None
        mailboxes: list[MailboxSettings] = []
        if env.get("IMAP_HOST"):
            mailboxes.append(_mailbox_from_env(env))
        if path := env.get("IMAP_MAILBOXES"):
            mailboxes.extend(load_mailboxes(Path(path), env))
        names = [m.name for m in mailboxes]
        if len(set(names)) != len(names):
            raise SettingsError(f"IMAP mailbox names must be unique (got {names})")
        smtp = _smtp_from_env(env)
        sender = env.get("SMTP_FROM") or ""
        if smtp is not None and "@" not in sender:
            raise SettingsError('SMTP_FROM is required for SMTP: "Support <support@example.com>"')
        return cls(
            mailboxes=tuple(mailboxes),
            smtp=smtp,
            sender=sender,
            max_message_bytes=_mb(env, "IMAP_MAX_MESSAGE_MB", 25),
            max_attachment_bytes=_mb(env, "IMAP_MAX_ATTACHMENT_MB", 10),
            subject_window_hours=_int(env, "IMAP_SUBJECT_WINDOW_HOURS", 0, minimum=0),
        )


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be true or false")


def _int(env: Mapping[str, str], name: str, default: int, *, minimum: int = 1) -> int:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}")
    return value


def _mb(env: Mapping[str, str], name: str, default: int) -> int:
    return _int(env, name, default) * 1024 * 1024


def _mailbox_from_env(env: Mapping[str, str]) -> MailboxSettings:
    user, password = env.get("IMAP_USER"), env.get("IMAP_PASSWORD")
    if not user or not password:
        raise SettingsError("IMAP_HOST needs IMAP_USER and IMAP_PASSWORD")
    ssl = _bool(env, "IMAP_SSL", True)
    renew = _int(env, "IMAP_IDLE_RENEW_SECONDS", 20 * 60)
    if renew >= MAX_IDLE_RENEW:
        raise SettingsError(f"IMAP_IDLE_RENEW_SECONDS must be under {MAX_IDLE_RENEW}")
    return MailboxSettings(
        name=env.get("IMAP_NAME") or "default",
        host=env["IMAP_HOST"],
        port=_int(env, "IMAP_PORT", 993 if ssl else 143),
        user=user,
        password=password,
        ssl=ssl,
        folder=env.get("IMAP_FOLDER") or "INBOX",
        move_to=env.get("IMAP_MOVE_TO") or None,
        quarantine_folder=env.get("IMAP_QUARANTINE_FOLDER", "Quarantine") or None,
        idle=_bool(env, "IMAP_IDLE", True),
        idle_renew_seconds=renew,
        poll_seconds=_int(env, "IMAP_POLL_SECONDS", 60),
        ca_file=env.get("IMAP_CA_FILE") or None,
    )


def _smtp_from_env(env: Mapping[str, str]) -> SmtpSettings | None:
    host = env.get("SMTP_HOST")
    if not host:
        return None
    ssl = _bool(env, "SMTP_SSL", False)
    return SmtpSettings(
        host=host,
        port=_int(env, "SMTP_PORT", 465 if ssl else 587),
        user=env.get("SMTP_USER") or None,
        password=env.get("SMTP_PASSWORD") or None,
        starttls=_bool(env, "SMTP_STARTTLS", not ssl),
        ssl=ssl,
        ca_file=env.get("SMTP_CA_FILE") or None,
    )


class _MailboxEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    host: str = Field(min_length=1)
    port: int | None = Field(default=None, gt=0, lt=65536)
    user: str = Field(min_length=1)
    password: str | None = None
    password_env: str | None = Field(default=None, pattern=r"^IMAP_[A-Z0-9_]+$")
    ssl: bool = True
    folder: str = "INBOX"
    move_to: str | None = None
    quarantine_folder: str | None = "Quarantine"
    idle: bool = True
    idle_renew_seconds: int = Field(default=20 * 60, gt=0, lt=MAX_IDLE_RENEW)
    poll_seconds: int = Field(default=60, gt=0)
    ca_file: str | None = None


class _MailboxFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mailboxes: list[_MailboxEntry]


def load_mailboxes(path: Path, env: Mapping[str, str]) -> list[MailboxSettings]:
    """The mailboxes of an IMAP_MAILBOXES file; passwords inline or from IMAP_* variables."""
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
        parsed = _MailboxFile.model_validate(data)
    except OSError as exc:
        raise SettingsError(f"IMAP_MAILBOXES: cannot read {path}: {exc.strerror}") from None
    except (yaml.YAMLError, ValidationError) as exc:
        raise SettingsError(f"IMAP_MAILBOXES: {path}: {exc}") from None
    out = []
    for entry in parsed.mailboxes:
        password = entry.password or (env.get(entry.password_env) if entry.password_env else None)
        if not password:
            raise SettingsError(
                f"IMAP_MAILBOXES: mailbox {entry.name!r} needs password or password_env "
                "(an IMAP_* variable that is set)"
            )
        values = entry.model_dump(exclude={"password", "password_env", "port"})
        out.append(
            MailboxSettings(
                **values, port=entry.port or (993 if entry.ssl else 143), password=password
            )
        )
    return out
