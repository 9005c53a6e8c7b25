"""Routing of stored inbound messages: decide → record decision → join or open tasks.

Runs after the ingest commit, from what is stored, so a crash between ingest and routing
loses nothing: the next start routes every committed-but-unrouted message. Messages
of one dialog are routed in arrival order by one process at a time (dialog row locks).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime
from typing import Any

import structlog

from dialogs.events import DialogUpdated, Event, TaskChanged, encode_events
from dialogs.model import TaskStatus
from dialogs.rulebook import Rulebook
from router import PRIORITIES, Decision, Facts, decide, sla_due_times
from storage import Database
from storage.db import is_retryable
from storage.notify import EventRelay
from storage.routing import (
    DialogState,
    UnroutedMessage,
    bump_task,
    claim_unrouted,
    create_task,
    finish_routing,
    save_decision,
)

log = structlog.get_logger(__name__)


def higher_priority(a: str, b: str | None) -> str:
    """The more urgent of two priorities (PRIORITIES lists the most urgent first)."""
    if b is None:
        return a
    return a if PRIORITIES.index(a) <= PRIORITIES.index(b) else b


class RoutingWorker:
    """Routes whatever is unrouted whenever woken; woken after every ingest commit."""

    def __init__(
        self,
        db: Database,
        relay: EventRelay,
        rulebook: Rulebook,
        *,
        clock: Callable[[], datetime],
        on_tasks_changed: Callable[[], None] = lambda: None,
        batch_size: int = 200,
    ) -> None:
        self._db = db
        self._relay = relay
        self._rulebook = rulebook
        self._clock = clock
        self._on_tasks_changed = on_tasks_changed
        self._batch_size = batch_size
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.idle = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._wake.set()  # route what an earlier run left unrouted
        self._task = asyncio.create_task(self._run(), name="routing-worker")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            self.idle.clear()
            try:
                await self.route_all()
            except Exception:
                log.exception("routing_failed")  # retried after a pause; nothing is lost
                await asyncio.sleep(1)
                self._wake.set()
            if not self._wake.is_set():
                self.idle.set()

    async def route_all(self) -> int:
        """Route everything stored so far, in the caller's task; returns how many it routed.

        Waits for dialogs another worker is routing rather than skipping them, so on return
        every message committed before the call has been routed by someone.
        """
        total = 0
        while routed := await self.route_batch(wait_for_locked=True):
            total += routed
        return total

    async def route_batch(self, *, wait_for_locked: bool = False) -> int:
        """Route one batch; returns how many messages it routed (0: nothing left)."""
        for attempt in range(5):
            try:
                return await self._route_batch_once(wait_for_locked)
            except Exception as exc:
                if not is_retryable(exc) or attempt == 4:
                    raise
                await asyncio.sleep(0.01 * 2**attempt)
        return 0

    async def _route_batch_once(self, wait_for_locked: bool) -> int:
        ruleset = self._rulebook.current
        events: list[Event] = []
        async with self._db.write() as tx:
            claimed, states = await claim_unrouted(
                tx, self._batch_size, skip_locked=not wait_for_locked
            )
            if not claimed:
                return 0
            now = self._clock()
            for message in claimed:
                state = states[message.dialog_id]
                decision = decide(ruleset, _facts(message, state, now))
                events.extend(await self._apply(tx, message, state, decision, now))
            await finish_routing(tx, [m.id for m in claimed], list(states.values()), now)
            events.extend(DialogUpdated(d) for d in states)
            payloads = [encode_events(events[i : i + 40]) for i in range(0, len(events), 40)]
            await self._relay.stage(tx, payloads)
        self._relay.committed(payloads)
        if any(isinstance(e, TaskChanged) for e in events):
            self._on_tasks_changed()
        return len(claimed)

    async def _apply(
        self,
        tx: Any,
        message: UnroutedMessage,
        state: DialogState,
        decision: Decision,
        now: datetime,
    ) -> list[Event]:
        for tag in decision.tags:
            if tag not in state.tags:
                state.tags.append(tag)
        explicit_priority = decision.priority if decision.priority != "normal" else None
        state.priority = higher_priority(state.priority, explicit_priority)
        body = decision.to_dict()
        fired = [t.name for t in decision.trace if t.matched]
        body["rules"] = fired
        body["reason"] = (
            "matched " + ", ".join(repr(n) for n in fired) if fired else "no rule matched"
        )
        decision_id = await save_decision(
            tx,
            message_id=message.id,
            dialog_id=message.dialog_id,
            rules_version=decision.rules_version,
            body=body,
            now=now,
        )
        events: list[Event] = []
        for plan in decision.tasks:
            task_id = state.open_tasks.get(plan.queue)
            if task_id is not None:  # a follow-up joins the dialog's open task in that queue
                await bump_task(tx, task_id, priority=explicit_priority, now=now)
                log.info(
                    "task_joined",
                    task_id=task_id,
                    message_id=message.id,
                    dialog_id=message.dialog_id,
                )
                continue
            first_due, resolution_due = (
                sla_due_times(self._rulebook.current, plan.sla, now) if plan.sla else (None, None)
            )
            task_id = await create_task(
                tx,
                {
                    "dialog_id": message.dialog_id,
                    "title": plan.title[:300],
                    "queue": plan.queue,
                    "status": TaskStatus.WAITING.value,
                    "priority": state.priority,
                    "tags": list(state.tags),
                    "sla_policy": plan.sla,
                    "first_response_due": first_due,
                    "resolution_due": resolution_due,
                    "decision_id": decision_id,
                    "created_at": now,
                    "updated_at": now,
                },
            )
            state.open_tasks[plan.queue] = task_id
            log.info(
                "task_created",
                task_id=task_id,
                queue=plan.queue,
                message_id=message.id,
                dialog_id=message.dialog_id,
            )
            events.append(TaskChanged(task_id, message.dialog_id, "waiting", None, plan.queue))
        return events


def _facts(message: UnroutedMessage, state: DialogState, now: datetime) -> Facts:
    return Facts(
        channel=message.channel,
        text=message.text,
        kind=message.kind,
        dialog_tags=frozenset(state.tags),
        contact_tags=message.contact_tags,
        contact_attrs=message.contact_attrs,
        contact_name=message.contact_name,
        is_first_message=message.is_first,
        is_automated=message.automated,
        now=now,
    )
