"""Sending through SMTP (aiosmtplib): STARTTLS or implicit TLS, AUTH, and SMTP replies
mapped to the outbox's retry-or-fail: 4xx and broken connections are retried, 5xx is final."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage

import aiosmtplib
import structlog

from channels.base import ChannelError

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str
    port: int = 587
    user: str | None = None
    password: str | None = None
    starttls: bool = True  # SMTP_STARTTLS; ignored when ssl is on
    ssl: bool = False  # SMTP_SSL: implicit TLS (port 465)
    timeout: float = 30.0
    ca_file: str | None = None  # SMTP_CA_FILE: trust this CA besides the system's


async def send_mail(config: SmtpConfig, mail: EmailMessage) -> None:
    """Hand `mail` to the SMTP server; raises ChannelError saying whether to retry."""
    try:
        await aiosmtplib.send(
            mail,
            hostname=config.host,
            port=config.port,
            username=config.user,
            password=config.password,
            use_tls=config.ssl,
            start_tls=None if config.ssl else config.starttls,
            timeout=config.timeout,
            cert_bundle=config.ca_file,
        )
    except aiosmtplib.SMTPRecipientsRefused as exc:
        codes = [r.code for r in exc.recipients]
        detail = "; ".join(f"{r.code} {r.message}" for r in exc.recipients)
        raise _by_code(min(codes) if codes else 550, f"recipient refused: {detail}") from exc
    except aiosmtplib.SMTPAuthenticationError as exc:
        raise ChannelError(
            f"the SMTP server refused the login ({exc.code} {exc.message}): "
            "check SMTP_USER and SMTP_PASSWORD",
            retryable=exc.code < 500,
            code=str(exc.code),
        ) from exc
    except aiosmtplib.SMTPResponseException as exc:
        raise _by_code(exc.code, f"{exc.code} {exc.message}") from exc
    except (aiosmtplib.SMTPException, OSError) as exc:  # connect, TLS, timeout, disconnect
        raise ChannelError(
            f"the SMTP server could not be reached: {type(exc).__name__}: {exc}",
            retryable=True,
        ) from exc


def _by_code(code: int, text: str) -> ChannelError:
    retryable = 400 <= code < 500
    return ChannelError(
        f"the SMTP server {'deferred' if retryable else 'rejected'} the mail: {text}",
        retryable=retryable,
        code=str(code),
    )
