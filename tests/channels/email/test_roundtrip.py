"""End to end through the whole application, a real Dovecot and a real SMTP server: mail in,
reply out with threading headers, the customer's answer back into the same dialog, a bounce
marking our reply failed, and no automatic reply to an automated sender."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from inbox.context import SERVICES
from relaydesk.app import create_app
from relaydesk.settings import Settings
from tests.channels.email.conftest import customer_mail
from tests.conftest import AUTH, DATA, TOKEN
from tests.fakes.imap import Dovecot, append
from tests.fakes.smtp import SmtpFake

SUPPORT = "support@relaydesk.test"


@pytest.fixture
async def app_client(
    aiohttp_client: Any, db_url: str, tmp_path: Path, dovecot: Dovecot, smtp: SmtpFake, folder: str
) -> AsyncIterator[TestClient]:
    env = {
        "IMAP_HOST": dovecot.host,
        "IMAP_PORT": str(dovecot.port),
        "IMAP_USER": dovecot.user,
        "IMAP_PASSWORD": dovecot.password,
        "IMAP_SSL": "false",
        "IMAP_FOLDER": folder,
        "SMTP_HOST": smtp.host,
        "SMTP_PORT": str(smtp.port),
        "SMTP_STARTTLS": "false",
        "SMTP_FROM": f"Relaydesk Support <{SUPPORT}>",
    }
    settings = Settings(
        database_url=db_url,
        api_token=TOKEN,
        data_dir=tmp_path / "data",
        rules_path=DATA / "rules" / "email_auto_reply.yaml",
        channel_env=env,
    )
    yield await aiohttp_client(create_app(settings, bootstrap_admin=False))


async def next_event(queue: asyncio.Queue[dict[str, Any]], **match: Any) -> dict[str, Any]:
    async with asyncio.timeout(30):
        while True:
            event = await queue.get()
            if all(event.get(k) == v for k, v in match.items()):
                return event


async def dialog(client: TestClient, dialog_id: int) -> dict[str, Any]:
    response = await client.get(f"/api/v1/dialogs/{dialog_id}", headers=AUTH)
    assert response.status == 200
    return dict(await response.json())


async def test_reply_threads_out_and_the_answer_threads_back(
    app_client: TestClient, dovecot: Dovecot, smtp: SmtpFake, folder: str
) -> None:
    """The customer's mail opens a dialog; the agent's reply carries In-Reply-To, References
    and the [#id] token; the customer's answer joins the same dialog; a bounce fails a reply."""
    bus = app_client.server.app[SERVICES].bus
    with bus.subscription() as events:
        await append(dovecot, folder, customer_mail("first", subject="Printer broken"))
        received = await next_event(events, type="message_received", direction="in")
        dialog_id = received["dialog_id"]

        auto = (await smtp.wait_for(1))[0]  # the rules' acknowledgement
        assert auto["Auto-Submitted"] == "auto-replied"
        assert auto["In-Reply-To"] == "<mfirst@customer.test>"

        response = await app_client.post(
            f"/api/v1/dialogs/{dialog_id}/replies",
            json={"text": "Please restart it."},
            headers=AUTH,
        )
        assert response.status == 201, await response.text()
        reply_id = (await response.json())["id"]
        mail = (await smtp.wait_for(2))[1]
        assert mail["To"] == "anna@customer.test"
        assert mail["From"] == f"Relaydesk Support <{SUPPORT}>"
        assert mail["Subject"] == f"Re: Printer broken [#{dialog_id}]"
        assert mail["In-Reply-To"] == "<mfirst@customer.test>"
        assert mail["References"] == "<mfirst@customer.test>"
        assert mail["Message-ID"] == f"<rd.{reply_id}.{dialog_id}@relaydesk.test>"
        assert "Auto-Submitted" not in mail
        assert mail.get_content().strip() == "Please restart it."
        await next_event(events, type="message_updated", message_id=reply_id, status="sent")

        answer = customer_mail(
            "answer",
            subject=f"Re: Printer broken [#{dialog_id}]",
            body="Restarted, works now.\n\nOn Mon, Support wrote:\n> Please restart it.",
            headers=f"In-Reply-To: <rd.{reply_id}.{dialog_id}@relaydesk.test>\r\n"
            f"References: <mfirst@customer.test> <rd.{reply_id}.{dialog_id}@relaydesk.test>\r\n",
        )
        await append(dovecot, folder, answer)
        back = await next_event(events, type="message_received", direction="in")
        assert back["dialog_id"] == dialog_id

        bounce = (
            (DATA / "email" / "dsn_failed.eml")
            .read_bytes()
            .replace(
                b"rd.101.7@relaydesk.test", f"rd.{reply_id}.{dialog_id}@relaydesk.test".encode()
            )
        )
        await append(dovecot, folder, bounce)
        await next_event(events, type="message_updated", message_id=reply_id, status="failed")

    detail = await dialog(app_client, dialog_id)
    texts = [(m["direction"], m["text"]) for m in detail["messages"]]
    assert ("in", "It is broken. #first") in texts
    assert ("in", "Restarted, works now.") in texts  # the quoted history stripped
    answer_out = next(m for m in detail["messages"] if m["text"] == "Restarted, works now.")
    assert "> Please restart it." in answer_out["original"]["text"]  # kept for display
    assert answer_out["automated"] is False
    failed = next(m for m in detail["messages"] if m["id"] == reply_id)
    assert failed["status"] == "failed" and "User unknown" in failed["error"]
    listing = await (await app_client.get("/api/v1/dialogs", headers=AUTH)).json()
    assert [d["id"] for d in listing["items"]] == [dialog_id]  # the bounce opened no dialog


async def test_no_automatic_reply_to_an_automated_sender(
    app_client: TestClient, dovecot: Dovecot, smtp: SmtpFake, folder: str
) -> None:
    """An out-of-office mail is stored as automated and gets no acknowledgement; a person's
    mail delivered after it does, so the first was routed and skipped, not merely slow."""
    bus = app_client.server.app[SERVICES].bus
    with bus.subscription() as events:
        ooo = customer_mail(
            "ooo", sender="Henry <henry@customer.test>", headers="Auto-Submitted: auto-replied\r\n"
        )
        await append(
            dovecot, folder, ooo, customer_mail("person", sender="Kate <kate@customer.test>")
        )
        await next_event(events, type="message_received", direction="in")
        mails = await smtp.wait_for(1)
    assert [m["To"] for m in mails] == ["kate@customer.test"]
    listing = await (await app_client.get("/api/v1/dialogs", headers=AUTH)).json()
    henry = next(d for d in listing["items"] if d["contact"]["name"] == "Henry")
    messages = (await dialog(app_client, henry["id"]))["messages"]
    assert [(m["direction"], m["automated"]) for m in messages] == [("in", True)]
