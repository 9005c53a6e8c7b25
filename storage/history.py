"""Read-only access to what routing stored: past inbound messages with their decisions, agents.

Used by `relaydesk rules replay` and `relaydesk rules test`. The connection is opened read-only
(SQLite ``mode=ro``, PostgreSQL ``default_transaction_read_only``), so nothing here can write,
and a missing SQLite file is reported instead of being created.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from storage.assignment import AgentRow, load_agents, load_rr_state
from storage.db import _JSON, ReadTx
from storage.queries import inbound_message_facts
from storage.sql import const
from storage.tables import contacts, decisions, dialogs, messages


class DatabaseUnavailable(Exception):
    """The database cannot be opened or read (missing file, refused connection, no schema)."""


@dataclass(frozen=True, slots=True)
class StoredInbound:
    """A stored inbound message as routing saw it, with the decision recorded for it (if any)."""

    id: int
    dialog_id: int
    channel: str
    kind: str
    text: str
    automated: bool
    is_first: bool
    created_at: datetime
    dialog_tags: frozenset[str]
    contact_name: str
    contact_tags: frozenset[str]
    contact_attrs: Mapping[str, str]
    decision: Mapping[str, Any] | None


def read_only_engine(url: str) -> AsyncEngine:
    """An engine that cannot write; raises DatabaseUnavailable for an unusable URL."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseUnavailable(f"bad database URL: {exc}") from None
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if not database or database == ":memory:":
            raise DatabaseUnavailable("an in-memory SQLite database has no history")
        path = Path(database).resolve()
        if not path.is_file():
            raise DatabaseUnavailable(f"no database file at {path}")
        return create_async_engine(
            f"sqlite+aiosqlite:///file:{quote(str(path))}?mode=ro&uri=true", **_JSON
        )
    return create_async_engine(
        url,
        pool_size=1,
        max_overflow=0,
        connect_args={"timeout": 5, "server_settings": {"default_transaction_read_only": "on"}},
        **_JSON,
    )


@asynccontextmanager
async def read_only(url: str) -> AsyncIterator[ReadTx]:
    """One read-only connection; errors opening or reading it become DatabaseUnavailable."""
    engine = read_only_engine(url)
    try:
        try:
            conn = await engine.connect()
        except (OSError, DBAPIError) as exc:
            detail = getattr(exc, "orig", None) or exc
            raise DatabaseUnavailable(f"cannot connect to the database: {detail}") from None
        try:
            yield conn
        finally:
            await conn.close()
    finally:
        await engine.dispose()


async def fetch_assignment_state(tx: ReadTx) -> tuple[list[AgentRow], dict[str, str]]:
    """What the dispatcher reads: every agent with presence, load and last assignment, and
    each round-robin queue's last agent."""
    try:
        agent_rows = await tx.run_sync(load_agents)
        rr_state = await tx.run_sync(load_rr_state)
    except SQLAlchemyError as exc:
        raise DatabaseUnavailable(f"cannot read agents (is the schema migrated?): {exc}") from None
    return agent_rows, rr_state


async def iter_inbound(
    tx: ReadTx, since: datetime, *, page_size: int = 500
) -> AsyncIterator[list[StoredInbound]]:
    """Inbound messages created at or after ``since``, oldest id first, one page at a time."""
    after = 0
    while True:
        page = await _inbound_page(tx, since, after, page_size)
        if not page:
            return
        yield page
        after = page[-1].id


async def _inbound_page(
    tx: ReadTx, since: datetime, after: int, page_size: int
) -> list[StoredInbound]:
    stmt = (
        select(
            *inbound_message_facts(),
            messages.c.created_at,
            dialogs.c.tags.label("dialog_tags"),
            contacts.c.name,
            contacts.c.tags.label("contact_tags"),
            contacts.c.attrs,
        )
        .join(dialogs, dialogs.c.id == messages.c.dialog_id)
        .join(contacts, contacts.c.id == dialogs.c.contact_id)
        .where(
            messages.c.direction == const("in"),
            messages.c.created_at >= since,
            messages.c.id > after,
        )
        .order_by(messages.c.id)
        .limit(page_size)
    )
    try:
        rows = (await tx.execute(stmt)).all()
        bodies: dict[int, Any] = {}
        if rows:
            found = await tx.execute(
                select(decisions.c.message_id, decisions.c.body)
                .where(decisions.c.message_id.in_([r.id for r in rows]))
                .order_by(decisions.c.id)
            )
            bodies = {message_id: body for message_id, body in found}  # the latest wins
    except SQLAlchemyError as exc:
        raise DatabaseUnavailable(
            f"cannot read messages (is the schema migrated?): {exc}"
        ) from None
    return [
        StoredInbound(
            id=r.id,
            dialog_id=r.dialog_id,
            channel=r.channel,
            kind=r.kind,
            text=r.text,
            automated=bool(r.automated),
            is_first=bool(r.is_first),
            created_at=r.created_at,
            dialog_tags=frozenset(r.dialog_tags or []),
            contact_name=r.name,
            contact_tags=frozenset(r.contact_tags or []),
            contact_attrs={str(k): str(v) for k, v in (r.attrs or {}).items()},
            decision=bodies.get(r.id),
        )
        for r in rows
    ]
