"""The ingest batch's lookups are index searches on SQLite: none scans a table that grows."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event

from dialogs.model import ChannelKind
from storage.inbound import PreparedInbound, store_inbound_batch
from tests.builders import inbound

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def test_store_batch_selects_search_indexes(tmp_path: Path, sqlite_template: Path) -> None:
    """Every SELECT store_inbound_batch runs (two channels, duplicates) is an index SEARCH."""
    path = tmp_path / "plans.db"
    shutil.copyfile(sqlite_template, path)
    engine = create_engine(f"sqlite:///{path}")
    batch = [
        PreparedInbound(inbound(f"m{i}", contact=f"c{i % 3}", channel=channel, email=f"c{i}@x.org"))
        for i in range(6)
        for channel in (ChannelKind.API, ChannelKind.WIDGET)
    ]
    with engine.begin() as conn:
        store_inbound_batch(conn, batch[:4], now=NOW, reopen_window=timedelta(days=1))
    seen: list[tuple[str, Any]] = []

    @event.listens_for(engine, "before_cursor_execute")
    def capture(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    with engine.begin() as conn:
        store_inbound_batch(conn, batch, now=NOW, reopen_window=timedelta(days=1))
    event.remove(engine, "before_cursor_execute", capture)
    assert len(seen) >= 3  # duplicates, identities, dialogs at least
    with engine.connect() as conn:
        for statement, parameters in seen:
            plan = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
            steps = [row[-1] for row in plan]
            scans = [s for s in steps if re.match(r"SCAN (messages|contact|dialogs|tasks)", s)]
            assert not scans, f"{statement}\n{steps}"
    engine.dispose()
