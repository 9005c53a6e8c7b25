"""IMAP over TLS against Dovecot's imaps listener, and the failures a user must be told about."""

from __future__ import annotations

import asyncio

import pytest

from channels.email.imap_client import ImapAccount, ImapError, ImapLoginError, ImapSession
from tests.channels.email.conftest import Pipeline, customer_mail
from tests.fakes.imap import Dovecot, append


async def test_mail_over_tls(pipe: Pipeline, dovecot: Dovecot, folder: str) -> None:
    """With IMAP_SSL (the default) and the server's CA trusted, mail comes in as over plain IMAP."""
    await append(dovecot, folder, customer_mail(f"{folder}-tls"))
    poller = pipe.poller(dovecot, folder, tls_ca_file=str(dovecot.ca_file), port=dovecot.tls_port)
    poller.start()
    try:
        await pipe.wait_ingested(1)
        await asyncio.wait_for(poller.synced.wait(), 30)
    finally:
        await poller.stop()
    assert await pipe.stored() == [f"m{folder}-tls@customer.test"]


@pytest.mark.parametrize(
    ("account", "error", "says"),
    [
        ("untrusted", ImapError, "CERTIFICATE_VERIFY_FAILED"),
        ("wrong password", ImapLoginError, "login refused"),
    ],
)
async def test_connection_failures_say_why(
    dovecot: Dovecot, account: str, error: type[Exception], says: str
) -> None:
    """An untrusted certificate and a refused login are errors that name the cause."""
    accounts = {
        "untrusted": ImapAccount(dovecot.host, dovecot.tls_port, dovecot.user, dovecot.password),
        "wrong password": ImapAccount(dovecot.host, dovecot.port, dovecot.user, "x", ssl=False),
    }
    session = ImapSession(accounts[account])
    try:
        with pytest.raises(error, match=says):
            await session.connect()
    finally:
        await session.close()
