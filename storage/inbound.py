"""Storing a batch of inbound messages in one transaction: dedup, contacts, dialogs, insert.

Idempotency under concurrency: messages already stored are found first and answered as
duplicates. The rest are inserted with INSERT … ON CONFLICT DO NOTHING on the unique
(channel, external_id): a message another writer stored in the meantime (possible only
with several PostgreSQL processes, where the second INSERT waits for the first
transaction) loses, is answered with the stored one, and a dialog this transaction opened
only for it is deleted again, so a redelivery never leaves an empty dialog behind.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, func, or_, select, update

from dialogs.model import (
    ContactId,
    DialogId,
    DialogStatus,
    Direction,
    InboundMessage,
    IngestResult,
    MessageId,
    MessageStatus,
)
from storage.db import SyncTx
from storage.sql import const, for_update, group_pairs, insert_or_ignore
from storage.tables import attachments, contact_identities, contacts, dialogs, messages
from storage.threads import has_thread_hints, resolve_threads

MessageKey = tuple[str, str]  # (channel, external_id)
IdentityKey = tuple[str, str]  # (channel, address)
ThreadKey = tuple[int, str, str]  # (contact_id, channel, thread_key)


@dataclass(frozen=True, slots=True)
class PreparedInbound:
    """An inbound message whose attachment bodies are already on disk."""

    message: InboundMessage
    attachment_hashes: tuple[str, ...] = ()


def store_inbound_batch(
    tx: SyncTx, batch: Sequence[PreparedInbound], *, now: datetime, reopen_window: timedelta
) -> list[IngestResult]:
    """Store every message of `batch` exactly once; results are in batch order."""
    first_of: dict[MessageKey, PreparedInbound] = {}
    for item in batch:
        first_of.setdefault(_message_key(item.message), item)

    results = _stored(tx, list(first_of))
    fresh = [first_of[key] for key in first_of if key not in results]
    if fresh:
        contact_of = _resolve_contacts(tx, [i.message for i in fresh], now)
        if any(has_thread_hints(i) for i in fresh):  # email: join the thread it answers
            fresh = resolve_threads(tx, fresh, contact_of, now)
        dialog_of, created = _resolve_dialogs(
            tx, [i.message for i in fresh], contact_of, now, reopen_window
        )
        inserted = _insert_messages(tx, fresh, contact_of, dialog_of, now)
        won = [i for i in fresh if _message_key(i.message) in inserted]
        if len(won) < len(fresh):  # stored meanwhile by another writer: theirs stands
            results.update(
                _stored(tx, [k for k in first_of if k not in results and k not in inserted])
            )
            used = {dialog_of[_thread_key(i.message, contact_of)] for i in won}
            if unused := created - used:
                tx.execute(delete(dialogs).where(dialogs.c.id.in_(unused)))
        _touch_dialogs_and_files(tx, won, inserted, contact_of, dialog_of, now)
        for item in won:
            m = item.message
            key = _message_key(m)
            dialog_id = dialog_of[_thread_key(m, contact_of)]
            results[key] = IngestResult(
                MessageId(inserted[key]),
                DialogId(dialog_id),
                ContactId(contact_of[(m.channel, m.contact.address)]),
                duplicate=False,
                dialog_created=dialog_id in created,
            )

    out = []
    for item in batch:
        result = results[_message_key(item.message)]
        if item is not first_of[_message_key(item.message)]:
            result = IngestResult(result.message_id, result.dialog_id, result.contact_id, True)
        out.append(result)
    return out


def _message_key(m: InboundMessage) -> MessageKey:
    return (str(m.channel), m.external_id)


def _thread_key(m: InboundMessage, contact_of: dict[IdentityKey, int]) -> ThreadKey:
    return (contact_of[(m.channel, m.contact.address)], str(m.channel), m.thread_key)


def _stored(tx: SyncTx, keys: list[MessageKey]) -> dict[MessageKey, IngestResult]:
    """Inbound messages already stored under these keys, as duplicate results."""
    found: dict[MessageKey, IngestResult] = {}
    for channel, external_ids in group_pairs(keys).items():
        rows = tx.execute(
            select(
                messages.c.id, messages.c.dialog_id, messages.c.external_id, dialogs.c.contact_id
            )
            .join(dialogs, dialogs.c.id == messages.c.dialog_id)
            .where(
                messages.c.direction == const(Direction.IN.value),
                messages.c.channel == channel,
                messages.c.external_id.in_(external_ids),
            )
        )
        for r in rows:
            found[(channel, r.external_id)] = IngestResult(
                MessageId(r.id), DialogId(r.dialog_id), ContactId(r.contact_id), True
            )
    return found


def _insert_messages(
    tx: SyncTx,
    items: list[PreparedInbound],
    contact_of: dict[IdentityKey, int],
    dialog_of: dict[ThreadKey, int],
    now: datetime,
) -> dict[MessageKey, int]:
    """Insert the messages into their dialogs; the ones that won their key, with their ids."""
    rows: list[dict[str, Any]] = [
        {
            "dialog_id": dialog_of[_thread_key(i.message, contact_of)],
            "direction": Direction.IN.value,
            "channel": str(i.message.channel),
            "external_id": i.message.external_id,
            "kind": i.message.kind,
            "text": i.message.text,
            "status": MessageStatus.RECEIVED.value,
            "author": None,
            "automated": i.message.is_automated,
            "thread_hints": dict(i.message.thread_hints),
            "raw": dict(i.message.raw) if i.message.raw is not None else None,
            "history": [],
            "sent_at": i.message.provider_ts,
            "created_at": now,
        }
        for i in items
    ]
    stmt = insert_or_ignore(tx, messages).returning(
        messages.c.id, messages.c.channel, messages.c.external_id
    )
    return {(r.channel, r.external_id): r.id for r in tx.execute(stmt, rows)}


def _insert_contacts(
    tx: SyncTx, rows: list[dict[str, Any]], keys: list[IdentityKey]
) -> dict[IdentityKey, int]:
    """Insert contact rows in one statement; their ids by identity key.

    A contact row has no natural key to return beside its id, and SQLAlchemy keeps RETURNING
    in parameter order on SQLite only by inserting row by row. There this transaction is the
    only writer (BEGIN IMMEDIATE), so the ids are chosen here: the next ones after the largest.
    """
    if tx.dialect.name == "sqlite":
        first = int(tx.execute(select(func.coalesce(func.max(contacts.c.id), 0))).scalar_one()) + 1
        ids = list(range(first, first + len(rows)))
        tx.execute(contacts.insert(), [{**row, "id": i} for row, i in zip(rows, ids, strict=True)])
    else:
        result = tx.execute(
            contacts.insert().returning(contacts.c.id, sort_by_parameter_order=True), rows
        )
        ids = [int(i) for i in result.scalars()]
    return dict(zip(keys, ids, strict=True))


def _resolve_contacts(
    tx: SyncTx, batch: list[InboundMessage], now: datetime
) -> dict[IdentityKey, int]:
    wanted: dict[IdentityKey, InboundMessage] = {}
    for m in batch:
        wanted.setdefault((str(m.channel), m.contact.address), m)
    contact_of = _select_identities(tx, list(wanted))
    missing = {k: m for k, m in wanted.items() if k not in contact_of}
    if not missing:
        return contact_of

    # The same email address or phone number seen on another channel is the same person.
    by_email = {m.contact.email.lower(): k for k, m in missing.items() if m.contact.email}
    by_phone = {m.contact.phone: k for k, m in missing.items() if m.contact.phone}
    merged: dict[IdentityKey, int] = {}
    if by_email or by_phone:
        found = tx.execute(
            select(contacts.c.id, contacts.c.email, contacts.c.phone)
            .where(
                or_(
                    *([contacts.c.email.in_(list(by_email))] if by_email else []),
                    *([contacts.c.phone.in_(list(by_phone))] if by_phone else []),
                )
            )
            .order_by(contacts.c.id)
        )
        for row in found:
            key = by_email.get((row.email or "").lower()) or by_phone.get(row.phone or "")
            if key is not None:
                merged.setdefault(key, row.id)

    new_keys = [k for k in missing if k not in merged]
    if new_keys:
        merged.update(
            _insert_contacts(tx, [_contact_row(missing[k], now) for k in new_keys], new_keys)
        )

    inserted = tx.execute(
        insert_or_ignore(tx, contact_identities).returning(
            contact_identities.c.channel, contact_identities.c.address
        ),
        [
            {
                "contact_id": merged[k],
                "channel": k[0],
                "address": k[1],
                "display_name": missing[k].contact.name,
                "created_at": now,
            }
            for k in missing
        ],
    )
    won = {(r.channel, r.address) for r in inserted}
    lost = [k for k in missing if k not in won]
    contact_of.update({k: merged[k] for k in won})
    if lost:  # another writer created these identities first: use theirs, drop our new contacts
        contact_of.update(_select_identities(tx, lost))
        orphans = [merged[k] for k in lost if k in new_keys and merged[k] != contact_of[k]]
        if orphans:
            tx.execute(delete(contacts).where(contacts.c.id.in_(orphans)))
    return contact_of


def _contact_row(m: InboundMessage, now: datetime) -> dict[str, Any]:
    c = m.contact
    return {
        "name": c.name[:200],
        "email": c.email.lower() if c.email else None,
        "phone": c.phone,
        "tags": sorted(set(c.tags)),
        "attrs": dict(c.attrs),
        "created_at": now,
    }


def _select_identities(tx: SyncTx, keys: list[IdentityKey]) -> dict[IdentityKey, int]:
    found: dict[IdentityKey, int] = {}
    for channel, addresses in group_pairs(keys).items():
        rows = tx.execute(
            select(contact_identities.c.address, contact_identities.c.contact_id).where(
                contact_identities.c.channel == channel,
                contact_identities.c.address.in_(addresses),
            )
        )
        found.update({(channel, r.address): r.contact_id for r in rows})
    return found


def _resolve_dialogs(
    tx: SyncTx,
    batch: list[InboundMessage],
    contact_of: dict[IdentityKey, int],
    now: datetime,
    reopen_window: timedelta,
) -> tuple[dict[ThreadKey, int], set[int]]:
    """Each thread's open dialog; else its recently closed one, reopened; else a new one."""
    subject_of: dict[ThreadKey, str] = {}
    for m in batch:
        subject_of.setdefault(_thread_key(m, contact_of), m.subject)
    keys = list(subject_of)
    dialog_of: dict[ThreadKey, int] = {}
    reopen: dict[ThreadKey, int] = {}
    rows = tx.execute(
        for_update(
            tx,
            select(
                dialogs.c.id,
                dialogs.c.contact_id,
                dialogs.c.channel,
                dialogs.c.thread_key,
                dialogs.c.status,
                dialogs.c.closed_at,
            )
            .where(dialogs.c.contact_id.in_({k[0] for k in keys}))  # then the exact keys in Python
            .order_by(dialogs.c.id),
        )
    )
    wanted = set(keys)
    for r in rows:
        key = (r.contact_id, r.channel, r.thread_key)
        if key not in wanted:
            continue
        if r.status != DialogStatus.CLOSED:
            dialog_of[key] = r.id
            reopen.pop(key, None)
        elif (
            key not in dialog_of and r.closed_at is not None and now - r.closed_at <= reopen_window
        ):
            reopen[key] = r.id
        elif key not in dialog_of:
            reopen.pop(key, None)  # a later closed dialog, outside the window, supersedes
    if reopen:
        tx.execute(
            update(dialogs)
            .where(dialogs.c.id == bindparam("dialog_id"))
            .values(status=DialogStatus.OPEN.value, closed_at=None),
            [{"dialog_id": d} for d in reopen.values()],
        )
        dialog_of.update(reopen)

    created: set[int] = set()
    new_keys = [k for k in keys if k not in dialog_of]
    if new_keys:
        inserted = tx.execute(
            insert_or_ignore(tx, dialogs).returning(
                dialogs.c.id, dialogs.c.contact_id, dialogs.c.channel, dialogs.c.thread_key
            ),
            [
                {
                    "contact_id": k[0],
                    "channel": k[1],
                    "thread_key": k[2],
                    "status": DialogStatus.OPEN.value,
                    "tags": [],
                    "subject": subject_of[k][:500],
                    "created_at": now,
                    "last_message_at": now,
                }
                for k in new_keys
            ],
        )
        for r in inserted:
            dialog_of[(r.contact_id, r.channel, r.thread_key)] = r.id
            created.add(r.id)
        lost = [k for k in new_keys if k not in dialog_of]
        if lost:  # opened concurrently by another writer
            for r in tx.execute(
                select(dialogs.c.id, dialogs.c.contact_id, dialogs.c.channel, dialogs.c.thread_key)
                .where(dialogs.c.contact_id.in_({k[0] for k in lost}))
                .where(dialogs.c.status != const(DialogStatus.CLOSED.value))
            ):
                key = (r.contact_id, r.channel, r.thread_key)
                if key in lost:
                    dialog_of[key] = r.id
    return dialog_of, created


