"""What /metrics reads from the database at scrape time: shared state, the same from every
process (queue lengths, the outbox backlog), so it is never counted per process."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from storage.db import ReadTx
from storage.queries import OPEN_TASK
from storage.routing import unrouted_messages
from storage.tables import outbox, tasks


@dataclass(frozen=True, slots=True)
class Gauges:
    open_tasks: dict[tuple[str, str], int]  # (queue, status) -> tasks
    oldest_waiting: dict[str, datetime]  # queue -> created_at of its oldest waiting task
    outbox: dict[str, int]  # status -> rows
    oldest_pending: datetime | None
    unrouted: int


async def load_gauges(tx: ReadTx) -> Gauges:
    by_queue = await tx.execute(
        select(tasks.c.queue, tasks.c.status, func.count())
        .where(tasks.c.status.in_(OPEN_TASK))
        .group_by(tasks.c.queue, tasks.c.status)
    )
    open_tasks = {(q, s): int(n) for q, s, n in by_queue}
    oldest = await tx.execute(
        select(tasks.c.queue, func.min(tasks.c.created_at))
        .where(tasks.c.status == "waiting")
        .group_by(tasks.c.queue)
    )
    oldest_waiting: dict[str, datetime] = {q: t for q, t in oldest if t is not None}
    by_status = await tx.execute(select(outbox.c.status, func.count()).group_by(outbox.c.status))
    pending = await tx.execute(
        select(func.min(outbox.c.created_at)).where(outbox.c.status.in_(("pending", "sending")))
    )
    unrouted = await tx.execute(unrouted_messages(tx.dialect.name, "count(*)"))
    first: datetime | None = pending.scalar()  # min() keeps the column's type: aware UTC
    return Gauges(
        open_tasks=open_tasks,
        oldest_waiting=oldest_waiting,
        outbox={s: int(n) for s, n in by_status},
        oldest_pending=first,
        unrouted=int(unrouted.scalar_one()),
    )
