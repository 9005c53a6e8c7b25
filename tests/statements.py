"""Seeing the SQL a block of code runs, for tests of query plans and of what a path writes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event


@contextmanager
def statements(engine: Engine, kind: str = "") -> Iterator[list[tuple[str, Any]]]:
    """Every statement `engine` runs inside the block, with its parameters; only those that
    begin with `kind` (e.g. "SELECT", "UPDATE TASKS") when given."""
    seen: list[tuple[str, Any]] = []
    prefix = kind.upper()

    def capture(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith(prefix):
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", capture)
