"""Threading in the store: References (ours and theirs), the subject token, the optional
subject window, and never a join into another contact's dialog."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from channels.email.normalize import normalize_email
from dialogs.ingest import utcnow
from dialogs.model import InboundMessage
from storage.tables import dialogs, messages
from tests.channels.email.conftest import Pipeline, customer_mail


def mail(
    n: str,
    *,
    sender: str = "Anna <anna@customer.test>",
    subject: str = "Printer",
    refs: str = "",
    window: timedelta | None = None,
) -> InboundMessage:
    headers = f"References: {refs}\r\nIn-Reply-To: {refs.split()[-1]}\r\n" if refs else ""
    parsed = normalize_email(
        customer_mail(n, sender=sender, subject=subject, headers=headers), subject_window=window
    )
    assert isinstance(parsed, InboundMessage)
    return parsed


async def test_references_to_their_message_join_its_dialog(pipe: Pipeline) -> None:
    """An answer naming the customer's earlier mail joins that dialog; a new mail does not."""
    first = await pipe.ingest(mail("a"))
    answer = await pipe.ingest(mail("b", subject="Re: Printer", refs="<ma@customer.test>"))
    fresh = await pipe.ingest(mail("c", subject="Another thing"))
    assert answer.dialog_id == first.dialog_id
    assert fresh.dialog_id != first.dialog_id


async def test_references_to_our_reply_join_its_dialog(pipe: Pipeline) -> None:
    """Outlook may drop the root: naming only our reply's Message-ID is enough."""
    first = await pipe.ingest(mail("a"))
    async with pipe.db.write() as tx:  # our reply, as the outbox records a sent one
        await tx.execute(
            messages.insert().values(
                dialog_id=first.dialog_id,
                direction="out",
                channel="email",
                external_id="rd.99.1@relaydesk.test",
                text="Restart it",
                status="sent",
                thread_hints={},
                history=[],
                created_at=utcnow(),
            )
        )
    answer = await pipe.ingest(mail("b", refs="<rd.99.1@relaydesk.test>"))
    assert answer.dialog_id == first.dialog_id


async def test_subject_token_joins_only_the_same_contacts_dialog(pipe: Pipeline) -> None:
    """ "[#id]" joins that dialog for its contact; another sender quoting it gets their own."""
    first = await pipe.ingest(mail("a"))
    token = f"Re: Printer [#{first.dialog_id}]"
    same = await pipe.ingest(mail("b", subject=token))
    stranger = await pipe.ingest(mail("c", sender="Eve <eve@evil.test>", subject=token))
    assert same.dialog_id == first.dialog_id
    assert stranger.dialog_id != first.dialog_id


async def test_references_never_join_another_contacts_dialog(pipe: Pipeline) -> None:
    """A forged References naming someone else's mail opens the sender's own dialog."""
    victim = await pipe.ingest(mail("a"))
    forged = await pipe.ingest(mail("b", sender="Eve <eve@evil.test>", refs="<ma@customer.test>"))
    assert forged.dialog_id != victim.dialog_id
    assert forged.contact_id != victim.contact_id


async def test_subject_window_joins_when_configured(pipe: Pipeline) -> None:
    """Same sender, same normalised subject: joined within the window, not without one."""
    window = timedelta(hours=24)
    first = await pipe.ingest(mail("a", subject="Invoice 12", window=window))
    joined = await pipe.ingest(mail("b", subject="RE: invoice 12", window=window))
    separate = await pipe.ingest(mail("c", subject="RE: invoice 12"))
    other_subject = await pipe.ingest(mail("d", subject="Invoice 13", window=window))
    assert joined.dialog_id == first.dialog_id
    assert separate.dialog_id != first.dialog_id
    assert other_subject.dialog_id not in (first.dialog_id, separate.dialog_id)


async def test_subject_window_expires(pipe: Pipeline) -> None:
    """A dialog quiet for longer than the window is not joined by subject."""
    window = timedelta(hours=1)
    first = await pipe.ingest(mail("a", subject="Invoice 12", window=window))
    async with pipe.db.write() as tx:
        await tx.execute(update(dialogs).values(last_message_at=utcnow() - timedelta(hours=2)))
    later = await pipe.ingest(mail("b", subject="Re: Invoice 12", window=window))
    assert later.dialog_id != first.dialog_id
