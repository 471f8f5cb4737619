"""The SQLite store's connection and the SQL helpers its parts share.

Durability and concurrency: WAL journal (readers never block the writer), `synchronous=FULL`
(a committed write survives a power cut), a 5 s busy timeout (several worker processes may
share one file), foreign keys on.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol

from service.store.errors import StoreError, StoreUnavailable
from service.store.sqlite import statements as sql

__all__ = ["BUSY_TIMEOUT_MS", "Row", "Transactions", "connect", "exists", "matching",
           "next_revision", "store_errors", "where"]

BUSY_TIMEOUT_MS = 5000
Row = tuple[Any, ...]


class Transactions(Protocol):
    """What the parts of `SqliteStore` need of it: its transactions."""

    def _write(self) -> AbstractContextManager[sqlite3.Connection]: ...
    def _read(self) -> AbstractContextManager[sqlite3.Connection]: ...
    def _select(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...


def connect(path: str) -> sqlite3.Connection:
    # isolation_level=None: we issue BEGIN/COMMIT ourselves, the module adds none.
    conn = sqlite3.connect(
        path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
    )
    # cache_size: 64 MiB of page cache keeps bulk loads of 300k links off the disk.
    for pragma in (
        "journal_mode = WAL",
        "synchronous = FULL",
        "foreign_keys = ON",
        "cache_size = -65536",
    ):
        conn.execute(f"PRAGMA {pragma}")
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    # SQLite's lower() folds ASCII only; `q` must match "Ö" with "ö" as Neo4j's toLower does.
    conn.create_function("unicode_lower", 1, _lower, deterministic=True)
    return conn


def _lower(text: str | None) -> str | None:
    return None if text is None else text.lower()


@contextmanager
def store_errors() -> Iterator[None]:
    """Turn driver errors into the port's errors (the service never sees sqlite3)."""
    try:
        yield
    except sqlite3.IntegrityError as exc:
        raise StoreError(f"integrity violation: {exc}") from exc
    except sqlite3.DatabaseError as exc:
        # locked past the busy timeout, unreadable or corrupt file, schema missing
        raise StoreUnavailable(f"sqlite: {exc}") from exc


def matching(
    conn: sqlite3.Connection, table: str, key_columns: str, keys: Sequence[Row], columns: str
) -> list[Row]:
    """`columns` of the rows of `table` whose `key_columns` equal one of `keys`.

    The keys travel as ONE JSON parameter joined against the table's index (CROSS JOIN
    keeps json_each as the outer loop): no variable limit, no chunking, one statement.
    """
    if not keys:
        return []
    key_names = [name.strip() for name in key_columns.split(",")]
    on = " AND ".join(
        f"t.{name} = json_extract(k.value, '$[{i}]')" for i, name in enumerate(key_names)
    )
    picked = ", ".join(f"t.{name.strip()}" for name in columns.split(","))
    query = f"SELECT {picked} FROM json_each(?) AS k CROSS JOIN {table} AS t ON {on}"
    return conn.execute(query, (json.dumps(keys),)).fetchall()


def where(conditions: dict[str, Any]) -> tuple[str, list[Any]]:
    """`WHERE a = ? AND ...` for the conditions whose value is set; a tuple value fills
    several placeholders. Keys are SQL written in this package, never caller input."""
    used = {clause: value for clause, value in conditions.items() if value is not None}
    params = [
        v for value in used.values() for v in (value if isinstance(value, tuple) else [value])
    ]
    return (" WHERE " + " AND ".join(used) if used else ""), params


def exists(conn: sqlite3.Connection, table: str, column: str, value: str) -> bool:
    query = f"SELECT 1 FROM {table} WHERE {column} = ? LIMIT 1"
    return conn.execute(query, (value,)).fetchone() is not None


def next_revision(conn: sqlite3.Connection) -> int:
    """The revision the open write transaction commits as, if it changes anything."""
    return int(conn.execute(sql.SELECT_REVISION).fetchone()[0]) + 1
