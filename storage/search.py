"""Full-text search over message texts: SQLite FTS5, PostgreSQL text search.

A query is split into words; a message matches when it holds every word as a word prefix
(`refu` finds "Refund", `возв` finds "ВОЗВРАТ"), case-insensitively. Words are letters and
digits only, so nothing the user types reaches the FTS5 or tsquery syntax. A query with no
words at all (only punctuation) falls back to a plain substring match.

SQLite keeps `messages_fts` (external content, triggers in migration 0007) in step with
messages; PostgreSQL answers from the GIN index on to_tsvector('simple', text) — the
expression here must stay exactly the indexed one for the index to be used.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import column, literal_column, select, table
from sqlalchemy.sql import ColumnElement, func

from storage.db import ReadTx
from storage.tables import dialogs, messages

MAX_TERMS = 8
_WORD = re.compile(r"[^\W_]+")
_fts = table("messages_fts", column("rowid"))
_SIMPLE: ColumnElement[Any] = literal_column("'simple'::regconfig")


def search_terms(q: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(q)][:MAX_TERMS]


def dialogs_matching(tx: ReadTx, q: str) -> ColumnElement[bool]:
    """A condition on dialogs: some message of the dialog matches `q`."""
    terms = search_terms(q)
    if not terms:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        hits = select(messages.c.dialog_id).where(messages.c.text.ilike(pattern, escape="\\"))
    elif tx.dialect.name == "sqlite":
        expression = " ".join(f'"{t}"*' for t in terms)
        rowids = select(_fts.c.rowid).where(literal_column("messages_fts").op("MATCH")(expression))
        hits = select(messages.c.dialog_id).where(messages.c.id.in_(rowids))
    else:
        tsquery = " & ".join(f"{t}:*" for t in terms)
        vector = func.to_tsvector(_SIMPLE, messages.c.text)
        hits = select(messages.c.dialog_id).where(
            vector.op("@@")(func.to_tsquery(_SIMPLE, tsquery))
        )
    return dialogs.c.id.in_(hits)
