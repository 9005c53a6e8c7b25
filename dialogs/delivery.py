"""Pure rules for an outbound message's delivery status, whatever order the provider reports in.

Status webhooks arrive out of order (read before delivered is normal), so a status only
ever moves forward: queued < sent < delivered < read. `failed` is accepted only while the
message has not been delivered: a late failure report never hides a delivery.
"""

from __future__ import annotations

from dialogs.model import MessageStatus

_RANK = {
    MessageStatus.QUEUED: 0,
    MessageStatus.SENT: 1,
    MessageStatus.DELIVERED: 2,
    MessageStatus.READ: 3,
}
_FAILABLE = (MessageStatus.QUEUED, MessageStatus.SENT)


def next_status(current: str, incoming: MessageStatus) -> MessageStatus | None:
    """The status to store after `incoming` is reported, or None to leave `current` as is."""
    try:
        now = MessageStatus(current)
    except ValueError:
        return None
    if incoming == MessageStatus.FAILED:
        return incoming if now in _FAILABLE else None
    if incoming not in _RANK or now not in _RANK:  # failed stays failed
        return None
    return incoming if _RANK[incoming] > _RANK[now] else None