def _touch_dialogs_and_files(
    tx: SyncTx,
    won: list[PreparedInbound],
    inserted: dict[MessageKey, int],
    contact_of: dict[IdentityKey, int],
    dialog_of: dict[ThreadKey, int],
    now: datetime,
) -> None:
    """Bump the dialogs that got messages, merge message tags into them, record attachments."""
    new_tags: dict[int, set[str]] = {}
    for i in won:
        new_tags.setdefault(dialog_of[_thread_key(i.message, contact_of)], set()).update(
            i.message.tags
        )
    tagged = [d for d, tags in new_tags.items() if tags]
    if tagged:
        rows = tx.execute(select(dialogs.c.id, dialogs.c.tags).where(dialogs.c.id.in_(tagged)))
        tx.execute(
            update(dialogs)
            .where(dialogs.c.id == bindparam("dialog_id"))
            .values(tags=bindparam("merged_tags")),
            [
                {"dialog_id": r.id, "merged_tags": sorted(set(r.tags or []) | new_tags[r.id])}
                for r in rows
            ],
        )
    if new_tags:
        tx.execute(
            update(dialogs).where(dialogs.c.id.in_(list(new_tags))).values(last_message_at=now)
        )
    files: list[dict[str, Any]] = [
        {
            "message_id": inserted[_message_key(i.message)],
            "filename": a.filename[:300],
            "content_type": a.content_type[:200],
            "size": len(a.data),
            "sha256": sha,
            "created_at": now,
        }
        for i in won
        for a, sha in zip(i.message.attachments, i.attachment_hashes, strict=True)
    ]
    if files:
        tx.execute(attachments.insert(), files)
