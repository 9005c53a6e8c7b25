"""Routing of stored inbound messages: decide → record decision → join or open tasks → assign.

Runs after the ingest commit, from what is stored, so a crash between ingest and routing
loses nothing: the next start routes every committed-but-unrouted message. The tasks a
batch makes are planned before they are inserted (`Dispatcher.assign_in`), and those the
plan places are inserted assigned. Messages are routed in arrival order, one batch at a
time across processes (storage.routing.lock_routing).

Routing in the ingest transaction itself was tried and measured (bench/pipeline.py): on
PostgreSQL it cut ingest -> assigned throughput from 62% of ingest-only to 41%, as each
acknowledgement waited for routing and the two concurrent ingest batches contended for
the dispatch lock; on SQLite it gained nothing beyond noise.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog

from dialogs.dispatch import Dispatcher, PassInRouting, task_events
from dialogs.events import DialogUpdated, Event, MessageReceived, TaskChanged, encode_batches
from dialogs.metrics import ROUTING_BATCHES, ROUTING_DECISIONS, TASKS_CREATED
from dialogs.model import TaskStatus
from dialogs.rulebook import Rulebook
from dialogs.worker import WakeableWorker
from router import PRIORITIES, Decision, Facts, RuleSet, decide, sla_due_times
from storage import Database
from storage.assignment import AssignRow, TaskRef, WaitingRow
from storage.db import SyncTx, is_retryable
from storage.notify import EventRelay
from storage.routing import (
    DialogState,
    UnroutedMessage,
    auto_replied_dialogs,
    bump_tasks,
    claim_unrouted,
    create_tasks,
    finish_routing,
    queue_auto_replies,
    save_decisions,
)

log = structlog.get_logger(__name__)


def more_urgent(a: str | None, b: str | None) -> str | None:
    """The more urgent of two priorities, either of which may be absent."""
    if a is None or b is None:
        return a or b
    return a if PRIORITIES.index(a) <= PRIORITIES.index(b) else b  # most urgent listed first


@dataclass(slots=True)
class Routed:
    """What one routing transaction did, for the reports made once it commits."""

    now: datetime
    routed: int = 0
    created: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    replies: list[tuple[int, int]] = field(default_factory=list)  # (message_id, dialog_id)
    more: bool = False  # the batch was full: more may be waiting
    payloads: list[str] = field(default_factory=list)
    assigned: list[TaskRef] | None = None  # None: no assignment pass ran in the transaction

    @property
    def earliest_due(self) -> datetime | None:
        """The earliest SLA due time among the tasks made."""
        dues = [
            due
            for _, row in self.created
            for due in (row["first_response_due"], row["resolution_due"])
            if due is not None
        ]
        return min(dues, default=None)


class RoutingWorker(WakeableWorker):
    """Routes whatever is unrouted whenever woken; woken after every ingest commit."""

    name = "routing"
    coalesce = 0.005  # measured: fewer, larger batches under load; +5 ms at most per message
    # With `ingest_quiet`, a run first lets the ingest commits in flight land, for at most
    # this long: on a busy desk one batch then routes what several commits stored. Measured
    # on SQLite (bench/pipeline.py, 50 connections): batches of 49 and 1 in turn became
    # batches of 50-86; ingest -> assigned 18% faster, server CPU 15% lower per message.
    # On PostgreSQL (one process) batches went from 46 to 97 messages, server CPU per
    # message from 0.66 to 0.57 ms; p50 post -> assigned 57 -> 69 ms.
    defer = 0.02

    def __init__(
        self,
        db: Database,
        relay: EventRelay,
        rulebook: Rulebook,
        *,
        clock: Callable[[], datetime],
        dispatcher: Dispatcher | None = None,
        outbound_channels: frozenset[str] = frozenset(),
        on_outbound: Callable[[], None] = lambda: None,
        batch_size: int = 200,
        ingest_quiet: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        super().__init__()
        self._db = db
        self._relay = relay
        self._rulebook = rulebook
        self._clock = clock
        self._dispatcher = dispatcher  # assigns new tasks in the routing transaction
        # Auto-replies go out only on channels with a sender (the api channel has none).
        self._outbound_channels = outbound_channels
        self._on_outbound = on_outbound
        self._batch_size = batch_size
        self._ingest_quiet = ingest_quiet  # returns once no ingest commit is in flight

    async def work(self) -> None:
        """Route batch after batch while they come full. What is stored after a batch that
        took everything wakes the worker again, so it is routed in the next run, together
        with whatever else arrives meanwhile, not in a batch of its own."""
        if self._ingest_quiet is not None:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.defer):
                    await self._ingest_quiet()
        while (await self._route_batch(wait_for_locked=True)).more:
            pass

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
        return (await self._route_batch(wait_for_locked)).routed

    async def _route_batch(self, wait_for_locked: bool) -> Routed:
        for attempt in range(5):
            try:
                done = await self._db.run_write(
                    self._route_batch_sync, self._rulebook.current, self._clock(), wait_for_locked
                )
            except Exception as exc:
                if not is_retryable(exc) or attempt == 4:
                    raise
                await asyncio.sleep(0.01 * 2**attempt)
            else:
                self.committed(done)
                return done
        raise AssertionError("unreachable")

    def committed(self, done: Routed) -> None:
        """The transaction that routed committed: publish, count, log, and hand on what
        remains (tasks left for the dispatcher, auto-replies for the sender)."""
        self._relay.committed(done.payloads)
        ROUTING_DECISIONS.inc(done.routed)
        if done.routed:
            ROUTING_BATCHES.observe(done.routed)
        for message_id, dialog_id in done.replies:
            log.info("auto_reply_queued", message_id=message_id, dialog_id=dialog_id)
        if done.replies:
            self._on_outbound()
        for queue, count in Counter(row["queue"] for _, row in done.created).items():
            TASKS_CREATED.labels(queue).inc(count)
        for task_id, row in done.created:
            log.info(
                "task_created", task_id=task_id, queue=row["queue"], dialog_id=row["dialog_id"]
            )
        if self._dispatcher is None:
            return
        if done.assigned is not None:
            self._dispatcher.assigned_in(done.assigned, done.earliest_due, done.now)
        elif done.created:
            self._dispatcher.tasks_created()

    def _route_batch_sync(
        self, tx: SyncTx, ruleset: RuleSet, now: datetime, wait_for_locked: bool
    ) -> Routed:
        """Claim, decide, record and assign one batch in `tx`."""
        claim = claim_unrouted(tx, self._batch_size, skip_locked=not wait_for_locked)
        done = self._route(tx, claim.messages, claim.dialogs, ruleset, now)
        done.more = claim.full
        return done

    def _route(
        self,
        tx: SyncTx,
        claimed: list[UnroutedMessage],
        states: dict[int, DialogState],
        ruleset: RuleSet,
        now: datetime,
    ) -> Routed:
        """Decide and record the claimed messages; plan the new tasks with the waiting
        ones (when the dispatcher takes part here) and insert them, assigned where the plan
        placed them; stage the events."""
        done = Routed(now)
        if not claimed:
            return done
        batch = _BatchPlan(lambda: auto_replied_dialogs(tx, list(states)), self._outbound_channels)
        for message in claimed:
            state = states[message.dialog_id]
            batch.add(message, state, decide(ruleset, _facts(message, state, now)), ruleset, now)
        decision_ids = save_decisions(tx, batch.decisions)
        for row in batch.new_tasks:
            row["decision_id"] = decision_ids[row.pop("decision_index")]
        done.routed = len(claimed)
        dispatcher = self._dispatcher if batch.new_tasks else None
        if dispatcher is not None and not dispatcher.takes_part(tx):  # locks: before bumps
            dispatcher = None
        bump_tasks(tx, batch.bumps, now)  # before planning: a raised priority counts there
        in_pass: PassInRouting | None = None
        if dispatcher is not None:
            in_pass = dispatcher.assign_in(tx, ruleset, now, batch.waiting_rows(now))
        if in_pass is not None:
            batch.place(in_pass.new, now)
        done.created = list(zip(create_tasks(tx, batch.new_tasks), batch.new_tasks, strict=True))
        done.replies = queue_auto_replies(tx, batch.auto_replies, now)
        finish_routing(tx, [m.id for m in claimed], list(states.values()), now)
        events: list[Event] = []
        if in_pass is not None:
            done.assigned = in_pass.assigned + [
                TaskRef(task_id, row["dialog_id"], "assigned", row["assignee"], row["queue"])
                for task_id, row in done.created
                if row["assignee"] is not None
            ]
            events.extend(task_events(done.assigned))
        events.extend(
            TaskChanged(task_id, row["dialog_id"], "waiting", None, row["queue"])
            for task_id, row in done.created
            if row["assignee"] is None
        )
        events.extend(MessageReceived(m, d, "out") for m, d in done.replies)
        # The new tasks have their own events; the dialog itself changed only where the
        # rules tagged it or raised its priority.
        events.extend(DialogUpdated(d.id) for d in states.values() if d.changed)
        done.payloads = encode_batches(events)
        self._relay.stage_sync(tx, done.payloads)
        return done


class _BatchPlan:
    """What one routing batch will write, worked out before any write (bulk statements)."""

    def __init__(
        self, auto_replied: Callable[[], set[int]], outbound_channels: frozenset[str]
    ) -> None:
        self.decisions: list[dict[str, Any]] = []
        self.new_tasks: list[dict[str, Any]] = []
        self.bumps: dict[int, str | None] = {}
        self.auto_replies: list[tuple[int, str, str]] = []  # (dialog_id, channel, text)
        self._new_task_of: list[UnroutedMessage] = []  # the message each new task came from
        # One automatic reply per dialog, ever: the dialogs that had theirs, read when a
        # decision first asks for one (most batches need no such read).
        self._load_auto_replied = auto_replied
        self._auto_replied: set[int] | None = None
        self._outbound_channels = outbound_channels

    def add(
        self,
        message: UnroutedMessage,
        state: DialogState,
        decision: Decision,
        ruleset: RuleSet,
        now: datetime,
    ) -> None:
        # What the rules saw, kept so a replay can decide under the same facts later.
        seen = {"dialog_tags": sorted(state.tags), "contact_tags": sorted(message.contact_tags)}
        for tag in decision.tags:
            if tag not in state.tags:
                state.tags.append(tag)
        explicit = decision.priority if decision.priority != "normal" else None
        state.priority = more_urgent(state.priority, explicit) or state.priority
        body = decision.to_dict(full_trace=False)  # the rules that fired, and why
        fired = list(decision.matched_rules)
        body["rules"] = fired
        body["reason"] = "matched " + ", ".join(map(repr, fired)) if fired else "no rule matched"
        body["input"] = seen
        if decision.auto_reply:
            body["auto_reply_status"] = self._auto_reply(message, decision.auto_reply)
        decision_index = len(self.decisions)
        self.decisions.append(
            {
                "message_id": message.id,
                "dialog_id": message.dialog_id,
                "rules_version": decision.rules_version,
                "body": body,
                "created_at": now,
            }
        )
        for plan in decision.tasks:
            joined = state.open_tasks.get(plan.queue)
            if joined is None:  # a new task; negative ids stand for rows not yet inserted
                first_due, resolution_due = (
                    sla_due_times(ruleset, plan.sla, now) if plan.sla else (None, None)
                )
                state.open_tasks[plan.queue] = -1 - len(self.new_tasks)
                self.new_tasks.append(
                    {
                        "dialog_id": message.dialog_id,
                        "title": plan.title[:300],
                        "queue": plan.queue,
                        "status": TaskStatus.WAITING.value,
                        "priority": state.priority,
                        "tags": list(state.tags),
                        "sla_policy": plan.sla,
                        "skills": sorted(plan.skills),
                        "assign_to": plan.assign_to,
                        "first_response_due": first_due,
                        "resolution_due": resolution_due,
                        "decision_index": decision_index,
                        "created_at": now,
                        "updated_at": now,
                        **_UNASSIGNED,
                    }
                )
                self._new_task_of.append(message)
            elif joined < 0:  # joins a task this same batch creates
                row = self.new_tasks[-1 - joined]
                row["priority"] = more_urgent(row["priority"], explicit)
            else:  # a follow-up joins the dialog's open task in that queue
                self.bumps[joined] = more_urgent(self.bumps.get(joined), explicit)

    def waiting_rows(self, now: datetime) -> list[WaitingRow]:
        """The new tasks as the planner sees waiting tasks, with stand-in ids -n..-1 (in
        the order they will be inserted, as their ids will be)."""
        n = len(self.new_tasks)
        return [
            WaitingRow(
                id=i - n,
                dialog_id=row["dialog_id"],
                queue=row["queue"],
                priority=row["priority"],
                sla_due=row["first_response_due"] or row["resolution_due"],
                created_at=now,
                channel=message.channel,
                skills=frozenset(row["skills"]),
                returned_from=None,
                sticky_login=None,
                assign_to=row["assign_to"],
                contact_id=message.contact_id,
            )
            for i, (row, message) in enumerate(zip(self.new_tasks, self._new_task_of, strict=True))
        ]

    def place(self, planned: dict[int, AssignRow], now: datetime) -> None:
        """Fill in the assignment of each new task the plan placed (by stand-in id)."""
        n = len(self.new_tasks)
        for i, row in enumerate(self.new_tasks):
            a = planned.get(i - n)
            if a is not None:
                row.update(
                    status=TaskStatus.ASSIGNED.value,
                    assignee=a.login,
                    assigned_at=now,
                    weight=a.weight,
                    assignment=a.explanation,
                )

    def _auto_reply(self, message: UnroutedMessage, text: str) -> str:
        """Queue the dialog's one auto-reply if it may go; say what happened to it."""
        if self._auto_replied is None:
            self._auto_replied = self._load_auto_replied()
        if message.dialog_id in self._auto_replied:
            return "skipped: this dialog already had its automatic reply"
        if message.channel not in self._outbound_channels:
            return f"skipped: no sender for the {message.channel} channel"
        self._auto_replied.add(message.dialog_id)
        self.auto_replies.append((message.dialog_id, message.channel, text))
        return "queued"


# The columns an assignment fills, as a new task that waits has them (every row of one
# insert has the same keys).
_UNASSIGNED: dict[str, Any] = {
    "assignee": None,
    "assigned_at": None,
    "weight": 1.0,
    "assignment": None,
}


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
