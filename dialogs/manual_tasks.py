"""A task made by hand from a message (the inbox's "make a task"): it waits in its queue with
the queue's SLA and skills, and the dispatcher assigns it like any other. Its assignment
record says who made it, which the inbox shows as the routing explanation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import structlog

from dialogs.dispatch_plan import iso
from dialogs.events import TaskChanged, encode_events
from dialogs.model import TaskStatus
from router import RuleSet, sla_due_times
from storage import Database, inbox_views
from storage.notify import EventRelay

log = structlog.get_logger(__name__)


class TaskRefused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass(frozen=True, slots=True)
class NewTask:
    message_id: int
    queue: str
    title: str = ""
    priority: str | None = None


async def create_task_by_hand(
    db: Database,
    relay: EventRelay,
    ruleset: RuleSet,
    now: datetime,
    new: NewTask,
    author: str,
    on_created: Callable[[], None],
) -> int:
    spec = ruleset.queues.get(new.queue)
    if spec is None:
        raise TaskRefused(422, "unknown_queue", f"queue: no queue {new.queue!r} in the rules")
    first_due, resolution_due = sla_due_times(ruleset, spec.sla, now) if spec.sla else (None, None)
    async with db.write() as tx:
        message = await inbox_views.find_message(tx, new.message_id)
        if message is None or message.dialog_id is None:
            raise TaskRefused(404, "not_found", "no such message")
        title = (new.title.strip() or message.text.strip().split("\n")[0] or new.queue)[:300]
        task_id = await inbox_views.insert_task(
            tx,
            {
                "dialog_id": message.dialog_id,
                "title": title,
                "queue": spec.name,
                "status": TaskStatus.WAITING.value,
                "priority": new.priority or message.dialog_priority,
                "tags": list(message.dialog_tags or []),
                "sla_policy": spec.sla,
                "skills": sorted(spec.skills),
                "first_response_due": first_due,
                "resolution_due": resolution_due,
                "assignment": {
                    "reason": f"made by hand by {author} from message {new.message_id}",
                    "at": iso(now),
                    "candidates": [],
                },
                "created_at": now,
                "updated_at": now,
            },
        )
        payloads = [
            encode_events(
                [TaskChanged(task_id, message.dialog_id, TaskStatus.WAITING.value, None, spec.name)]
            )
        ]
        await relay.stage(tx, payloads)
    relay.committed(payloads)
    log.info("task_created_by_hand", task_id=task_id, dialog_id=message.dialog_id, by=author)
    on_created()
    return task_id
