"""Persistence: the schema, migrations and the repositories every other package calls.

SQLAlchemy is used here and nowhere else; callers hold a `Database` and pass the
transactions it opens to repository functions.
"""

from storage.db import Database, ReadTx, WriteTx, is_integrity_error

__all__ = ["Database", "ReadTx", "WriteTx", "is_integrity_error"]
