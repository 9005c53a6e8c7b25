"""Joining a message to an existing thread from the hints its channel gave (email).

A message's `thread_hints` may name message ids it answers ("references", oldest first),
a dialog id from a subject token ("subject_token") and a normalised subject with a window
("subject_key", "subject_window_s"). The first that leads to a dialog of the *same contact
on the same channel* decides the message's `thread_key`: the dialog's own. A hint that
points at another contact's dialog is ignored, so no one joins someone else's dialog.
Messages without such hints (every channel but email) are returned untouched, without a
query.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from dialogs.model import Direction
from storage.db import SyncTx
from storage.sql import const
from storage.tables import dialogs, messages

if TYPE_CHECKING:
    from storage.inbound import IdentityKey, PreparedInbound

_HINTS = ("references", "subject_token", "subject_key")


def has_thread_hints(item: PreparedInbound) -> bool:
    hints = item.message.thread_hints
    return bool(hints) and any(hints.get(k) for k in _HINTS)


def resolve_threads(
    tx: SyncTx,
    items: Sequence[PreparedInbound],
    contact_of: dict[IdentityKey, int],
    now: datetime,
) -> list[PreparedInbound]:
    """`items` with `thread_key` set to the dialog their hints lead to, where one does."""
    out = []
    for item in items:
        m = item.message
        if not has_thread_hints(item):
            out.append(item)
            continue
        contact_id = contact_of[(str(m.channel), m.contact.address)]
        key = _thread_of(tx, m.thread_hints, contact_id, str(m.channel), now)
        out.append(item if key is None else replace(item, message=replace(m, thread_key=key)))
    return out


def _thread_of(tx: SyncTx, hints: Any, contact_id: int, channel: str, now: datetime) -> str | None:
    refs = [str(r) for r in hints.get("references") or []][-50:]
    if refs:
        key = _by_references(tx, refs, contact_id, channel)
        if key is not None:
            return key
    token = hints.get("subject_token")
    if isinstance(token, int):
        row = tx.execute(
            select(dialogs.c.thread_key).where(
                dialogs.c.id == token,
                dialogs.c.contact_id == contact_id,
                dialogs.c.channel == channel,
            )
        ).first()
        if row is not None:
            return str(row.thread_key)
    window = hints.get("subject_window_s")
    subject_key = hints.get("subject_key")
    if isinstance(window, int) and window > 0 and subject_key:
        since = now - timedelta(seconds=window)
        return _by_subject(tx, str(subject_key), contact_id, channel, since)
    return None


def _by_references(tx: SyncTx, refs: list[str], contact_id: int, channel: str) -> str | None:
    """The dialog of the latest referenced message (in either direction) of this contact."""
    found: dict[str, str] = {}
    for direction in (Direction.IN.value, Direction.OUT.value):  # each has its own index
        rows = tx.execute(
            select(messages.c.external_id, dialogs.c.thread_key)
            .join(dialogs, dialogs.c.id == messages.c.dialog_id)
            .where(
                messages.c.channel == channel,
                messages.c.direction == direction,
                messages.c.external_id.in_(refs),
                dialogs.c.contact_id == contact_id,
            )
        )
        found.update({str(r.external_id): str(r.thread_key) for r in rows})
    for ref in reversed(refs):
        if ref in found:
            return found[ref]
    return None


def _by_subject(
    tx: SyncTx, subject_key: str, contact_id: int, channel: str, since: datetime
) -> str | None:
    """The contact's most recent dialog active since `since` whose mail had this subject."""
    rows = tx.execute(
        select(dialogs.c.thread_key, messages.c.thread_hints)
        .join(messages, messages.c.dialog_id == dialogs.c.id)
        .where(
            dialogs.c.contact_id == contact_id,
            dialogs.c.channel == channel,
            dialogs.c.last_message_at >= since,
            messages.c.direction == const(Direction.IN.value),
        )
        .order_by(dialogs.c.last_message_at.desc(), messages.c.id.desc())
        .limit(200)
    )
    for r in rows:
        if (r.thread_hints or {}).get("subject_key") == subject_key:
            return str(r.thread_key)
    return None
