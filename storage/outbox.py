"""The outbox: outbound messages and their delivery rows, claimed, sent and settled.

Every function here is a synchronous function of a Connection, run with
`Database.run_write` in one transaction. A reply's message and its outbox row are
written together, so a committed reply is always sent eventually (or visibly fails).

Claiming takes due rows with `FOR UPDATE SKIP LOCKED` on PostgreSQL and, in the same
transaction, marks them `sending` with `next_attempt_at = now + lease`: a sender that
dies mid-send leaves rows that fall due again when the lease runs out. SQLite has one
process, so at start-up every `sending` row is from a dead run and is due at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, select, update

from dialogs.model import OPEN_TASK_STATUSES, Direction, MessageStatus
from storage.db import SyncTx
from storage.queries import message_json
from storage.sql import const, for_update
from storage.tables import attachments, contact_identities, dialogs, messages, outbox, tasks

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"


@dataclass(frozen=True, slots=True)
class StoredFile:
    filename: str
    content_type: str
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class Draft:
    """An agent's reply or note, before it is stored."""

    dialog_id: int
    direction: Direction  # OUT (a reply, sent) or NOTE (internal, never sent)
    text: str
    author: str
    files: tuple[StoredFile, ...] = ()
    template: dict[str, Any] | None = None
    reply_to: int | None = None  # our id of the message it answers


