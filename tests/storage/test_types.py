"""Column types: UTC datetimes on SQLite keep SQLAlchemy's own text format."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Column, MetaData, Table, create_engine, select
from sqlalchemy.dialects.sqlite import DATETIME
from sqlalchemy.exc import StatementError

from storage.types import UTCDateTime


def test_utc_datetimes_keep_sqlalchemys_sqlite_text_format(tmp_path: Path) -> None:
    """UTCDateTime's own SQLite conversion writes exactly what SQLAlchemy's DATETIME writes
    (rows stored before it, and comparisons on the text, depend on that) and reads any aware
    moment back as the same instant, in UTC."""
    engine = create_engine(f"sqlite:///{tmp_path / 'dt.db'}")
    table = Table("t", MetaData(), Column("at", UTCDateTime), Column("raw", DATETIME))
    table.metadata.create_all(engine)
    moments = [
        datetime(2026, 3, 4, 12, 0, tzinfo=UTC),
        datetime(2026, 3, 4, 15, 30, 1, 250, tzinfo=timezone(timedelta(hours=3, minutes=30))),
        datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    ]
    with engine.begin() as conn:
        conn.execute(
            table.insert(),
            [{"at": m, "raw": m.astimezone(UTC).replace(tzinfo=None)} for m in moments],
        )
        stored = conn.exec_driver_sql("SELECT at, raw FROM t").all()
        back = conn.execute(select(table.c.at)).scalars().all()
    assert [at for at, _ in stored] == [raw for _, raw in stored]
    assert back == moments and all(m.tzinfo is UTC for m in back)
    with pytest.raises(StatementError, match="naive datetime"), engine.begin() as conn:
        conn.execute(table.insert(), {"at": datetime(2026, 3, 4, 12)})
    engine.dispose()
