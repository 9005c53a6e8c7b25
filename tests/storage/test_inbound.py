"""store_inbound_batch: contacts, threading into dialogs, and idempotency."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update

from dialogs.model import ChannelKind
from storage import Database
from storage.inbound import PreparedInbound, store_inbound_batch
from storage.tables import contact_identities, contacts, dialogs, messages
from tests.builders import inbound

NOW = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
WINDOW = timedelta(days=7)


async def store(db: Database, *msgs, now=NOW):  # type: ignore[no-untyped-def]
    return await db.run_write(
        store_inbound_batch, [PreparedInbound(m) for m in msgs], now=now, reopen_window=WINDOW
    )


async def count(db: Database, table) -> int:  # type: ignore[no-untyped-def]
    async with db.read() as tx:
        return int((await tx.execute(select(func.count()).select_from(table))).scalar_one())


async def test_first_message_creates_contact_and_dialog(db: Database) -> None:
    """A first message from an unknown contact creates the contact, its identity and a dialog."""
    [result] = await store(db, inbound("m1", name="Ann"))
    assert not result.duplicate and result.dialog_created
    async with db.read() as tx:
        row = (await tx.execute(select(messages).where(messages.c.id == result.message_id))).one()
        contact = (await tx.execute(select(contacts))).one()
    assert row.dialog_id == result.dialog_id and row.direction == "in" and row.status == "received"
    assert row.routed_at is None
    assert contact.name == "Ann"


async def test_follow_up_joins_open_dialog(db: Database) -> None:
    """A second message from the same contact on the same channel joins the open dialog."""
    [first] = await store(db, inbound("m1"))
    [second] = await store(db, inbound("m2"))
    assert second.dialog_id == first.dialog_id and not second.dialog_created
    assert await count(db, dialogs) == 1


async def test_redelivery_is_stored_once(db: Database) -> None:
    """The same (channel, external id) again returns the original message, marked duplicate."""
    [first] = await store(db, inbound("m1"))
    [again] = await store(db, inbound("m1", text="different body"))
    assert again.duplicate and again.message_id == first.message_id
    assert await count(db, messages) == 1


async def test_duplicates_inside_one_batch(db: Database) -> None:
    """Two copies in one batch store one message; both callers learn its id."""
    a, b, c = await store(db, inbound("m1"), inbound("m1"), inbound("m2", contact="c-2"))
    assert not a.duplicate and b.duplicate and a.message_id == b.message_id
    assert c.dialog_id != a.dialog_id
    assert await count(db, messages) == 2


async def test_same_external_id_on_another_channel_is_another_message(db: Database) -> None:
    """Idempotency is per channel: equal ids on two channels are two messages."""
    a, b = await store(db, inbound("m1"), inbound("m1", channel=ChannelKind.WIDGET))
    assert a.message_id != b.message_id and not b.duplicate


async def test_contacts_merge_by_email_across_channels(db: Database) -> None:
    """A new identity whose email is already known joins that contact."""
    [a] = await store(db, inbound("m1", contact="tg-1", email="Ann@Example.com"))
    [b] = await store(
        db,
        inbound(
            "m2", contact="ann@example.com", channel=ChannelKind.EMAIL, email="ann@example.com"
        ),
    )
    assert a.contact_id == b.contact_id
    assert a.dialog_id != b.dialog_id  # one dialog per channel thread
    assert await count(db, contact_identities) == 2


async def test_contacts_merge_by_phone(db: Database) -> None:
    """A WhatsApp number already known from another channel joins that contact."""
    [a] = await store(db, inbound("m1", contact="c-9", phone="+48600100200"))
    [b] = await store(
        db, inbound("w1", contact="48600100200", channel=ChannelKind.WHATSAPP, phone="+48600100200")
    )
    assert a.contact_id == b.contact_id


async def test_closed_dialog_reopens_within_window(db: Database) -> None:
    """A reply within the reopen window reopens the closed dialog."""
    [first] = await store(db, inbound("m1"))
    await close_dialog(db, first.dialog_id, NOW)
    [reply] = await store(db, inbound("m2"), now=NOW + WINDOW - timedelta(minutes=1))
    assert reply.dialog_id == first.dialog_id
    async with db.read() as tx:
        status = (await tx.execute(select(dialogs.c.status))).scalar_one()
    assert status == "open"


async def test_closed_dialog_outside_window_starts_new(db: Database) -> None:
    """After the reopen window a message starts a new dialog and the old stays closed."""
    [first] = await store(db, inbound("m1"))
    await close_dialog(db, first.dialog_id, NOW)
    [late] = await store(db, inbound("m2"), now=NOW + WINDOW + timedelta(minutes=1))
    assert late.dialog_id != first.dialog_id and late.dialog_created
    async with db.read() as tx:
        statuses = dict((await tx.execute(select(dialogs.c.id, dialogs.c.status))).all())
    assert statuses == {first.dialog_id: "closed", late.dialog_id: "open"}


async def test_thread_keys_separate_dialogs(db: Database) -> None:
    """Parallel threads of one contact (e.g. two email subjects) are two dialogs."""
    a, b, c = await store(
        db,
        inbound("m1", thread_key="t1"),
        inbound("m2", thread_key="t2"),
        inbound("m3", thread_key="t1"),
    )
    assert a.dialog_id == c.dialog_id != b.dialog_id


async def test_message_tags_merge_into_dialog(db: Database) -> None:
    """Tags sent with messages accumulate on the dialog without repeats."""
    [a] = await store(db, inbound("m1", tags=("vip", "b2b")))
    await store(db, inbound("m2", tags=("vip", "urgent")))
    async with db.read() as tx:
        tags = (
            await tx.execute(select(dialogs.c.tags).where(dialogs.c.id == a.dialog_id))
        ).scalar_one()
    assert sorted(tags) == ["b2b", "urgent", "vip"]


async def close_dialog(db: Database, dialog_id: int, at: datetime) -> None:
    async with db.write() as tx:
        await tx.execute(
            update(dialogs).where(dialogs.c.id == dialog_id).values(status="closed", closed_at=at)
        )
