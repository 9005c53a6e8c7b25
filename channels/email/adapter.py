"""The email channel: IMAP pollers in (one per mailbox), SMTP out through the outbox."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import structlog

from channels.base import (
    ChannelError,
    Handler,
    Ingest,
    OutboundMessage,
    RateLimit,
    SendReceipt,
    StatusSink,
)
from channels.email.compose import build_email, domain_of, our_message_id
from channels.email.imap import CursorStore, MailboxConfig, MailboxPoller
from channels.email.mime import MimeLimits
from channels.email.smtp import SmtpConfig, send_mail

log = structlog.get_logger(__name__)

MIME_DEFAULTS = MimeLimits()


@dataclass(frozen=True, slots=True)
class EmailConfig:
    mailboxes: tuple[MailboxConfig, ...]
    smtp: SmtpConfig | None  # None: inbound only; replies fail visibly
    sender: str  # SMTP_FROM, e.g. "Support <support@example.com>"
    limits: MimeLimits = MIME_DEFAULTS
    subject_window: timedelta | None = None  # join by same sender + subject within this


class EmailChannel:
    kind = "email"
    rate_limit = RateLimit(per_second=10, burst=10)  # gentle on the relay; it has its own limits

    def __init__(
        self,
        config: EmailConfig,
        *,
        ingest: Ingest,
        status_update: StatusSink,
        cursors: CursorStore,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._config = config
        self._clock = clock
        self.pollers = [
            MailboxPoller(
                box,
                ingest=ingest,
                status_update=status_update,
                cursors=cursors,
                limits=config.limits,
                subject_window=config.subject_window,
                clock=clock,
            )
            for box in config.mailboxes
        ]

    def routes(self) -> Sequence[tuple[str, str, Handler]]:
        return []

    async def start(self) -> None:
        for poller in self.pollers:
            poller.start()

    async def stop(self) -> None:
        for poller in self.pollers:
            await poller.stop()

    async def send(self, message: OutboundMessage) -> SendReceipt:
        if self._config.smtp is None:
            raise ChannelError(
                "email replies need SMTP: set SMTP_HOST and SMTP_FROM", retryable=False
            )
        mail = build_email(message, sender=self._config.sender, now=self._clock())
        await send_mail(self._config.smtp, mail)
        log.info("email_sent", message_id=message.message_id, dialog_id=message.dialog_id)
        domain = domain_of(self._config.sender)
        return SendReceipt(our_message_id(message.message_id, message.dialog_id, domain))
