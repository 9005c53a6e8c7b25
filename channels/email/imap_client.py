"""A thin IMAP session over aioimaplib: the few commands the poller uses, each raising on a
NO/BAD answer, and a dropped connection noticed at once (aioimaplib leaves a command
waiting on a dead socket until its timeout, or forever in IDLE)."""

from __future__ import annotations

import asyncio
import contextlib
import re
import ssl
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, TypeVar

import aioimaplib

T = TypeVar("T")

_UIDVALIDITY = re.compile(rb"\[UIDVALIDITY (\d+)\]")
_FETCH_UID = re.compile(rb"\bUID (\d+)")
_LITERAL = re.compile(rb"\{(\d+)\}$")
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")


class ImapError(Exception):
    """The server refused a command or the connection broke; the poller reconnects."""


class ImapLoginError(ImapError):
    """Wrong credentials: said plainly in the log, still retried with backoff."""


@dataclass(frozen=True, slots=True)
class ImapAccount:
    host: str
    port: int
    user: str
    password: str
    ssl: bool = True
    timeout: float = 30.0
    ca_file: str | None = None  # trust this CA (a self-signed server) besides the system's


class ImapSession:
    def __init__(self, account: ImapAccount) -> None:
        self._account = account
        self._lost = asyncio.Event()
        self._client: aioimaplib.IMAP4 | None = None

    async def connect(self) -> None:
        a = self._account
        lost = self._lost

        def on_lost(_exc: Exception | None) -> None:
            lost.set()

        # IMAP4 with an SSL context is what IMAP4_SSL does, and only IMAP4 takes conn_lost_cb.
        context = ssl.create_default_context(cafile=a.ca_file) if a.ssl else None
        self._client = aioimaplib.IMAP4(
            a.host, a.port, timeout=a.timeout, conn_lost_cb=on_lost, ssl_context=context
        )
        await self._guard(self.client.wait_hello_from_server())
        response = await self._guard(self.client.login(a.user, a.password))
        if response.result != "OK":
            raise ImapLoginError(f"IMAP login refused for {a.user}: {_text(response)}")

    @property
    def client(self) -> aioimaplib.IMAP4:
        if self._client is None:
            raise ImapError("not connected")
        return self._client

    @property
    def has_idle(self) -> bool:
        return bool(self.client.has_capability("IDLE"))

    @property
    def has_move(self) -> bool:
        return bool(self.client.has_capability("MOVE"))

    async def _guard(self, aw: Awaitable[T], limit: float | None = None) -> T:
        """`aw`, or ImapError as soon as the connection drops or `timeout` passes."""
        task = asyncio.ensure_future(aw)
        lost = asyncio.ensure_future(self._lost.wait())
        try:
            done, _ = await asyncio.wait(
                {task, lost},
                timeout=limit or self._account.timeout * 4,
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            lost.cancel()
        if task in done:
            try:
                return task.result()
            except (aioimaplib.AioImapException, OSError, TimeoutError) as exc:
                raise ImapError(f"{type(exc).__name__}: {exc}") from exc
        task.cancel()
        raise ImapError("connection lost" if self._lost.is_set() else "command timed out")

    async def _ok(self, aw: Awaitable[Any], what: str, limit: float | None = None) -> Any:
        response = await self._guard(aw, limit)
        if response.result != "OK":
            raise ImapError(f"{what} refused: {_text(response)}")
        return response

    async def select(self, folder: str) -> int:
        """Select `folder`; its UIDVALIDITY."""
        response = await self._ok(self.client.select(_quote(folder)), f"SELECT {folder}")
        for line in response.lines:
            found = _UIDVALIDITY.search(bytes(line))
            if found:
                return int(found.group(1))
        raise ImapError(f"SELECT {folder}: the server sent no UIDVALIDITY")

    async def uids_after(self, last_uid: int) -> list[int]:
        response = await self._ok(
            self.client.uid_search(f"UID {last_uid + 1}:*", charset=None), "SEARCH"
        )
        return _search_uids(response.lines, above=last_uid)

    async def uids_matching(self, *criteria: str) -> list[int]:
        response = await self._ok(self.client.uid_search(*criteria, charset=None), "SEARCH")
        return _search_uids(response.lines, above=0)

    async def sizes(self, uids: list[int]) -> dict[int, int]:
        response = await self._ok(
            self.client.uid("fetch", _set(uids), "(UID RFC822.SIZE)"), "FETCH sizes"
        )
        out: dict[int, int] = {}
        for line in response.lines:
            raw = bytes(line)
            uid, size = _FETCH_UID.search(raw), _SIZE.search(raw)
            if uid and size:
                out[int(uid.group(1))] = int(size.group(1))
        return out

    async def fetch_bodies(self, uids: list[int]) -> dict[int, bytes]:
        """The full messages, without setting \\Seen (BODY.PEEK[])."""
        response = await self._ok(
            self.client.uid("fetch", _set(uids), "(UID BODY.PEEK[])"),
            "FETCH",
            limit=self._account.timeout * 20,
        )
        return _fetched_bodies(response.lines)

    async def mark_seen(self, uids: list[int]) -> None:
        await self._ok(self.client.uid("store", _set(uids), "+FLAGS.SILENT (\\Seen)"), "STORE")

    async def move(self, uids: list[int], folder: str) -> None:
        """Move to `folder` (created when missing); COPY + \\Deleted + EXPUNGE without MOVE."""
        await self.ensure_folder(folder)
        if self.has_move:
            await self._ok(self.client.uid("move", _set(uids), _quote(folder)), "MOVE")
            return
        await self._ok(self.client.uid("copy", _set(uids), _quote(folder)), "COPY")
        await self._ok(self.client.uid("store", _set(uids), "+FLAGS.SILENT (\\Deleted)"), "STORE")
        await self._ok(self.client.uid("expunge", _set(uids)), "EXPUNGE")

    async def ensure_folder(self, folder: str) -> None:
        await self._guard(self.client.create(_quote(folder)))  # NO when it exists: fine

    async def idle(self, renew_after: float) -> bool:
        """IDLE until the server reports a change or `renew_after` seconds pass (then DONE,
        so the server's 30-minute IDLE limit is never reached); True on a change."""
        idle = await self._guard(self.client.idle_start(timeout=renew_after))
        try:
            pushed = await self._guard(
                self.client.wait_server_push(timeout=renew_after + 5), limit=renew_after + 10
            )
        finally:
            if self.client.has_pending_idle() and not self._lost.is_set():
                self.client.idle_done()
        await self._guard(idle)
        if pushed == aioimaplib.STOP_WAIT_SERVER_PUSH:
            return False
        return any(b"EXISTS" in bytes(line) for line in pushed)

    async def noop(self) -> None:
        await self._ok(self.client.noop(), "NOOP")

    async def close(self) -> None:
        client = self._client
        self._client = None
        if client is None:
            return
        if not self._lost.is_set() and client.protocol.pending_sync_command is None:
            with contextlib.suppress(aioimaplib.AioImapException, OSError, TimeoutError):
                await asyncio.wait_for(client.logout(), 5)
        transport = client.protocol.transport if client.protocol is not None else None
        if transport is not None:
            transport.close()


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _set(uids: list[int]) -> str:
    return ",".join(str(u) for u in uids)


def _text(response: Any) -> str:
    return " ".join(bytes(line).decode("utf-8", "replace") for line in response.lines)[:300]


def _search_uids(lines: list[Any], *, above: int) -> list[int]:
    uids: list[int] = []
    for line in lines:
        raw = bytes(line)
        if raw and raw.split()[0].isdigit():
            uids.extend(int(x) for x in raw.split() if x.isdigit())
    return sorted(u for u in set(uids) if u > above)  # "n:*" answers the last UID even if < n


def _fetched_bodies(lines: list[Any]) -> dict[int, bytes]:
    out: dict[int, bytes] = {}
    pending_uid: int | None = None
    expecting = False
    for item in lines:
        if expecting and isinstance(item, bytearray):  # aioimaplib hands literals as bytearray
            if pending_uid is not None:
                out[pending_uid] = bytes(item)
            expecting = False
            continue
        raw = bytes(item)
        uid = _FETCH_UID.search(raw)
        if uid:
            pending_uid = int(uid.group(1))
        expecting = bool(_LITERAL.search(raw))
    return out
