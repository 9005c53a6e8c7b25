"""Who is looking at or typing in a dialog right now: fleeting events, never stored.

They travel like the other live events (NOTIFY on PostgreSQL, so agents on different
processes see each other; in-process on SQLite) but outside any data transaction. The
pages expire a "viewing" notice that is not renewed and a "typing" one after a few seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from dialogs.events import Event

STATES = ("viewing", "typing", "left")


@dataclass(frozen=True, slots=True)
class AgentActivity(Event):
    type: ClassVar[str] = "agent_activity"
    dialog_id: int
    login: str
    state: str
