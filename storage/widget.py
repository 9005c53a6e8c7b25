"""What the chat widget reads and changes besides ingesting: a visitor's thread, its history,
the files in it, and the visitor's name and email (which may merge it with a known contact).

A visitor sees its own messages once stored, and an agent's reply once the outbox has
sent it (handed it to the widget channel): the reply's `sent_at` is when it became visible,
which is where a resuming widget picks up, whatever order the ids were given in.

A widget visitor's address (`contact_identities.address`) is also the `thread_key` of its
dialogs: a visitor's conversation stays its own even after its email joins it to a contact
who writes from elsewhere, and a visitor is shown only its own thread, never the contact's
other dialogs (an email typed into a form proves nothing).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, or_, select, update

from dialogs.model import ChannelKind, Direction, MessageStatus
from storage.db import Database, ReadTx, WriteTx
from storage.files import blob_path
from storage.queries import iso
from storage.sql import const
from storage.tables import attachments, contact_identities, contacts, dialogs, messages

_CHANNEL = ChannelKind.WIDGET.value
_SENT = (MessageStatus.SENT.value, MessageStatus.DELIVERED.value, MessageStatus.READ.value)
# Notes are for agents only; replies show once sent.
_VISIBLE: ColumnElement[bool] = or_(
    messages.c.direction == const(Direction.IN.value),
    and_(messages.c.direction == const(Direction.OUT.value), messages.c.status.in_(_SENT)),
)


class WidgetRepository:
    """The widget's storage on one database (`db` may be a function returning it)."""

    def __init__(self, db: Database | Callable[[], Database], *, files_root: Path) -> None:
        self._db_or_getter = db
        self._files_root = files_root

    @property
    def _db(self) -> Database:
        db = self._db_or_getter
        return db if isinstance(db, Database) else db()

    async def thread_dialogs(self, address: str) -> list[int]:
        """The ids of the visitor's dialogs, oldest first."""
        async with self._db.read() as tx:
            return await _thread_dialogs(tx, address)

    async def recent_messages(
        self, address: str, *, since: datetime | None, overlap: timedelta, limit: int
    ) -> list[dict[str, Any]]:
        """The visitor's messages visible from `since - overlap` on (the last `limit` of them).

        The overlap covers writers that committed later than the time they wrote down; the
        widget drops the ids it already shows.
        """
        async with self._db.read() as tx:
            dialog_ids = await _thread_dialogs(tx, address)
            if not dialog_ids:
                return []
            stmt = select(messages).where(messages.c.dialog_id.in_(dialog_ids), _VISIBLE)
            if since is not None:
                visible_at = func.coalesce(messages.c.sent_at, messages.c.created_at)
                stmt = stmt.where(visible_at >= since - overlap)
            rows = list(await tx.execute(stmt.order_by(messages.c.id.desc()).limit(limit)))
            rows.reverse()
            return await _with_files(tx, rows)

    async def messages_by_id(self, ids: Sequence[int]) -> list[dict[str, Any]]:
        """Visible widget messages among `ids`, with their dialog ids, in id order."""
        async with self._db.read() as tx:
            rows = list(
                await tx.execute(
                    select(messages)
                    .where(
                        messages.c.id.in_(list(ids)),
                        messages.c.channel == _CHANNEL,
                        _VISIBLE,
                    )
                    .order_by(messages.c.id)
                )
            )
            return await _with_files(tx, rows)

    async def dialog_thread(self, dialog_id: int) -> str | None:
        """The visitor address of a widget dialog; None for other channels' dialogs."""
        async with self._db.read() as tx:
            value: str | None = (
                await tx.execute(
                    select(dialogs.c.thread_key).where(
                        dialogs.c.id == dialog_id, dialogs.c.channel == _CHANNEL
                    )
                )
            ).scalar()
            return value

    async def find_file(self, address: str, attachment_id: int) -> tuple[str, str, Path] | None:
        """(filename, content_type, path) of a file in the visitor's own thread, else None."""
        async with self._db.read() as tx:
            dialog_ids = await _thread_dialogs(tx, address)
            if not dialog_ids:
                return None
            row = (
                await tx.execute(
                    select(attachments.c.filename, attachments.c.content_type, attachments.c.sha256)
                    .join(messages, messages.c.id == attachments.c.message_id)
                    .where(
                        attachments.c.id == attachment_id,
                        messages.c.dialog_id.in_(dialog_ids),
                        _VISIBLE,
                    )
                )
            ).first()
            return (
                None
                if row is None
                else (
                    row.filename,
                    row.content_type,
                    blob_path(self._files_root, row.sha256),
                )
            )

    async def unread_replies(self, address: str, *, up_to: int) -> list[int]:
        """Sent replies in the visitor's thread, up to id `up_to`, not yet marked read."""
        async with self._db.read() as tx:
            dialog_ids = await _thread_dialogs(tx, address)
            if not dialog_ids:
                return []
            rows = await tx.execute(
                select(messages.c.id)
                .where(
                    messages.c.dialog_id.in_(dialog_ids),
                    messages.c.direction == const(Direction.OUT.value),
                    messages.c.status.in_(_SENT[:2]),
                    messages.c.id <= up_to,
                )
                .order_by(messages.c.id)
            )
            return list(rows.scalars())

    async def save_profile(self, address: str, *, name: str, email: str | None) -> int | None:
        """Record the name and email a visitor gave; the contact id it now belongs to.

        A known contact with that email absorbs the visitor: its identity and its dialogs move
        to that contact, and the visitor's own contact goes when nothing else refers to it.
        None when the visitor has not written yet: the profile then travels with its first
        message, and ingestion merges by email as for every channel.
        """
        async with self._db.write() as tx:
            return await _save_profile(tx, address, name=name, email=email)


