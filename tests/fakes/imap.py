"""A real Dovecot IMAP server on a free loopback port, with a temporary maildir and one user.

Dovecot runs unprivileged-style from its own config file (`dovecot -c FILE -F`): its own
base_dir, a passwd-file passdb, a static userdb and `mail_location = maildir:…`. Run as
root (as CI does), Dovecot refuses root for its login and mail processes, so they run as
Debian's `dovenull` and `dovecot` users and the mail store belongs to `dovecot`.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.fakes.tls import make_certificate

USER = "support"
PASSWORD = "s3cret-imap"

_CONFIG = """\
base_dir = {base}/run
state_dir = {base}/state
instance_name = relaydesk-test-{port}
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
disable_plaintext_auth = no
auth_mechanisms = plain login
log_path = {base}/dovecot.log
mail_location = maildir:{base}/mail/%u
first_valid_uid = 0
default_login_user = {login_user}
default_internal_user = {internal_user}
default_internal_group = {internal_group}
imap_idle_notify_interval = 1 secs
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {base}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={base}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
  }}
  chroot =
}}
service anvil {{
  chroot =
}}
"""


@dataclass(frozen=True)
class Dovecot:
    host: str
    port: int  # plain IMAP
    user: str
    password: str
    base: Path
    tls_port: int  # IMAP over TLS, with a self-signed certificate: trust `ca_file`
    ca_file: Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_listening(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"dovecot exited: {log.read_text() if log.exists() else ''}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2) as s:
            s.settimeout(2)
            if s.recv(100).startswith(b"* OK"):
                return
        time.sleep(0.05)
    raise RuntimeError("dovecot did not start listening")


@contextlib.contextmanager
def run_dovecot() -> Iterator[Dovecot]:
    """Start Dovecot for the duration of the block; its mail store is removed afterwards."""
    binary = shutil.which("dovecot") or "/usr/sbin/dovecot"
    base = Path(tempfile.mkdtemp(prefix="relaydesk-dovecot-"))
    os.chmod(base, 0o755)
    port, tls_port = free_port(), free_port()
    cert, key = make_certificate(base)
    if os.getuid() == 0:
        mail_user = pwd.getpwnam("dovecot")
        uid, gid = mail_user.pw_uid, mail_user.pw_gid
        login_user, internal_user, internal_group = "dovenull", "dovecot", "dovecot"
    else:
        uid, gid = os.getuid(), os.getgid()
        me = pwd.getpwuid(uid).pw_name
        login_user = internal_user = me
        internal_group = me
    (base / "mail").mkdir()
    os.chown(base / "mail", uid, gid)
    passwd = base / "passwd"
    passwd.write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
    passwd.chmod(0o644)
    config = base / "dovecot.conf"
    config.write_text(
        _CONFIG.format(
            base=base,
            port=port,
            tls_port=tls_port,
            cert=cert,
            key=key,
            uid=uid,
            gid=gid,
            login_user=login_user,
            internal_user=internal_user,
            internal_group=internal_group,
        )
    )
    proc = subprocess.Popen(
        [binary, "-c", str(config), "-F"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        _wait_listening(port, proc, base / "dovecot.log")
        yield Dovecot("127.0.0.1", port, USER, PASSWORD, base, tls_port, cert)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()
        shutil.rmtree(base, ignore_errors=True)


async def append(server: Dovecot, folder: str, *messages: bytes) -> None:
    """Deliver `messages` into `folder` (created when missing) with IMAP APPEND."""
    import aioimaplib

    client = aioimaplib.IMAP4(server.host, server.port, timeout=30)
    await client.wait_hello_from_server()
    await client.login(server.user, server.password)
    await client.create(f'"{folder}"')
    for raw in messages:
        response = await client.append(raw, mailbox=f'"{folder}"')
        assert response.result == "OK", response
    await _logout(client)


async def folder_uids(server: Dovecot, folder: str, criteria: str = "ALL") -> list[int]:
    """UIDs in `folder` matching an IMAP SEARCH (e.g. "UNSEEN", "SEEN")."""
    import aioimaplib

    client = aioimaplib.IMAP4(server.host, server.port, timeout=30)
    await client.wait_hello_from_server()
    await client.login(server.user, server.password)
    await client.create(f'"{folder}"')
    await client.select(f'"{folder}"')
    response = await client.uid_search(criteria, charset=None)
    await _logout(client)
    return [int(x) for line in response.lines[:-1] for x in bytes(line).split() if x.isdigit()]


async def recreate_folder(server: Dovecot, folder: str) -> None:
    """Delete and create `folder` again: it comes back with a new UIDVALIDITY."""
    import aioimaplib

    client = aioimaplib.IMAP4(server.host, server.port, timeout=30)
    await client.wait_hello_from_server()
    await client.login(server.user, server.password)
    await client.delete(f'"{folder}"')
    await client.create(f'"{folder}"')
    await _logout(client)


async def _logout(client: Any) -> None:
    """LOGOUT, then close our end at once: the server's FIN may come after the loop ends."""
    await client.logout()
    if client.protocol.transport is not None:
        client.protocol.transport.close()
