"""GroupCommitter: shared commits, per-caller answers, failure isolation."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from dialogs.batching import GroupCommitter


async def test_concurrent_submits_share_commits() -> None:
    """Items submitted while a commit runs go together into the next one."""
    batches: list[list[int]] = []
    gate = asyncio.Event()
    started = asyncio.Event()

    async def commit(items: Sequence[int]) -> list[int]:
        batches.append(list(items))
        started.set()
        await gate.wait()
        return [i * 10 for i in items]

    committer: GroupCommitter[int, int] = GroupCommitter(commit)
    committer.start()
    first = asyncio.create_task(committer.submit(0))
    await started.wait()
    rest = [asyncio.create_task(committer.submit(i)) for i in range(1, 6)]
    await asyncio.sleep(0)
    gate.set()
    assert await first == 0
    assert [await t for t in rest] == [10, 20, 30, 40, 50]
    assert batches == [[0], [1, 2, 3, 4, 5]]
    await committer.stop()


async def test_failing_item_fails_alone() -> None:
    """When a batch fails, its items are retried one by one and only the bad one errors."""

    async def commit(items: Sequence[int]) -> list[int]:
        if 13 in items:
            raise ValueError("unlucky")
        return list(items)

    committer: GroupCommitter[int, int] = GroupCommitter(commit)
    committer.start()
    results = await asyncio.gather(
        *(committer.submit(i) for i in (12, 13, 14)), return_exceptions=True
    )
    assert results[0] == 12 and results[2] == 14
    assert isinstance(results[1], ValueError)
    await committer.stop()


async def test_submit_before_start_is_refused() -> None:
    """A committer that is not running says so instead of hanging."""
    committer: GroupCommitter[int, int] = GroupCommitter(
        lambda items: asyncio.sleep(0, list(items))
    )
    with pytest.raises(RuntimeError, match="not running"):
        await committer.submit(1)


async def test_quiet_waits_for_what_is_queued_and_committing() -> None:
    """`quiet` returns at once when idle; otherwise once the batch committing and the items
    queued behind it are all settled."""
    gate = asyncio.Event()
    started = asyncio.Event()
    settled: list[int] = []

    async def commit(items: Sequence[int]) -> list[int]:
        started.set()
        await gate.wait()
        settled.extend(items)
        return list(items)

    committer: GroupCommitter[int, int] = GroupCommitter(commit)
    committer.start()
    await asyncio.wait_for(committer.quiet(), 1)  # idle
    submits = [asyncio.create_task(committer.submit(0))]
    await started.wait()
    submits += [asyncio.create_task(committer.submit(i)) for i in (1, 2)]
    quiet = asyncio.create_task(committer.quiet())
    await asyncio.sleep(0)
    assert not quiet.done()
    gate.set()
    await asyncio.wait_for(quiet, 1)
    assert settled == [0, 1, 2] and all(t.done() for t in submits)
    await committer.stop()
