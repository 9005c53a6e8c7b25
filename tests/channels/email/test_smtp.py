"""Outbound mail: headers built for threading and loop safety, and SMTP answers mapped to
retry (4xx, unreachable) or final failure (5xx) against a real aiosmtpd server."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from channels.base import ChannelError, OutboundAttachment, OutboundMessage
from channels.email.compose import MAX_REFERENCES, build_email
from channels.email.smtp import SmtpConfig, send_mail
from tests.fakes.imap import free_port
from tests.fakes.smtp import SmtpFake, run_smtp

NOW = datetime(2024, 9, 2, 10, 0, tzinfo=UTC)
SENDER = "Support <support@relaydesk.test>"


def outbound(**kw: object) -> OutboundMessage:
    values: dict[str, object] = {
        "message_id": 5,
        "dialog_id": 3,
        "channel": "email",
        "address": "anna@customer.test",
        "text": "Hello",
        "subject": "Printer",
    }
    values.update(kw)
    return OutboundMessage(**values)  # type: ignore[arg-type]


def test_threading_headers_and_token() -> None:
    """In-Reply-To names the latest message, References the chain, the subject the dialog."""
    mail = build_email(outbound(references=("a@x", "b@x")), sender=SENDER, now=NOW)
    assert mail["Message-ID"] == "<rd.5.3@relaydesk.test>"
    assert mail["In-Reply-To"] == "<b@x>"
    assert mail["References"] == "<a@x> <b@x>"
    assert mail["Subject"] == "Re: Printer [#3]"
    assert mail["Date"] == "Mon, 02 Sep 2024 10:00:00 +0000"
    assert "Auto-Submitted" not in mail


def test_automatic_reply_is_marked_and_references_are_trimmed() -> None:
    """An auto-reply says so (RFC 3834); a long chain keeps its root and the latest ids."""
    chain = tuple(f"m{i}@x" for i in range(40))
    mail = build_email(outbound(references=chain, automated=True), sender=SENDER, now=NOW)
    assert mail["Auto-Submitted"] == "auto-replied"
    refs = mail["References"].split()
    assert len(refs) == MAX_REFERENCES and refs[0] == "<m0@x>" and refs[-1] == "<m39@x>"


def test_attachments_go_as_mime_parts() -> None:
    """Files of a reply are attached with their names and types."""
    mail = build_email(
        outbound(attachments=(OutboundAttachment("Счёт.pdf", "application/pdf", b"%PDF"),)),
        sender=SENDER,
        now=NOW,
    )
    parts = list(mail.iter_attachments())
    assert [(p.get_filename(), p.get_content_type()) for p in parts] == [
        ("Счёт.pdf", "application/pdf")
    ]


async def test_accepted_mail_arrives(smtp: SmtpFake) -> None:
    """A plain relay without TLS or auth takes the mail."""
    await send_mail(
        SmtpConfig(smtp.host, smtp.port, starttls=False),
        build_email(outbound(), sender=SENDER, now=NOW),
    )
    assert (await smtp.wait_for(1))[0]["Subject"] == "Re: Printer [#3]"


@pytest.mark.parametrize(
    ("reply", "retryable"),
    [("451 4.3.0 Try again later", True), ("550 5.7.1 Relaying denied", False)],
    ids=["4xx retried", "5xx final"],
)
async def test_smtp_answers_map_to_retry_or_failure(
    smtp: SmtpFake, reply: str, retryable: bool
) -> None:
    """A temporary refusal is retried by the outbox, a permanent one fails the message."""
    smtp.replies.append(reply)
    with pytest.raises(ChannelError) as error:
        await send_mail(
            SmtpConfig(smtp.host, smtp.port, starttls=False),
            build_email(outbound(), sender=SENDER, now=NOW),
        )
    assert error.value.retryable is retryable
    assert error.value.code == reply[:3]
    assert reply[4:] in error.value.message


async def test_unreachable_server_is_retried() -> None:
    """Nothing listening is an outage, not a verdict on the mail."""
    with pytest.raises(ChannelError) as error:
        await send_mail(
            SmtpConfig("127.0.0.1", free_port(), starttls=False, timeout=2),
            build_email(outbound(), sender=SENDER, now=NOW),
        )
    assert error.value.retryable


async def test_auth_login_and_a_refused_login() -> None:
    """With SMTP_USER/SMTP_PASSWORD the sender logs in; a wrong password is a final failure
    that says which settings to check."""
    with run_smtp(login=("relay", "right")) as server:
        mail = build_email(outbound(), sender=SENDER, now=NOW)
        await send_mail(
            SmtpConfig(server.host, server.port, "relay", "right", starttls=False), mail
        )
        assert len(await server.wait_for(1)) == 1
        with pytest.raises(ChannelError) as error:
            await send_mail(
                SmtpConfig(server.host, server.port, "relay", "wrong", starttls=False),
                build_email(outbound(), sender=SENDER, now=NOW),
            )
    assert not error.value.retryable
    assert "SMTP_USER" in error.value.message and error.value.code == "535"


async def test_starttls_with_auth() -> None:
    """STARTTLS (required by the server) and AUTH over it; the CA of a self-signed relay is
    trusted through SMTP_CA_FILE."""
    with run_smtp(login=("relay", "right"), starttls=True) as server:
        config = SmtpConfig(server.host, server.port, "relay", "right", ca_file=server.ca_file)
        await send_mail(config, build_email(outbound(), sender=SENDER, now=NOW))
        assert (await server.wait_for(1))[0]["To"] == "anna@customer.test"
