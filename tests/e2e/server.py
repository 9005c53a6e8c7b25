"""Real `relaydesk serve` processes for end-to-end tests."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp

from tests.conftest import BASIC_RULES, TOKEN

READY = "Relaydesk serving on"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerProcess:
    def __init__(
        self,
        db_url: str,
        workdir: Path,
        *,
        rules: Path = BASIC_RULES,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.db_url = db_url
        self.workdir = workdir
        self.rules = rules
        self.port = free_port()
        self.extra_env = dict(env or {})
        self.proc: asyncio.subprocess.Process | None = None
        self.output: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, ready_within: float = 60) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "RELAYDESK_API_TOKEN": TOKEN,
            "RELAYDESK_DATABASE_URL": self.db_url,
            "RELAYDESK_DATA_DIR": str(self.workdir / "data"),
            "RELAYDESK_LOG_FORMAT": "json",
            "RELAYDESK_LOG_LEVEL": "warning",
            **self.extra_env,
        }
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "relaydesk.cli",
            "serve",
            "--port",
            str(self.port),
            "--rules",
            str(self.rules),
            cwd=self.workdir,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        await asyncio.wait_for(self._wait_ready(), ready_within)

    async def _wait_ready(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        while True:
            line = await self.proc.stdout.readline()
            if not line:
                raise RuntimeError("server exited before it was ready:\n" + "".join(self.output))
            text = line.decode(errors="replace")
            self.output.append(text)
            if READY in text:
                asyncio.get_running_loop().create_task(self._drain())
                return

    async def _drain(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        async for line in self.proc.stdout:
            self.output.append(line.decode(errors="replace"))

    def kill(self) -> None:
        """kill -9: no clean-up, no flushing, as a crash or an OOM kill would."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)

    async def stop(self) -> int:
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.proc.wait(), 30)


@asynccontextmanager
async def running(db_url: str, workdir: Path, **kwargs: object) -> AsyncIterator[ServerProcess]:
    server = ServerProcess(db_url, workdir, **kwargs)  # type: ignore[arg-type]
    await server.start()
    try:
        yield server
    finally:
        if server.proc is not None and server.proc.returncode is None:
            server.proc.send_signal(signal.SIGKILL)
            await server.proc.wait()


async def wait_for_events(
    session: aiohttp.ClientSession, url: str, done: Callable[[], object], within: float = 60
) -> None:
    """Re-check `done` after every live event from the server until it holds."""

    async def run() -> None:
        async with session.get(
            f"{url}/api/v1/events", headers={"Authorization": f"Bearer {TOKEN}"}
        ) as response:
            assert response.status == 200
            while not await _maybe_await(done()):
                line = await response.content.readline()
                if not line:
                    raise RuntimeError("event stream ended")

    await asyncio.wait_for(run(), within)


async def _maybe_await(value: object) -> object:
    if asyncio.iscoroutine(value):
        return await value
    return value
