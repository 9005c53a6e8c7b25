"""Group commit: many concurrent callers share one transaction, each answered when it is durable."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

import structlog

log = structlog.get_logger(__name__)

T = TypeVar("T")
R = TypeVar("R")

# Commits `items` in one transaction and returns one result per item, in order.
CommitBatch = Callable[[Sequence[T]], Awaitable[Sequence[R]]]


class GroupCommitter(Generic[T, R]):
    """Feeds whatever has queued up since the last commit into the next one.

    No timer: while one batch commits, the next accumulates, so batches grow with load
    and a lone request is committed at once. A batch that fails is retried item by item,
    so one poisoned item fails alone.
    """

    def __init__(self, commit: CommitBatch[T, R], *, max_batch: int = 256, workers: int = 1):
        self._commit = commit
        self._max_batch = max_batch
        self._workers = workers
        self._queue: asyncio.Queue[tuple[T, asyncio.Future[R]]] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []

    async def submit(self, item: T) -> R:
        if not self._tasks:
            raise RuntimeError("GroupCommitter is not running")
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        await self._queue.put((item, future))
        return await future

    async def quiet(self) -> None:
        """Return once nothing is queued or being committed."""
        await self._queue.join()

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._run(), name=f"group-commit-{n}") for n in range(self._workers)
        ]

    async def stop(self) -> None:
        """Finish what is queued, then stop."""
        await self._queue.join()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._settle(batch)
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def _settle(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        live = [(item, fut) for item, fut in batch if not fut.cancelled()]
        if not live:
            return
        try:
            results = await self._commit([item for item, _ in live])
        except Exception as exc:
            if len(live) == 1:
                log.exception("group_commit_failed", size=1)
                _fail(live[0][1], exc)
                return
            log.warning("group_commit_batch_failed", size=len(live), error=repr(exc))
            for pair in live:
                await self._settle([pair])
            return
        for (_, fut), result in zip(live, results, strict=True):
            if not fut.done():
                fut.set_result(result)


def _fail(future: asyncio.Future[R], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)