async def _thread_dialogs(tx: ReadTx, address: str) -> list[int]:
    contact_id = (
        await tx.execute(
            select(contact_identities.c.contact_id).where(
                contact_identities.c.channel == _CHANNEL, contact_identities.c.address == address
            )
        )
    ).scalar()
    if contact_id is None:
        return []
    rows = await tx.execute(
        select(dialogs.c.id)
        .where(
            dialogs.c.contact_id == contact_id,
            dialogs.c.channel == _CHANNEL,
            dialogs.c.thread_key == address,
        )
        .order_by(dialogs.c.id)
    )
    return list(rows.scalars())


async def _with_files(tx: ReadTx, rows: Sequence[Any]) -> list[dict[str, Any]]:
    files: dict[int, list[dict[str, Any]]] = {}
    if rows:
        for a in await tx.execute(
            select(
                attachments.c.id,
                attachments.c.message_id,
                attachments.c.filename,
                attachments.c.content_type,
                attachments.c.size,
            )
            .where(attachments.c.message_id.in_([r.id for r in rows]))
            .order_by(attachments.c.id)
        ):
            files.setdefault(a.message_id, []).append(
                {"id": a.id, "filename": a.filename, "content_type": a.content_type, "size": a.size}
            )
    return [
        {
            "id": r.id,
            "dialog_id": r.dialog_id,
            "direction": r.direction,
            "text": r.text,
            # The widget's own id of its message (external ids are "<visitor>/<client id>").
            "client_id": (
                r.external_id.rsplit("/", 1)[-1]
                if r.direction == Direction.IN.value and r.external_id
                else None
            ),
            "attachments": files.get(r.id, []),
            "status": r.status,
            "created_at": iso(r.created_at),
            "visible_at": iso(r.sent_at if r.direction == Direction.OUT.value else r.created_at),
        }
        for r in rows
    ]


async def _save_profile(tx: WriteTx, address: str, *, name: str, email: str | None) -> int | None:
    identity = (
        await tx.execute(
            select(contact_identities.c.id, contact_identities.c.contact_id).where(
                contact_identities.c.channel == _CHANNEL, contact_identities.c.address == address
            )
        )
    ).first()
    if identity is None:
        return None
    current: int = identity.contact_id
    if name:
        await tx.execute(
            update(contact_identities)
            .where(contact_identities.c.id == identity.id)
            .values(display_name=name[:200])
        )
    target: int | None = None
    if email:
        target = (
            await tx.execute(
                select(contacts.c.id)
                .where(func.lower(contacts.c.email) == email.lower(), contacts.c.id != current)
                .order_by(contacts.c.id)
                .limit(1)
            )
        ).scalar()
    if target is None:
        values: dict[str, Any] = {}
        if name:
            values["name"] = name[:200]
        if email:
            values["email"] = email.lower()
        if values:
            await tx.execute(update(contacts).where(contacts.c.id == current).values(**values))
        return current
    await tx.execute(
        update(contact_identities)
        .where(contact_identities.c.id == identity.id)
        .values(contact_id=target)
    )
    await tx.execute(
        update(dialogs)
        .where(
            dialogs.c.contact_id == current,
            dialogs.c.channel == _CHANNEL,
            dialogs.c.thread_key == address,
        )
        .values(contact_id=target)
    )
    await _drop_if_unused(tx, current)
    return target


async def _drop_if_unused(tx: WriteTx, contact_id: int) -> None:
    identities = select(contact_identities.c.id).where(
        contact_identities.c.contact_id == contact_id
    )
    owned = select(dialogs.c.id).where(dialogs.c.contact_id == contact_id)
    if (await tx.execute(identities.limit(1))).first() is None and (
        await tx.execute(owned.limit(1))
    ).first() is None:
        await tx.execute(delete(contacts).where(contacts.c.id == contact_id))