class ReplyRefused(Exception):
    """The reply cannot be stored as asked; `code` and the message go back to the caller."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def store_draft(
    tx: SyncTx, draft: Draft, *, now: datetime, reply_windows: Mapping[str, timedelta]
) -> dict[str, Any]:
    """Store a reply with its outbox row (or a note); the message as the API shows it.

    `reply_windows`: per channel kind, how long after the contact's last inbound message
    free text may still be sent (WhatsApp: 24 hours); past it only a template may go.
    """
    dialog = tx.execute(
        select(dialogs.c.id, dialogs.c.channel, dialogs.c.contact_id).where(
            dialogs.c.id == draft.dialog_id
        )
    ).first()
    if dialog is None:
        raise ReplyRefused(404, "not_found", "no such dialog")
    reply_to_external = None
    if draft.reply_to is not None:
        reply_to_external = tx.execute(
            select(messages.c.external_id).where(
                messages.c.id == draft.reply_to, messages.c.dialog_id == dialog.id
            )
        ).scalar()
        if reply_to_external is None:
            raise ReplyRefused(422, "invalid", "reply_to: no such message in this dialog")
    is_reply = draft.direction == Direction.OUT
    reply_window = reply_windows.get(dialog.channel)
    if is_reply and reply_window is not None and draft.template is None:
        last_in = last_inbound_at(tx, dialog.contact_id, dialog.channel)
        if last_in is None or now - last_in > reply_window:
            hours = int(reply_window.total_seconds() // 3600)
            raise ReplyRefused(
                422,
                "template_required",
                f"the customer last wrote more than {hours} hours ago: {dialog.channel} allows "
                'only an approved template now (send {"template": {"name", "language", '
                '"parameters"}})',
            )
    raw: dict[str, Any] = {}
    if draft.template is not None:
        raw["template"] = draft.template
    message_id = tx.execute(
        messages.insert().returning(messages.c.id),
        {
            "dialog_id": dialog.id,
            "direction": draft.direction.value,
            "channel": dialog.channel,
            "kind": "template" if draft.template is not None else "text",
            "text": draft.text,
            # A note is never delivered anywhere: it is "sent" the moment it is stored.
            "status": (MessageStatus.QUEUED if is_reply else MessageStatus.SENT).value,
            "author": draft.author,
            "thread_hints": {"reply_to": reply_to_external} if reply_to_external else {},
            "raw": raw or None,
            "history": [],
            "created_at": now,
        },
    ).scalar_one()
    if draft.files:
        tx.execute(
            attachments.insert(),
            [
                {
                    "message_id": message_id,
                    "filename": f.filename,
                    "content_type": f.content_type,
                    "size": f.size,
                    "sha256": f.sha256,
                    "created_at": now,
                }
                for f in draft.files
            ],
        )
    if is_reply:
        tx.execute(
            outbox.insert(),
            {
                "message_id": message_id,
                "channel": dialog.channel,
                "status": PENDING,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
                "updated_at": now,
            },
        )
        # A reply is the first response of every open task of the dialog that had none.
        tx.execute(
            update(tasks)
            .where(tasks.c.dialog_id == dialog.id)
            .where(tasks.c.status.in_([s.value for s in OPEN_TASK_STATUSES]))
            .where(tasks.c.first_response_at.is_(None))
            .values(first_response_at=now, updated_at=now)
        )
        tx.execute(update(dialogs).where(dialogs.c.id == dialog.id).values(last_message_at=now))
    row = tx.execute(select(messages).where(messages.c.id == message_id)).one()
    files = [
        {"id": a.id, "filename": a.filename, "content_type": a.content_type, "size": a.size}
        for a in tx.execute(
            select(attachments)
            .where(attachments.c.message_id == message_id)
            .order_by(attachments.c.id)
        )
    ]
    return message_json(row, files)


def last_inbound_at(tx: SyncTx, contact_id: int, channel: str) -> datetime | None:
    """When the contact last wrote on `channel` (the start of a reply window)."""
    value: datetime | None = tx.execute(
        select(func.max(messages.c.created_at))
        .select_from(messages.join(dialogs, dialogs.c.id == messages.c.dialog_id))
        .where(dialogs.c.contact_id == contact_id)
        .where(messages.c.channel == channel)
        .where(messages.c.direction == const(Direction.IN.value))
    ).scalar()
    return value


@dataclass(frozen=True, slots=True)
class Claimed:
    """One outbox row taken for sending, with what the channel needs to send it."""

    outbox_id: int
    message_id: int
    dialog_id: int
    channel: str
    attempt: int  # 1 for the first try
    address: str | None
    text: str
    template: dict[str, Any] | None
    reply_to_external_id: str | None
    files: tuple[StoredFile, ...]
    subject: str = ""
    references: tuple[str, ...] = ()  # see OutboundMessage.references
    automated: bool = False


def release_stale(tx: SyncTx, now: datetime) -> int:
    """SQLite start-up: rows a dead run left `sending` are due again at once."""
    result = tx.execute(
        update(outbox).where(outbox.c.status == SENDING).values(next_attempt_at=now)
    )
    return int(result.rowcount)


def claim_due(tx: SyncTx, *, now: datetime, lease: timedelta, limit: int) -> list[Claimed]:
    """Take up to `limit` due rows, oldest due first; mark them sending under a lease."""
    rows = tx.execute(
        for_update(
            tx,
            select(outbox.c.id, outbox.c.message_id, outbox.c.channel, outbox.c.attempts)
            .where(outbox.c.status.in_([PENDING, SENDING]))
            .where(outbox.c.next_attempt_at <= now)
            .order_by(outbox.c.next_attempt_at, outbox.c.id)
            .limit(limit),
            skip_locked=True,
        )
    ).all()
    if not rows:
        return []
    tx.execute(
        update(outbox)
        .where(outbox.c.id == bindparam("outbox_id"))
        .values(
            status=SENDING,
            attempts=bindparam("new_attempts"),
            next_attempt_at=now + lease,
            updated_at=now,
        ),
        [{"outbox_id": r.id, "new_attempts": r.attempts + 1} for r in rows],
    )
    ids = [r.message_id for r in rows]
    details = {
        m.id: m
        for m in tx.execute(
            select(
                messages.c.id,
                messages.c.dialog_id,
                messages.c.text,
                messages.c.raw,
                messages.c.thread_hints,
                messages.c.automated,
                dialogs.c.contact_id,
                dialogs.c.channel,
                dialogs.c.subject,
            )
            .join(dialogs, dialogs.c.id == messages.c.dialog_id)
            .where(messages.c.id.in_(ids))
        )
    }
    files: dict[int, list[StoredFile]] = {}
    for a in tx.execute(
        select(attachments).where(attachments.c.message_id.in_(ids)).order_by(attachments.c.id)
    ):
        files.setdefault(a.message_id, []).append(
            StoredFile(a.filename, a.content_type, a.size, a.sha256)
        )
    address_of = _addresses(tx, {(d.contact_id, d.channel) for d in details.values()})
    thread_of = _latest_inbound(tx, {d.dialog_id for d in details.values()})
    out = []
    for r in rows:
        m = details[r.message_id]
        raw = m.raw or {}
        out.append(
            Claimed(
                outbox_id=r.id,
                message_id=m.id,
                dialog_id=m.dialog_id,
                channel=r.channel,
                attempt=r.attempts + 1,
                address=address_of.get((m.contact_id, m.channel)),
                text=m.text,
                template=raw.get("template"),
                reply_to_external_id=(m.thread_hints or {}).get("reply_to"),
                files=tuple(files.get(m.id, ())),
                subject=m.subject or "",
                references=thread_of.get(m.dialog_id, ()),
                automated=bool(m.automated),
            )
        )
    return out


def _latest_inbound(tx: SyncTx, dialog_ids: set[int]) -> dict[int, tuple[str, ...]]:
    """Per dialog, the ids its latest inbound message referenced, then its own id."""
    latest = (
        select(func.max(messages.c.id))
        .where(
            messages.c.dialog_id.in_(dialog_ids), messages.c.direction == const(Direction.IN.value)
        )
        .group_by(messages.c.dialog_id)
    )
    out: dict[int, tuple[str, ...]] = {}
    for r in tx.execute(
        select(messages.c.dialog_id, messages.c.external_id, messages.c.thread_hints).where(
            messages.c.id.in_(latest.scalar_subquery())
        )
    ):
        if r.external_id:
            refs = [str(x) for x in (r.thread_hints or {}).get("references") or []]
            out[r.dialog_id] = (*refs, str(r.external_id))
    return out


def _addresses(tx: SyncTx, keys: set[tuple[int, str]]) -> dict[tuple[int, str], str]:
    """The contact's identity on the dialog's channel (the oldest, when there are several)."""
    out: dict[tuple[int, str], str] = {}
    contact_ids = {k[0] for k in keys}
    for i in tx.execute(
        select(
            contact_identities.c.contact_id,
            contact_identities.c.channel,
            contact_identities.c.address,
        )
        .where(contact_identities.c.contact_id.in_(contact_ids))
        .order_by(contact_identities.c.id)
    ):
        out.setdefault((i.contact_id, i.channel), i.address)
    return out


def next_due(tx: SyncTx) -> datetime | None:
    """When the earliest pending or leased row falls due."""
    value: datetime | None = tx.execute(
        select(func.min(outbox.c.next_attempt_at)).where(outbox.c.status.in_([PENDING, SENDING]))
    ).scalar()
    return value


def mark_sent(tx: SyncTx, c: Claimed, *, external_id: str | None, now: datetime) -> None:
    tx.execute(update(outbox).where(outbox.c.id == c.outbox_id).values(status=SENT, updated_at=now))
    tx.execute(
        update(messages)
        .where(messages.c.id == c.message_id)
        .values(external_id=external_id, sent_at=now, error=None)
    )
    # A status webhook may already have moved the message on (sent, delivered, read).
    tx.execute(
        update(messages)
        .where(messages.c.id == c.message_id)
        .where(messages.c.status == MessageStatus.QUEUED.value)
        .values(status=MessageStatus.SENT.value)
    )


def mark_retry(tx: SyncTx, c: Claimed, *, error: str, at: datetime, now: datetime) -> None:
    tx.execute(
        update(outbox)
        .where(outbox.c.id == c.outbox_id)
        .values(status=PENDING, next_attempt_at=at, last_error=error, updated_at=now)
    )


def mark_failed(tx: SyncTx, c: Claimed, *, error: str, now: datetime) -> None:
    tx.execute(
        update(outbox)
        .where(outbox.c.id == c.outbox_id)
        .values(status=FAILED, last_error=error, updated_at=now)
    )
    tx.execute(
        update(messages)
        .where(messages.c.id == c.message_id)
        .values(status=MessageStatus.FAILED.value, error=error)
    )


@dataclass(frozen=True, slots=True)
class StatusChange:
    message_id: int
    dialog_id: int
    status: str


def find_outbound(tx: SyncTx, channel: str, external_id: str) -> Any:
    """The outbound message the provider calls `external_id`, locked for a status change."""
    return tx.execute(
        for_update(
            tx,
            select(messages.c.id, messages.c.dialog_id, messages.c.status).where(
                messages.c.channel == channel,
                messages.c.external_id == external_id,
                messages.c.direction == const(Direction.OUT.value),
            ),
        )
    ).first()


def sends_in_flight(tx: SyncTx, channel: str) -> bool:
    """Whether a send on `channel` is claimed and not yet settled: its provider id may be
    known to the provider (and in a status webhook) before it is committed here."""
    return (
        tx.execute(
            select(outbox.c.id)
            .where(outbox.c.channel == channel, outbox.c.status == SENDING)
            .limit(1)
        ).first()
        is not None
    )


def set_status(tx: SyncTx, message_id: int, status: str, error: str | None) -> None:
    values: dict[str, Any] = {"status": status}
    if error is not None:
        values["error"] = error
    tx.execute(update(messages).where(messages.c.id == message_id).values(**values))


def outbox_rows(tx: SyncTx, message_ids: Sequence[int]) -> list[Any]:
    """Outbox rows of these messages (for tests and diagnostics)."""
    return list(tx.execute(select(outbox).where(outbox.c.message_id.in_(message_ids))))
