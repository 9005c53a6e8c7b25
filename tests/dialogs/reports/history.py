"""A generated help-desk history of known shape, and the report figures computed from it
independently of dialogs/reports: planted business-time durations, breaches and reopenings.

Durations are planted in business minutes: a first response is placed with
router.hours.add_business_time(created, planted), so its business time is the planted value
by construction, whatever the calendar does (evenings, weekends, the DST change).
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text

from router import add_business_time, load_rules_file
from storage import Database
from storage.tables import contacts, dialogs, messages, tasks
from tests.conftest import DATA

RULES = DATA / "rules" / "reports.yaml"
START = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday; the history runs 30 days
CHANNELS = ("email", "telegram", "whatsapp", "widget", "api")
SUPPORT, REFUNDS = "wsparcie-łódź", "возвраты"
AGENTS = ("alice", "bob", "carol")
NAMES = ("Zażółć Gęślą Jaźń", "Ольга Петрова", '=HYPERLINK("x")', "Łukasz Wąs")
SUBJECTS = ("Zwrot pieniędzy — zamówienie", "Возврат денег за заказ", "Hello")
FR_MINUTES = (5, 20, 45, 59, 61, 90, 180)  # business minutes; the office SLA allows 60
RES_EXTRA = (10, 120, 300, 500)  # business minutes after the first response


@dataclass
class Planted:
    """One task and what was planted in it."""

    id: int
    dialog_id: int
    channel: str
    queue: str
    tags: list[str]
    assignee: str | None
    status: str
    policy: str
    created: datetime
    assigned: datetime | None
    responded: datetime | None
    closed: datetime | None
    fr_due: datetime
    res_due: datetime
    held: datetime | None
    frt: float | None  # planted business seconds to the first response
    resolution: float | None  # planted business seconds to done
    reopens: bool


@dataclass
class History:
    tasks: list[Planted] = field(default_factory=list)
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def generate(n_dialogs: int = 5000, seed: int = 11) -> History:
    rnd = random.Random(seed)
    ruleset = load_rules_file(RULES)
    calendars = {name: p.calendar for name, p in ruleset.sla.items()}
    history = History(rows={"contacts": [], "dialogs": [], "messages": [], "tasks": []})
    rows = history.rows
    step = timedelta(days=30) / n_dialogs
    message_id = 0

    def message(dialog: int, channel: str, direction: str, at: datetime, text: str) -> None:
        nonlocal message_id
        message_id += 1
        rows["messages"].append(
            {
                "id": message_id,
                "dialog_id": dialog,
                "direction": direction,
                "channel": channel,
                "external_id": f"m{message_id}" if direction == "in" else None,
                "kind": "text",
                "text": text,
                "status": "received" if direction == "in" else "sent",
                "automated": False,
                "thread_hints": {},
                "history": [],
                "created_at": at,
            }
        )

    for d in range(1, n_dialogs + 1):
        created = START + step * (d - 1) + timedelta(seconds=rnd.randrange(0, 60))
        created = created.replace(microsecond=0)
        channel = CHANNELS[d % len(CHANNELS)]
        tags = ["vip"] if d % 4 == 0 else []
        rows["contacts"].append(
            {"id": d, "name": NAMES[d % len(NAMES)], "tags": [], "attrs": {}, "created_at": created}
        )
        rows["dialogs"].append(
            {
                "id": d,
                "contact_id": d,
                "channel": channel,
                "thread_key": "",
                "status": "open",
                "tags": tags,
                "priority": "normal",
                "subject": SUBJECTS[d % len(SUBJECTS)],
                "created_at": created,
                "last_message_at": created,
            }
        )
        message(d, channel, "in", created, "Chcę zwrot" if d % 3 == 0 else "Привет")
        queue = REFUNDS if d % 3 == 0 else SUPPORT
        first = _plant(rnd, history, d, channel, queue, tags, created, calendars, reopens=False)
        if first.responded is not None:
            message(d, channel, "out", first.responded, "Dzień dobry / Здравствуйте")
        if d % 7 == 0:
            message(d, channel, "note", created + timedelta(minutes=1), "internal")
        if first.closed is not None and first.status == "done" and d % 10 == 0:
            again = first.closed + timedelta(hours=rnd.choice((2, 26)))
            message(d, channel, "in", again, "Znowu ja / Снова я")
            _plant(rnd, history, d, channel, queue, tags, again, calendars, reopens=True)
        if first.closed is not None and d % 25 == 0:  # another queue: not a reopening
            other = REFUNDS if queue == SUPPORT else SUPPORT
            later = first.closed + timedelta(hours=3)
            _plant(rnd, history, d, channel, other, tags, later, calendars, reopens=False)
    return history


def _plant(
    rnd: random.Random,
    history: History,
    dialog: int,
    channel: str,
    queue: str,
    tags: list[str],
    created: datetime,
    calendars: dict[str, Any],
    *,
    reopens: bool,
) -> Planted:
    policy = "fast" if queue == REFUNDS else "office"
    cal = calendars[policy]
    fr_target, res_target = (
        (timedelta(minutes=15), timedelta(hours=4))
        if policy == "fast"
        else (timedelta(hours=1), timedelta(hours=8))
    )
    roll = rnd.random()
    status = (
        "done"
        if roll < 0.7
        else "cancelled"
        if roll < 0.78
        else "in_progress"
        if roll < 0.9
        else "waiting"
    )
    held = None
    assigned = responded = closed = None
    frt = resolution = None
    if status != "waiting":
        assigned = created + timedelta(seconds=rnd.choice((30, 120, 600, 1800)))
        if status == "in_progress" and rnd.random() < 0.3:
            held = assigned + timedelta(minutes=1)  # on hold before any reply: clock paused
        else:
            frt = rnd.choice(FR_MINUTES) * 60.0
            responded = add_business_time(created, timedelta(seconds=frt), cal)
            assigned = min(assigned, responded)  # taken before (or as) it is answered
    if status == "done":
        assert frt is not None
        resolution = frt + rnd.choice(RES_EXTRA) * 60.0
        closed = add_business_time(created, timedelta(seconds=resolution), cal)
    elif status == "cancelled":
        closed = (responded or created) + timedelta(minutes=rnd.choice((5, 600)))
    task_id = len(history.tasks) + 1
    planted = Planted(
        id=task_id,
        dialog_id=dialog,
        channel=channel,
        queue=queue,
        tags=tags,
        assignee=AGENTS[task_id % 3] if assigned is not None else None,
        status=status,
        policy=policy,
        created=created,
        assigned=assigned,
        responded=responded,
        closed=closed,
        fr_due=add_business_time(created, fr_target, cal),
        res_due=add_business_time(created, res_target, cal),
        held=held,
        frt=frt,
        resolution=resolution,
        reopens=reopens,
    )
    history.tasks.append(planted)
    history.rows["tasks"].append(
        {
            "id": task_id,
            "dialog_id": dialog,
            "title": "Zwrot / Возврат",
            "queue": queue,
            "status": status,
            "assignee": planted.assignee,
            "priority": "normal",
            "weight": 1.0,
            "tags": tags,
            "sla_policy": policy,
            "first_response_due": planted.fr_due,
            "resolution_due": planted.res_due,
            "first_response_at": responded,
            "breached": False,
            "created_at": created,
            "assigned_at": assigned,
            "updated_at": created,
            "closed_at": closed,
            "held_at": held,
        }
    )
    return planted


async def store(db: Database, history: History) -> None:
    def insert(tx: Any) -> None:
        for name, table in (
            ("contacts", contacts),
            ("dialogs", dialogs),
            ("tasks", tasks),
            ("messages", messages),
        ):
            tx.execute(table.insert(), history.rows[name])
            if not db.is_sqlite:  # ids were given: move the sequence past them
                tx.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                        f"(SELECT max(id) FROM {name}))"
                    )
                )

    await db.run_write(insert)


# ---- the figures, computed straight from the plant -------------------------------------------


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _p90(values: list[float]) -> float | None:
    if not values:
        return None
    return sorted(values)[math.ceil(len(values) * 9 / 10) - 1]


def expected(
    history: History,
    start: datetime,
    end: datetime,
    keep: Callable[[Planted], bool] = lambda _t: True,
    keep_dialog: Callable[[dict[str, Any]], bool] = lambda _d: True,
    *,
    owned: bool = False,
) -> dict[str, Any]:
    """Every figure of the period [start, end) for the tasks ``keep`` keeps. ``owned``: the
    figures of the tasks' assignees, who hold each task only from its assignment on."""

    def inside(at: datetime | None, t: Planted | None = None) -> bool:
        if at is None or not start <= at < end:
            return False
        return not owned or t is None or (t.assigned is not None and at >= t.assigned)

    ts = [t for t in history.tasks if keep(t)]
    kept_dialogs = {d["id"] for d in history.rows["dialogs"] if keep_dialog(d)}
    msgs = [m for m in history.rows["messages"] if m["dialog_id"] in kept_dialogs]
    fr_met = fr_breached = res_met = res_breached = 0
    for t in ts:
        if t.responded is not None and t.responded <= t.fr_due:
            fr = (t.responded, True)
        elif t.responded is None and t.held is not None and t.held <= t.fr_due:
            fr = None
        else:
            fr = (t.fr_due, False)
        if fr is not None and inside(fr[0], t):
            fr_met += fr[1]
            fr_breached += not fr[1]
        if t.closed is not None and t.closed <= t.res_due:
            res = (t.closed, True) if t.status == "done" else None
        elif t.closed is None and t.held is not None and t.held <= t.res_due:
            res = None
        else:
            res = (t.res_due, False)
        if res is not None and inside(res[0], t):
            res_met += res[1]
            res_breached += not res[1]
    resolved = [t for t in ts if t.status == "done" and inside(t.closed, t)]
    reopened = sum(1 for t in ts if t.reopens and inside(t.created, t))
    first = [t.frt for t in ts if inside(t.responded, t) and t.frt is not None]
    resolution = [t.resolution for t in resolved if t.resolution is not None]
    waits = [
        (t.assigned - t.created).total_seconds() for t in ts if t.assigned and inside(t.assigned, t)
    ]
    open_at_end = [t for t in ts if t.created < end and (t.closed is None or t.closed >= end)]
    held = [t for t in open_at_end if t.assigned is not None and t.assigned < end]
    if owned:
        open_at_end = held
    met, breached = fr_met + res_met, fr_breached + res_breached
    return {
        "dialogs": sum(
            1
            for d in history.rows["dialogs"]
            if d["id"] in kept_dialogs and inside(d["created_at"])
        ),
        "messages_in": sum(1 for m in msgs if m["direction"] == "in" and inside(m["created_at"])),
        "messages_out": sum(1 for m in msgs if m["direction"] == "out" and inside(m["created_at"])),
        "tasks_created": sum(1 for t in ts if inside(t.created, t)),
        "tasks_resolved": len(resolved),
        "tasks_cancelled": sum(1 for t in ts if t.status == "cancelled" and inside(t.closed, t)),
        "tasks_reopened": reopened,
        "reopen_rate": reopened / len(resolved) if resolved else None,
        "first_responses": len(first),
        "first_response_median_s": _median(first),
        "first_response_p90_s": _p90(first),
        "resolution_median_s": _median(resolution),
        "resolution_p90_s": _p90(resolution),
        "sla_first_response_met": fr_met,
        "sla_first_response_breached": fr_breached,
        "sla_resolution_met": res_met,
        "sla_resolution_breached": res_breached,
        "sla_attainment": met / (met + breached) if met + breached else None,
        "tasks_assigned": len(waits),
        "queue_wait_median_s": _median(waits),
        "queue_wait_p90_s": _p90(waits),
        "backlog_open": len(open_at_end),
        "backlog_waiting": sum(1 for t in open_at_end if t.assigned is None or t.assigned >= end),
        "agent_load": len(held),
    }
