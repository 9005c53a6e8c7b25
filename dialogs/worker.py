"""A background worker that runs when woken, or when its next deadline comes: never on a poll."""

from __future__ import annotations

import asyncio
import contextlib

import structlog

log = structlog.get_logger(__name__)


class WakeableWorker:
    """Calls `work()` at start, after every `wake()`, and when `delay()` seconds have passed.

    Wakes that arrive while `work()` runs are not lost: they make it run once more. A
    failure is logged and retried after a pause; the work itself must be resumable.
    """

    name = "worker"
    # Under load, wakes arriving within this many seconds of the last run are served together
    # by one run: bounded batching that amortises a run's fixed cost, not a poll.
    coalesce = 0.0

    def __init__(self) -> None:
        self._wake = asyncio.Event()
        self._due = False  # a wake asked for work (a rearm only asks to re-read `delay()`)
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        self._due = True
        self._wake.set()

    def rearm(self) -> None:
        """`delay()` changed: sleep until the new deadline instead, without working now."""
        self._wake.set()

    def start(self) -> None:
        self.wake()  # pick up what an earlier run left behind
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def delay(self) -> float | None:
        """Seconds until work is due without a wake (None: only wakes)."""
        return None

    async def work(self) -> None:
        raise NotImplementedError

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        last_run = -float("inf")
        while True:
            try:
                async with asyncio.timeout(self.delay()):
                    await self._wake.wait()
            except TimeoutError:
                self._due = True
            if not self._due:  # rearmed: sleep again, until the new deadline
                self._wake.clear()
                continue
            if (pause := last_run + self.coalesce - loop.time()) > 0:
                await asyncio.sleep(pause)
            self._wake.clear()
            self._due = False
            last_run = loop.time()
            try:
                await self.work()
            except Exception:
                log.exception(f"{self.name}_failed")  # retried after a pause; nothing is lost
                await asyncio.sleep(1)
                self.wake()
