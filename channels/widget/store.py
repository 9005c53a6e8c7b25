"""What the widget needs from storage besides ingestion, as the core provides it.

`storage.widget.WidgetRepository` implements it; the composition root passes one in, so
the channel stays a leaf module with no storage imports. Messages are JSON-ready dicts:
`id, dialog_id, direction (in|out), text, client_id, attachments[], status, created_at,
visible_at` (a reply is visible once the outbox has sent it).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol


class WidgetStore(Protocol):
    async def thread_dialogs(self, address: str) -> list[int]: ...

    async def recent_messages(
        self, address: str, *, since: datetime | None, overlap: timedelta, limit: int
    ) -> list[dict[str, Any]]: ...

    async def messages_by_id(self, ids: Sequence[int]) -> list[dict[str, Any]]: ...

    async def dialog_thread(self, dialog_id: int) -> str | None: ...

    async def find_file(self, address: str, attachment_id: int) -> tuple[str, str, Path] | None:
        """(filename, content_type, path on disk) of a file in the visitor's own thread."""
        ...

    async def unread_replies(self, address: str, *, up_to: int) -> list[int]:
        """Sent replies in the visitor's thread, up to id `up_to`, not yet marked read."""
        ...

    async def save_profile(self, address: str, *, name: str, email: str | None) -> int | None: ...
