"""The ingest batch's lookups are index searches on SQLite: none scans a table that grows."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Table, create_engine, insert, select, update
from sqlalchemy.dialects import sqlite

from dialogs.dispatch import Dispatcher
from dialogs.model import ChannelKind
from dialogs.routing import RoutingWorker
from dialogs.rulebook import Rulebook
from storage import Database
from storage.inbound import PreparedInbound, store_inbound_batch
from storage.notify import EventRelay
from storage.tables import agents, contacts, dialogs, messages, metadata, tasks
from tests.builders import inbound
from tests.conftest import BASIC_RULES, DATA
from tests.statements import statements

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def assert_no_scans(engine: Engine, seen: list[tuple[str, Any]], pattern: str) -> None:
    """EXPLAIN each captured SELECT: no step may scan a table matching `pattern`."""
    with engine.connect() as conn:
        for statement, parameters in seen:
            plan = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
            steps = [row[-1] for row in plan]
            scans = [s for s in steps if re.match(pattern, s)]
            assert not scans, f"{statement}\n{steps}"


def _predicate_columns(table: Table) -> list[str]:
    """The columns the predicates of `table`'s partial indexes name."""
    wheres = " ".join(
        str(index.dialect_options["sqlite"]["where"])
        for index in table.indexes
        if index.dialect_options["sqlite"]["where"] is not None
    )
    return [c.name for c in table.c if re.search(rf"\b{c.name}\b", wheres)]


# `messages.direction = ?`, `messages_1.direction = ?`, `dialogs.status != ?`, ...
BOUND_PREDICATE_COLUMN = re.compile(
    "|".join(
        rf"\b{table.name}(?:_\d+)?\.{column}\s*(?:=|!=|<>|IN\s*\()\s*\?"
        for table in metadata.tables.values()
        for column in _predicate_columns(table)
    )
)


def assert_no_bound_predicate_columns(seen: list[tuple[str, Any]]) -> None:
    """No statement compares a column named by a partial index's predicate with a bound
    value: SQLite would prepare it again at every execution (storage.sql.const)."""
    for statement, _ in seen:
        assert not BOUND_PREDICATE_COLUMN.search(statement), statement


def test_the_bound_predicate_column_check_sees_them() -> None:
    compiled = str(
        select(messages.c.id)
        .where(messages.c.direction == "in", messages.c.dialog_id.in_(select(dialogs.c.id)))
        .where(dialogs.c.status != "closed")
        .compile(dialect=sqlite.dialect())
    )
    assert len(BOUND_PREDICATE_COLUMN.findall(compiled)) == 2, compiled


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
    with statements(engine, "SELECT") as seen, engine.begin() as conn:
        store_inbound_batch(conn, batch, now=NOW, reopen_window=timedelta(days=1))
    assert len(seen) >= 3  # duplicates, identities, dialogs at least
    assert_no_scans(engine, seen, r"SCAN (messages|contact|dialogs|tasks)")
    assert_no_bound_predicate_columns(seen)
    engine.dispose()


def test_dispatch_round_reads_open_tasks_by_index(tmp_path: Path, sqlite_template: Path) -> None:
    """A dispatch round (timers, loads, waiting tasks, assignment) searches tasks by status:
    done tasks pile up forever and no round may read them all."""
    path = tmp_path / "dispatch.db"
    shutil.copyfile(sqlite_template, path)
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(insert(contacts), [{"id": 1, "name": "Ann", "created_at": NOW}])
        conn.execute(
            insert(dialogs),
            [
                {
                    "id": 1,
                    "contact_id": 1,
                    "channel": "api",
                    "created_at": NOW,
                    "last_message_at": NOW,
                }
            ],
        )
        conn.execute(insert(agents), [{"login": "alice", "status": "online", "created_at": NOW}])
        conn.execute(
            insert(tasks),
            [
                {
                    "dialog_id": 1,
                    "queue": "support",
                    "status": status,
                    "created_at": NOW,
                    "updated_at": NOW,
                    "assignee": "bob" if status == "done" else None,
                }
                for status in ["done"] * 50 + ["waiting"] * 2
            ],
        )
    dispatcher = Dispatcher(
        Database(f"sqlite+aiosqlite:///{path}"),
        EventRelay(Database(f"sqlite+aiosqlite:///{path}"), lambda _: None),
        Rulebook.from_file(BASIC_RULES),
        clock=lambda: NOW,
    )
    with statements(engine, "SELECT") as seen, engine.begin() as conn:
        _, _, assigned, _, _ = dispatcher._dispatch_sync(conn, dispatcher._rulebook.current, NOW)
    assert [t.assignee for t in assigned] == ["alice", "alice"]
    assert len(seen) >= 5  # awaiting reply, loads, waiting, rotation, due times at least
    assert_no_scans(engine, seen, r"SCAN (messages|dialogs|tasks)\b")
    engine.dispose()


AUTO_REPLY_RULES = DATA / "rules" / "auto_reply.yaml"


def test_routing_batch_reads_by_index(tmp_path: Path, sqlite_template: Path) -> None:
    """Routing a stored batch (claim, auto-reply check, decide, assign) looks its dialogs'
    messages and tasks up by dialog, never by a status or direction every old row shares."""
    path = tmp_path / "route.db"
    shutil.copyfile(sqlite_template, path)
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:  # an earlier, routed history: done tasks, both directions
        conn.execute(insert(agents), [{"login": "alice", "status": "online", "created_at": NOW}])
        store_inbound_batch(
            conn,
            [PreparedInbound(inbound(f"old{i}", contact=f"o{i}")) for i in range(3)],
            now=NOW,
            reopen_window=timedelta(days=1),
        )
        conn.execute(update(messages).values(routed_at=NOW))
        conn.execute(
            insert(tasks),
            [
                {
                    "dialog_id": 1,
                    "queue": "support",
                    "status": "done",
                    "created_at": NOW,
                    "updated_at": NOW,
                    "assignee": "alice",
                }
                for _ in range(5)
            ],
        )
    db = Database(f"sqlite+aiosqlite:///{path}")
    relay = EventRelay(db, lambda _: None)
    rulebook = Rulebook.from_file(AUTO_REPLY_RULES)  # so the auto-replies are read
    dispatcher = Dispatcher(db, relay, rulebook, clock=lambda: NOW)
    routing = RoutingWorker(db, relay, rulebook, clock=lambda: NOW, dispatcher=dispatcher)
    with engine.begin() as conn:
        store_inbound_batch(
            conn,
            [PreparedInbound(inbound(f"new{i}", contact=f"n{i}")) for i in range(50)],
            now=NOW,
            reopen_window=timedelta(days=1),
        )
    with statements(engine, "SELECT") as seen, engine.begin() as conn:
        done = routing._route_batch_sync(conn, rulebook.current, NOW, False)
    assert done.routed == 50 and len(done.assigned or []) == 5  # capacity
    assert len(seen) >= 4  # the claim, open tasks, auto-replies, loads at least
    assert_no_bound_predicate_columns(seen)
    assert_no_scans(
        engine, seen, r"SCAN (messages|dialogs|tasks)\b(?! USING INDEX ix_messages_unrouted)"
    )
    by_dialog = [(s, p) for s, p in seen if "dialog_id IN" in s]
    assert len(by_dialog) >= 2  # open tasks, auto-replies
    # A search by status or direction reads every open task or every message that way.
    assert_no_scans(engine, by_dialog, r".*INDEX (ix_tasks_status_load|ix_messages_volume)")
    engine.dispose()
