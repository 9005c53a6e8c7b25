"""The email channel's settings: IMAP_*/SMTP_* variables and the IMAP_MAILBOXES file."""

from __future__ import annotations

from pathlib import Path

import pytest

from relaydesk.channels import build_channels
from relaydesk.settings import Settings, SettingsError

BASE = {
    "IMAP_HOST": "imap.example.com",
    "IMAP_USER": "support@example.com",
    "IMAP_PASSWORD": "pw",
    "SMTP_HOST": "smtp.example.com",
    "SMTP_FROM": "Support <support@example.com>",
}


def email_of(env: dict[str, str]):  # type: ignore[no-untyped-def]
    return Settings.from_env(env).email


def test_off_without_hosts() -> None:
    """No IMAP_HOST, SMTP_HOST or IMAP_MAILBOXES: no email channel."""
    assert email_of({}) is None
    assert "email" not in build_channels(
        Settings.from_env({}), ingest=_never, edit=_never, status_update=_never
    )


def test_defaults_from_the_environment() -> None:
    """Implicit TLS on 993, INBOX, \\Seen after commit, IDLE renewed every 20 minutes, STARTTLS on 587."""
    email = email_of(BASE)
    assert email is not None
    box = email.mailboxes[0]
    assert (box.port, box.ssl, box.folder, box.move_to, box.idle_renew_seconds) == (
        993,
        True,
        "INBOX",
        None,
        1200,
    )
    assert email.smtp is not None
    assert (email.smtp.port, email.smtp.starttls, email.smtp.ssl) == (587, True, False)
    assert email.max_attachment_bytes == 10 * 1024 * 1024
    assert email.subject_window_hours == 0
    channels = build_channels(
        Settings.from_env(BASE), ingest=_never, edit=_never, status_update=_never
    )
    assert channels["email"].kind == "email"


def test_overrides() -> None:
    """Plain IMAP on 143, a move folder, SMTP over SSL on 465, limits, a subject window, CAs."""
    email = email_of(
        {
            **BASE,
            "IMAP_SSL": "false",
            "IMAP_MOVE_TO": "Processed",
            "IMAP_FOLDER": "Support",
            "SMTP_SSL": "true",
            "IMAP_MAX_ATTACHMENT_MB": "3",
            "IMAP_SUBJECT_WINDOW_HOURS": "48",
            "IMAP_CA_FILE": "/etc/ssl/private-ca.pem",
            "SMTP_CA_FILE": "/etc/ssl/relay-ca.pem",
        }
    )
    assert email is not None and email.smtp is not None
    box = email.mailboxes[0]
    assert (box.port, box.ssl, box.folder, box.move_to) == (143, False, "Support", "Processed")
    assert (email.smtp.port, email.smtp.ssl, email.smtp.starttls) == (465, True, False)
    assert email.max_attachment_bytes == 3 * 1024 * 1024
    assert email.subject_window_hours == 48
    assert (box.ca_file, email.smtp.ca_file) == ("/etc/ssl/private-ca.pem", "/etc/ssl/relay-ca.pem")


@pytest.mark.parametrize(
    ("env", "fragment"),
    [
        ({"IMAP_HOST": "h"}, "IMAP_USER and IMAP_PASSWORD"),
        ({"SMTP_HOST": "h"}, "SMTP_FROM is required"),
        ({**BASE, "IMAP_SSL": "maybe"}, "IMAP_SSL must be true or false"),
        ({**BASE, "IMAP_IDLE_RENEW_SECONDS": "1800"}, "under 1740"),
        ({**BASE, "IMAP_PORT": "x"}, "IMAP_PORT must be a whole number"),
    ],
    ids=["no credentials", "no sender", "bad boolean", "idle too long", "bad port"],
)
def test_misconfiguration_is_a_clear_error(env: dict[str, str], fragment: str) -> None:
    """A misconfigured channel stops the start with a message naming the variable."""
    with pytest.raises(SettingsError, match=fragment):
        Settings.from_env(env)


def test_more_mailboxes_from_a_file(tmp_path: Path) -> None:
    """IMAP_MAILBOXES lists more mailboxes; passwords inline or from IMAP_* variables."""
    path = tmp_path / "mailboxes.yaml"
    path.write_text(
        "mailboxes:\n"
        "  - {name: sales, host: imap.example.com, user: sales@example.com,"
        " password_env: IMAP_SALES_PASSWORD, move_to: Done}\n"
        "  - {name: billing, host: mail.example.org, port: 1143, ssl: false,"
        " user: billing, password: pw2}\n"
    )
    email = email_of({**BASE, "IMAP_MAILBOXES": str(path), "IMAP_SALES_PASSWORD": "pw1"})
    assert email is not None
    assert [(m.name, m.port, m.password, m.move_to) for m in email.mailboxes] == [
        ("default", 993, "pw", None),
        ("sales", 993, "pw1", "Done"),
        ("billing", 1143, "pw2", None),
    ]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("mailboxes:\n  - {name: a, host: h, user: u}\n", "needs password or password_env"),
        ("mailboxes:\n  - {name: a, host: h, user: u, password: p, colour: red}\n", "colour"),
        ("mailboxes: [\n", "IMAP_MAILBOXES"),
    ],
    ids=["no password", "unknown key", "bad yaml"],
)
def test_bad_mailbox_file(tmp_path: Path, text: str, fragment: str) -> None:
    """Mistakes in the file are reported with the file's name and the bad key."""
    path = tmp_path / "mailboxes.yaml"
    path.write_text(text)
    with pytest.raises(SettingsError, match=fragment):
        Settings.from_env({"IMAP_MAILBOXES": str(path)})


async def _never(_: object) -> None:
    raise AssertionError("not called")
