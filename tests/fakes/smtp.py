"""A real SMTP server (aiosmtpd) on 127.0.0.1 collecting what it accepts, with scripted replies.

aiosmtpd's Controller serves from a thread of its own; each accepted mail is handed to
the test's event loop, where `wait_for(count)` awaits it without polling.
"""

from __future__ import annotations

import asyncio
import shutil
import ssl
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.fakes.imap import free_port
from tests.fakes.tls import make_certificate


@dataclass
class SmtpFake:
    host: str = "127.0.0.1"
    port: int = 0
    received: list[EmailMessage] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)  # next DATA answers, e.g. "451 4.3.0 later"
    attempts: int = 0
    ca_file: str | None = None
    _loop: asyncio.AbstractEventLoop | None = None
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.attempts += 1
        if self.replies:
            return self.replies.pop(0)
        mail = BytesParser(policy=policy.default).parsebytes(envelope.content)
        assert isinstance(mail, EmailMessage)
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._accept, mail)
        return "250 2.0.0 OK queued"

    def _accept(self, mail: EmailMessage) -> None:
        self.received.append(mail)
        self._changed.set()

    async def wait_for(self, count: int, within: float = 30) -> list[EmailMessage]:
        """Return once `count` mails have been accepted in all."""
        async with asyncio.timeout(within):
            while len(self.received) < count:
                self._changed.clear()
                await self._changed.wait()
        return self.received


def _password_check(login: str, password: str) -> Any:
    def authenticate(
        server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            login.encode(),
            password.encode(),
        )
        return AuthResult(success=ok, handled=False)  # not handled: aiosmtpd answers 535

    return authenticate


@contextmanager
def run_smtp(login: tuple[str, str] | None = None, *, starttls: bool = False) -> Iterator[SmtpFake]:
    """Serve SMTP on a free loopback port for the duration of the block. With `login`, AUTH
    PLAIN/LOGIN is offered and checked against it; with `starttls`, STARTTLS is required
    (a self-signed certificate: trust `ca_file`)."""
    fake = SmtpFake(port=free_port())
    fake._loop = asyncio.get_running_loop()
    options: dict[str, Any] = (
        {"authenticator": _password_check(*login), "auth_require_tls": starttls} if login else {}
    )
    workdir = Path(tempfile.mkdtemp(prefix="relaydesk-smtp-"))
    if starttls:
        cert, key = make_certificate(workdir)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        options.update(tls_context=context, require_starttls=True)
        fake.ca_file = str(cert)
    controller = Controller(fake, hostname=fake.host, port=fake.port, **options)
    controller.start()
    try:
        yield fake
    finally:
        controller.stop()
        shutil.rmtree(workdir, ignore_errors=True)
