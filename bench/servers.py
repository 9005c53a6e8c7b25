"""Starting and stopping the processes the benchmarks measure: one `relaydesk serve` or several."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bench_env(work: Path, token: str) -> dict[str, str]:
    """The environment every benchmarked server gets: quiet JSON logs, files under `work`."""
    return {
        **os.environ,
        "RELAYDESK_API_TOKEN": token,
        "RELAYDESK_LOG_LEVEL": "warning",
        "RELAYDESK_LOG_FORMAT": "json",
        "RELAYDESK_DATA_DIR": str(work / "data"),
    }


def start(cmd: list[str], env: Mapping[str, str], cwd: Path) -> subprocess.Popen[str]:
    """Start `cmd` and return once it prints that it is serving."""
    proc = subprocess.Popen(
        cmd, env=dict(env), cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if "serving on" in line.lower():
            return proc
    raise RuntimeError(f"{cmd} exited before it was ready")


def stop(procs: list[subprocess.Popen[str]]) -> None:
    for p in procs:
        p.send_signal(signal.SIGTERM)
    for p in procs:
        p.wait(30)


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time the processes have used so far (Linux /proc)."""
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15 of stat)
    return total / os.sysconf("SC_CLK_TCK")


@contextmanager
def relaydesk_servers(
    db_url: str,
    rules: Path,
    env: Mapping[str, str],
    cwd: Path,
    processes: int = 1,
    pids: list[int] | None = None,
) -> Iterator[list[str]]:
    """`processes` `relaydesk serve` processes on one database; yields their base URLs (and
    fills `pids`, when given, with their process ids)."""
    procs: list[subprocess.Popen[str]] = []
    urls: list[str] = []
    try:
        for _ in range(processes):
            port = free_port()
            cmd = [sys.executable, "-m", "relaydesk.cli", "serve", "--port", str(port)]
            procs.append(start([*cmd, "--db", db_url, "--rules", str(rules)], env, cwd))
            urls.append(f"http://127.0.0.1:{port}")
            if pids is not None:
                pids.append(procs[-1].pid)
        yield urls
    finally:
        stop(procs)
