"""Edits of stored inbound messages: the new text in place, the old one kept in history."""

from __future__ import annotations

from typing import Any, NamedTuple

from sqlalchemy import select, update

from dialogs.model import Direction, EditOutcome, InboundEdit
from storage.db import SyncTx
from storage.sql import const, for_update
from storage.tables import messages


class EditResult(NamedTuple):
    outcome: EditOutcome
    message_id: int | None = None
    dialog_id: int | None = None


def apply_edit(tx: SyncTx, edit: InboundEdit) -> EditResult:
    row = tx.execute(
        for_update(
            tx,
            select(
                messages.c.id,
                messages.c.dialog_id,
                messages.c.text,
                messages.c.history,
                messages.c.edited_at,
                messages.c.sent_at,
                messages.c.created_at,
            )
            .where(messages.c.channel == edit.channel.value)
            .where(messages.c.direction == const(Direction.IN.value))
            .where(messages.c.external_id == edit.external_id),
        )
    ).first()
    if row is None:
        return EditResult("missing")
    if row.edited_at is not None and edit.edited_at <= row.edited_at:
        return EditResult("stale", row.id, row.dialog_id)  # redelivered or out of order
    previous_at = row.edited_at or row.sent_at or row.created_at
    history = [*(row.history or []), {"text": row.text, "at": previous_at.isoformat()}]
    values: dict[str, Any] = {"text": edit.text, "edited_at": edit.edited_at, "history": history}
    if edit.raw is not None:
        values["raw"] = dict(edit.raw)
    tx.execute(update(messages).where(messages.c.id == row.id).values(**values))
    return EditResult("applied", row.id, row.dialog_id)
