"""Updates that keep failing: after enough tries over enough time, keep them visibly and move on.

Telegram redelivers a webhook update until it is answered 200, and the poller does not move
its offset past a batch until every update of it is handled: one update that can never be
handled (a bug, data the database refuses) would block the bot's whole inbox. Transient
failures (the database restarting, a file download timing out) pass within minutes, so an
update is given up on only after `attempts` failures spread over at least `patience`. It is
then stored as a placeholder message that carries the whole update in its raw payload, so an
agent sees that something arrived and nothing is silently lost.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta

from aiogram.types import Update

from channels.telegram.normalize import external_id
from dialogs.model import ChannelKind, ContactProfile, InboundMessage


@dataclass(slots=True)
class _Failures:
    count: int
    first_at: datetime


class FailureLedger:
    """Failures per update id in this process (a bounded record: the oldest are forgotten)."""

    def __init__(
        self,
        *,
        attempts: int = 5,
        patience: timedelta = timedelta(minutes=5),
        capacity: int = 1000,
    ) -> None:
        self._attempts = attempts
        self._patience = patience
        self._capacity = capacity
        self._failures: OrderedDict[int, _Failures] = OrderedDict()

    def record(self, update_id: int, now: datetime) -> bool:
        """Count a failure; True when the update should be given up on."""
        entry = self._failures.get(update_id)
        if entry is None:
            entry = self._failures[update_id] = _Failures(0, now)
            while len(self._failures) > self._capacity:
                self._failures.popitem(last=False)
        entry.count += 1
        return entry.count >= self._attempts and now - entry.first_at >= self._patience

    def forget(self, update_id: int) -> None:
        self._failures.pop(update_id, None)


def placeholder(update: Update, error: str) -> InboundMessage | None:
    """A message that stands for an update that could not be handled; None when the update
    names no person to attach it to (nothing an agent could answer)."""
    event = update.event
    user = getattr(event, "from_user", None)
    if user is None:
        return None
    chat = getattr(event, "chat", None) or getattr(getattr(event, "message", None), "chat", None)
    message_id = getattr(event, "message_id", None)
    if chat is not None and message_id is not None:
        key = external_id(chat.id, message_id)  # so a later successful delivery is a duplicate
    else:
        key = f"update:{update.update_id}"
    name = " ".join(p for p in (user.first_name, user.last_name) if p)
    return InboundMessage(
        channel=ChannelKind.TELEGRAM,
        external_id=key,
        contact=ContactProfile(address=str(user.id), name=name),
        text=f"[a Telegram {update.event_type} could not be processed ({error}); "
        "the original update is kept with this message]",
        kind="unsupported",
        raw={"update": update.model_dump(mode="json", exclude_none=True), "error": error},
    )
