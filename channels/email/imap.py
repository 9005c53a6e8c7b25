"""The IMAP poller of one mailbox: fetch new mail, ingest it, then mark it processed.

Order of effects, per chunk of new UIDs: fetch with BODY.PEEK[] (nothing is marked read
by fetching) -> parse off the event loop -> ingest and wait for the commit -> mark
\\Seen or move the chunk -> save the cursor (UIDVALIDITY, last UID). A crash anywhere
re-fetches at most the chunk, whose messages are recognised by Message-ID (or content
hash) and not stored twice. A UIDVALIDITY change (the folder was rebuilt) re-scans mail
since the last sync, deduplicated the same way. The first start reads the unseen mail.

Waiting: IDLE, renewed every `idle_renew` seconds (well inside the 29 minutes RFC 2177
allows), or polling every `poll_interval` when the server has no IDLE or it is turned
off. Any failure closes the session and reconnects after an exponential backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import structlog

from channels.base import Ingest, StatusSink, StatusUpdate, backoff
from channels.email.imap_client import ImapAccount, ImapError, ImapSession
from channels.email.mime import MessageRefused, MimeLimits
from channels.email.normalize import EmailOutcome, normalize_email
from dialogs.model import InboundMessage

log = structlog.get_logger(__name__)

QUARANTINE_KEPT = 100  # reasons kept in the cursor row, newest last


@dataclass(frozen=True, slots=True)
class MailboxConfig:
    name: str  # the cursor key: unique per mailbox
    account: ImapAccount
    folder: str = "INBOX"
    move_to: str | None = None  # processed mail goes here; None: marked \Seen and left
    quarantine_folder: str | None = "Quarantine"  # None: flagged \Seen in place
    idle: bool = True
    idle_renew: float = 20 * 60.0
    poll_interval: float = 60.0
    chunk: int = 50


class CursorStore(Protocol):
    async def load_cursor(self, key: str) -> dict[str, Any] | None: ...

    async def save_cursor(self, key: str, value: dict[str, Any]) -> None: ...


class MailboxPoller:
    def __init__(
        self,
        config: MailboxConfig,
        *,
        ingest: Ingest,
        status_update: StatusSink,
        cursors: CursorStore,
        limits: MimeLimits,
        subject_window: timedelta | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.config = config
        self._ingest = ingest
        self._status_update = status_update
        self._cursors = cursors
        self._limits = limits
        self._subject_window = subject_window
        self._clock = clock
        self._task: asyncio.Task[None] | None = None
        self._log = log.bind(mailbox=config.name)
        self.synced = asyncio.Event()  # set after every completed sync (tests and bench wait)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"imap:{self.config.name}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        attempt = 0
        while True:
            session = ImapSession(self.config.account)
            try:
                await session.connect()
                attempt = 0
                await self._serve(session)
            except (ImapError, OSError) as exc:
                attempt += 1
                delay = backoff(attempt, base=1.0, cap=300.0)
                self._log.warning(
                    "imap_session_failed",
                    error=str(exc)[:300],
                    attempt=attempt,
                    retry_in=round(delay, 2),
                )
                await asyncio.sleep(delay)
            except Exception:  # a bug or a store outage: log, back off, never die silently
                attempt += 1
                delay = backoff(attempt, base=1.0, cap=300.0)
                self._log.exception("imap_poller_crashed", attempt=attempt)
                await asyncio.sleep(delay)
            finally:
                await session.close()

    async def _serve(self, session: ImapSession) -> None:
        cfg = self.config
        uidvalidity = await session.select(cfg.folder)
        self._log.info("imap_connected", folder=cfg.folder, idle=cfg.idle and session.has_idle)
        while True:
            await self.sync(session, uidvalidity)
            if cfg.idle and session.has_idle:
                if not await session.idle(cfg.idle_renew):
                    self._log.debug("imap_idle_renewed")
            else:
                await asyncio.sleep(cfg.poll_interval)
                await session.noop()

    async def sync(self, session: ImapSession, uidvalidity: int) -> None:
        """Ingest every message after the cursor; advance the cursor chunk by chunk."""
        cursor = await self._cursors.load_cursor(self.config.name) or {}
        top: int | None = None  # the UID the cursor moves to once a full scan is done
        # `top` is read before the scan: mail arriving in between has a higher UID and is
        # picked up next time (read after, such mail would fall between scan and cursor).
        if not cursor:
            top = max(await session.uids_after(0), default=0)
            uids = await session.uids_matching("UNSEEN")
        elif int(cursor.get("uidvalidity", 0)) != uidvalidity:
            since = datetime.fromisoformat(cursor["synced_at"]) - timedelta(days=1)
            self._log.warning(
                "imap_uidvalidity_changed",
                old=cursor.get("uidvalidity"),
                new=uidvalidity,
                rescan_since=since.date().isoformat(),
            )
            top = max(await session.uids_after(0), default=0)
            uids = await session.uids_matching("SINCE", since.strftime("%d-%b-%Y"))
            cursor = {**cursor, "uidvalidity": uidvalidity, "last_uid": 0}
        else:
            uids = await session.uids_after(int(cursor.get("last_uid", 0)))
        for start in range(0, len(uids), self.config.chunk):
            chunk = uids[start : start + self.config.chunk]
            cursor = await self._process_chunk(session, chunk, uidvalidity, cursor)
        if top is not None:
            await self._save(cursor, uidvalidity, top)
        self.synced.set()

    async def _process_chunk(
        self, session: ImapSession, chunk: list[int], uidvalidity: int, cursor: dict[str, Any]
    ) -> dict[str, Any]:
        cfg = self.config
        sizes = await session.sizes(chunk)
        wanted = [u for u in chunk if sizes.get(u, 0) <= self._limits.max_message_bytes]
        refused = {
            u: f"message of {sizes[u]:,} bytes is over the "
            f"{self._limits.max_message_bytes:,} byte limit"
            for u in chunk
            if u not in wanted and u in sizes
        }
        bodies = await session.fetch_bodies(wanted) if wanted else {}
        fetched = [(uid, bodies[uid]) for uid in wanted if uid in bodies]  # others: expunged
        work: list[Awaitable[Any]] = []
        for uid, outcome in await asyncio.to_thread(self._normalize, fetched, uidvalidity):
            if isinstance(outcome, str):
                refused[uid] = outcome
            elif isinstance(outcome, InboundMessage):
                work.append(self._ingest(outcome))
            elif isinstance(outcome, StatusUpdate):
                work.append(self._status_update(outcome))
        await asyncio.gather(*work)  # the group commit stores the chunk in few transactions
        if refused:
            await self._quarantine(session, refused)
        done = [u for u in chunk if u not in refused]
        if done:
            if cfg.move_to:
                await session.move(done, cfg.move_to)
            else:
                await session.mark_seen(done)
        quarantined = [
            *cursor.get("quarantined", []),
            *({"uid": u, "reason": r, "at": self._clock().isoformat()} for u, r in refused.items()),
        ][-QUARANTINE_KEPT:]
        cursor = {**cursor, "quarantined": quarantined}
        self._log.info(
            "imap_chunk_processed", count=len(done), quarantined=len(refused), last_uid=chunk[-1]
        )
        return await self._save(cursor, uidvalidity, chunk[-1])

    def _normalize(
        self, fetched: list[tuple[int, bytes]], uidvalidity: int
    ) -> list[tuple[int, EmailOutcome | str]]:
        """Each message's meaning, or the reason it is refused: one thread hop per chunk."""
        out: list[tuple[int, EmailOutcome | str]] = []
        for uid, raw in fetched:
            source = {"mailbox": self.config.name, "uid": uid, "uidvalidity": uidvalidity}
            try:
                outcome: EmailOutcome | str = normalize_email(
                    raw, limits=self._limits, subject_window=self._subject_window, source=source
                )
            except MessageRefused as exc:
                outcome = exc.reason
            except Exception as exc:  # a parser bug must not block the mailbox either
                self._log.exception("email_parse_crashed", uid=uid)
                outcome = f"unparseable: {type(exc).__name__}"
            out.append((uid, outcome))
        return out

    async def _quarantine(self, session: ImapSession, refused: dict[int, str]) -> None:
        for uid, reason in refused.items():
            self._log.warning("email_quarantined", uid=uid, reason=reason)
        uids = sorted(refused)
        if self.config.quarantine_folder:
            try:
                await session.move(uids, self.config.quarantine_folder)
                return
            except ImapError as exc:  # e.g. no right to create the folder: flag in place
                self._log.warning("email_quarantine_move_failed", error=str(exc)[:300])
        await session.mark_seen(uids)

    async def _save(
        self, cursor: dict[str, Any], uidvalidity: int, last_uid: int
    ) -> dict[str, Any]:
        value = {
            **cursor,
            "uidvalidity": uidvalidity,
            "last_uid": max(last_uid, int(cursor.get("last_uid", 0))),
            "synced_at": self._clock().isoformat(),
        }
        await self._cursors.save_cursor(self.config.name, value)
        return value
