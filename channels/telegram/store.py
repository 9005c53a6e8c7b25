"""What the Telegram channel needs kept besides ingested messages, as the core provides it.

`storage.telegram.TelegramRepository` implements it; the composition root passes one in,
so the channel stays a leaf module with no storage imports.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol


class TelegramStore(Protocol):
    async def seen_among(
        self, bot_id: int, update_ids: Sequence[int], *, now: datetime
    ) -> set[int]:
        """Which of `update_ids` this bot already handled (within the retention window)."""
        ...

    async def mark_seen(self, bot_id: int, update_ids: Sequence[int], *, now: datetime) -> None: ...

    async def load_offset(self, bot_id: int) -> int | None:
        """The getUpdates offset after the last committed batch, if any."""
        ...

    async def save_offset(self, bot_id: int, offset: int, *, now: datetime) -> None: ...

    async def set_reachable(self, address: str, reachable: bool) -> bool:
        """Mark the contact with this Telegram user id; False when there is none yet."""
        ...

    async def is_reachable(self, address: str) -> bool: ...
