"""Changes people make to tasks and to their own presence, with permissions and SLA holds.

Permissions: an admin may change any task and anyone's presence. An agent may change tasks
assigned to them and waiting tasks, may assign only to themselves (take a task) or unassign
(give it back), and may set only their own presence.

Assigning by hand checks only that the agent account exists: capacity, presence, team and
skills are the dispatcher's business, and an admin may deliberately overload someone.

`on_hold` pauses a task's SLA clocks while it waits on the customer: the held (business) time
is added to the due times on release, and a held task is neither flagged breached nor taken
back for want of a reply. Task statuses stay waiting|assigned|in_progress|done|cancelled.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog

from dialogs.dispatch_plan import iso
from dialogs.events import AgentChanged, DialogUpdated, Event, TaskChanged, encode_events
from dialogs.manual_tasks import NewTask, create_task_by_hand
from dialogs.model import AgentStatus, TaskStatus
from dialogs.rulebook import Rulebook
from router import Calendar, add_business_time, business_time_between
from storage import Database
from storage import agents as agent_repo
from storage.notify import EventRelay
from storage.task_edit import close_dialog_if_done, load_task_for_edit, save_task

log = structlog.get_logger(__name__)

CLOSED = (TaskStatus.DONE.value, TaskStatus.CANCELLED.value)
HELD_BY_AGENT = (TaskStatus.ASSIGNED.value, TaskStatus.IN_PROGRESS.value)


class EditRefused(Exception):
    """A change that cannot be made; ``kind`` is not_found, forbidden, invalid or conflict."""

    def __init__(self, kind: str, code: str, message: str) -> None:
        super().__init__(message)
        self.kind, self.code, self.message = kind, code, message


@dataclass(frozen=True, slots=True)
class Actor:
    login: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


@dataclass(frozen=True, slots=True)
class TaskEdit:
    """What a PATCH asks for; ``assignee_given`` tells an explicit null from an absent key."""

    status: str | None = None
    assignee: str | None = None
    assignee_given: bool = False
    priority: str | None = None
    on_hold: bool | None = None


class TaskEditor:
    def __init__(
        self,
        db: Database,
        relay: EventRelay,
        rulebook: Rulebook,
        *,
        clock: Callable[[], datetime],
        on_change: Callable[[], None] = lambda: None,
    ) -> None:
        self._db = db
        self._relay = relay
        self._rulebook = rulebook
        self._clock = clock
        self._on_change = on_change

    async def edit_task(self, task_id: int, edit: TaskEdit, actor: Actor) -> None:
        async with self._db.write() as tx:
            row = await load_task_for_edit(tx, task_id)
            if row is None:
                raise EditRefused("not_found", "not_found", "no such task")
            now = self._clock()
            values = self._plan(row, edit, actor, now)
            new_assignee = values.get("assignee")
            if new_assignee and await agent_repo.find_agent_by_login(tx, new_assignee) is None:
                raise EditRefused("invalid", "unknown_agent", "assignee: no such agent")
            await save_task(tx, task_id, values)
            status, assignee = values["status"], values.get("assignee", row.assignee)
            payloads = [
                encode_events([TaskChanged(task_id, row.dialog_id, status, assignee, row.queue)])
            ]
            await self._relay.stage(tx, payloads)
        self._relay.committed(payloads)
        log.info(
            "task_updated", task_id=task_id, dialog_id=row.dialog_id, status=status, by=actor.login
        )
        if status in CLOSED:
            await self._close_dialog_if_done(row.dialog_id, now)
        self._on_change()

    async def _close_dialog_if_done(self, dialog_id: int, now: datetime) -> None:
        """The dialog's last task is done: the conversation is over until the customer writes
        again (within the reopen window the same dialog reopens, later a new one starts)."""
        async with self._db.write() as tx:
            closed = await close_dialog_if_done(tx, dialog_id, now)
            payloads = [encode_events([DialogUpdated(dialog_id)])] if closed else []
            await self._relay.stage(tx, payloads)
        self._relay.committed(payloads)
        if closed:
            log.info("dialog_closed", dialog_id=dialog_id)

    async def create_task(self, new: NewTask, actor: Actor) -> int:
        """A task made by hand from a message; raises manual_tasks.TaskRefused."""
        return await create_task_by_hand(
            self._db,
            self._relay,
            self._rulebook.current,
            self._clock(),
            new,
            actor.login,
            self._on_change,
        )

    def _plan(self, row: Any, edit: TaskEdit, actor: Actor, now: datetime) -> dict[str, Any]:
        if row.status in CLOSED:
            raise EditRefused("conflict", "task_closed", f"the task is {row.status} already")
        status = edit.status or row.status
        assignee = edit.assignee if edit.assignee_given else row.assignee
        if edit.status is None and edit.assignee_given:
            if edit.assignee is None:
                status = TaskStatus.WAITING.value
            elif row.status == TaskStatus.WAITING.value:
                status = TaskStatus.ASSIGNED.value
        if status == TaskStatus.WAITING.value:
            if edit.assignee_given and edit.assignee is not None:
                raise EditRefused("invalid", "invalid", "a waiting task has no assignee")
            assignee = None
        if status in HELD_BY_AGENT and assignee is None:
            raise EditRefused("invalid", "invalid", f"status {status} needs an assignee")
        if not actor.is_admin:
            mine = row.assignee == actor.login or row.status == TaskStatus.WAITING.value
            if not mine or assignee not in (None, actor.login):
                raise EditRefused(
                    "forbidden", "forbidden", "agents change their own or waiting tasks only"
                )
        values: dict[str, Any] = {"status": status, "updated_at": now}
        if assignee != row.assignee:
            values["assignee"] = assignee
            values["assigned_at"] = now if assignee else None
            verb = f"assigned by hand to {assignee}" if assignee else "unassigned"
            values["assignment"] = {
                "reason": f"{verb} by {actor.login}",
                "by": actor.login,
                "at": iso(now),
                "candidates": [],
            }
            if assignee:
                values["weight"] = self._rulebook.current.weight(assignee, row.channel)
        if status == TaskStatus.IN_PROGRESS.value and row.first_response_at is None:
            values["first_response_at"] = now  # taken up: what "replied" means for now
        if status in CLOSED:
            values["closed_at"] = now
        if edit.priority is not None:
            values["priority"] = edit.priority
        if edit.on_hold and row.held_at is None and status not in CLOSED:
            values["held_at"] = now
        elif (edit.on_hold is False or status in CLOSED) and row.held_at is not None:
            values.update(self._release(row, now, "first_response_at" in values))
        return values

    def _release(self, row: Any, now: datetime, responded: bool) -> dict[str, Any]:
        """End a hold: shift the due times still running by the business time it lasted."""
        calendar = self._calendar(row.sla_policy)
        held = business_time_between(calendar, row.held_at, now)
        values: dict[str, Any] = {"held_at": None}
        if row.first_response_due is not None and row.first_response_at is None and not responded:
            values["first_response_due"] = add_business_time(row.first_response_due, held, calendar)
        if row.resolution_due is not None:
            values["resolution_due"] = add_business_time(row.resolution_due, held, calendar)
        return values

    def _calendar(self, policy: str | None) -> Calendar | None:
        spec = self._rulebook.current.sla.get(policy) if policy else None
        return spec.calendar if spec else None

    async def set_agent_status(self, login: str, status: str, actor: Actor) -> None:
        if not actor.is_admin and actor.login != login:
            raise EditRefused("forbidden", "forbidden", "agents set their own status only")
        AgentStatus(status)
        async with self._db.write() as tx:
            if not await agent_repo.set_agent_status(tx, login, status, self._clock()):
                raise EditRefused("not_found", "not_found", "no such agent")
            events: list[Event] = [AgentChanged(login, status)]
            payloads = [encode_events(events)]
            await self._relay.stage(tx, payloads)
        self._relay.committed(payloads)
        log.info("agent_status_changed", login=login, status=status, by=actor.login)
        self._on_change()
