"""Putting new rules in force: from the API (validate, write the file, swap) or the file itself.

The watcher watches the file's directory, so editors that save by writing a temporary file
and renaming it are seen too, and filters by file name; a saved file is picked up at once,
without a polling interval. On Linux it asks inotify for closed writes, renames and
deletions only: the SQLite database that sits beside rules.yaml by default writes to its
files all the time, and with every write reported (as watchfiles reports them) the watcher
cost 10% of the server's CPU under load (bench/pipeline.py, SQLite). Elsewhere it uses
watchfiles (FSEvents, ReadDirectoryChanges). An invalid file is logged
(`rules_reload_failed` with file:line) and the rules in force stay.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import structlog
import watchfiles

from dialogs.rulebook import Rulebook
from router import RulesError, RuleSet, load_rules

log = structlog.get_logger(__name__)


def save_rules(rulebook: Rulebook, text: str) -> RuleSet:
    """Validate `text`, write it over the rulebook's file (atomically), put it in force.

    Raises RulesError (nothing changes) or OSError (the file could not be written; the rules
    in force stay as they were).
    """
    path = rulebook.path
    load_rules(text, str(path or "rules.yaml"))  # refuse before touching the file
    if path is not None:
        _write_atomically(path, text)
    return rulebook.replace(text)


def _write_atomically(path: Path, text: str) -> None:
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


class RulesWatcher:
    """Reloads the rulebook when its file changes on disk."""

    def __init__(
        self,
        rulebook: Rulebook,
        *,
        on_reloaded: Callable[[], None] = lambda: None,
        tick_ms: int = 1000,
    ) -> None:
        self._rulebook = rulebook
        self._tick_ms = tick_ms  # how often the watch thread checks for stop (no file polling)
        self._on_reloaded = on_reloaded
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()
        self.ready = asyncio.Event()  # set once the watch is in place
        self.handled = asyncio.Event()  # set after each change was handled (tests await it)

    def start(self) -> None:
        if self._rulebook.path is not None:
            self._task = asyncio.create_task(self._run(), name="rules-watcher")

    async def stop(self) -> None:
        self._stop.set()  # watchfiles' thread sees it within its tick (rust_timeout)
        if self._task is None:
            return
        if sys.platform == "linux":  # the inotify loop just waits on its descriptor
            self._task.cancel()
        done, _ = await asyncio.wait({self._task}, timeout=2)
        if not done:
            self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _run(self) -> None:
        path = self._rulebook.path
        assert path is not None
        if sys.platform == "linux":
            await self._watch_inotify(path.resolve())
        else:
            await self._watch_files(path.resolve())

    async def _watch_inotify(self, target: Path) -> None:
        from asyncinotify import Inotify, Mask

        saved = Mask.CLOSE_WRITE | Mask.MOVED_TO | Mask.MOVED_FROM | Mask.DELETE
        with Inotify() as inotify:  # read by the event loop itself: no thread, no timeout
            inotify.add_watch(target.parent, saved | Mask.ONLYDIR)
            self.ready.set()
            async for event in inotify:
                if event.name == Path(target.name):
                    self.reload()
                    self.handled.set()

    async def _watch_files(self, target: Path) -> None:
        changes = watchfiles.awatch(
            target.parent,
            watch_filter=lambda _change, name: Path(name) == target,
            stop_event=self._stop,
            debounce=200,
            rust_timeout=self._tick_ms,
            yield_on_timeout=True,
            recursive=False,
        )
        async for batch in changes:
            self.ready.set()  # the first (empty) timeout batch: the watch has been set up
            if batch:
                self.reload()
                self.handled.set()

    def reload(self) -> bool:
        """Read the file and put it in force if it is valid and new; returns True if it was."""
        path = self._rulebook.path
        assert path is not None
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            log.warning("rules_reload_failed", file=str(path), error=str(exc))
            return False
        if text == self._rulebook.text:
            return False
        try:
            ruleset = self._rulebook.replace(text)
        except RulesError as exc:
            log.warning(
                "rules_reload_failed",
                file=str(path),
                error=str(exc.errors[0] if exc.errors else exc),
                issues=len(exc.errors),
            )
            return False
        log.info("rules_file_reloaded", file=str(path), rules_version=ruleset.version)
        self._on_reloaded()
        return True
