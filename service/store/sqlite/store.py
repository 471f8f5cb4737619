"""The embedded SQLite store: the zero-setup default adapter of the role ports.

Every write method runs in one `BEGIN IMMEDIATE` transaction, so it takes the write lock up
front, applies every item or none, and bumps the single-row revision counter by one iff it
changed something; the rows it writes are stamped with that new revision, and what it
deletes leaves tombstones (the change log, see `schema`). Reads run in one deferred
transaction, so e.g. `load_network` sees the links and the revision of one snapshot, and
`changes_since` is exact.

Parts: `graph` (companies, links), `ledger` (requests, events, answers), `bulk` (a whole
network into an empty store, in one transaction), `changelog` (the engine's reads),
`snapshot` (the integer cold read), `idempotency`, `access`, `webhooks`; `migrations` holds
the numbered schema steps `init_schema` runs.

Threads: the FastAPI app calls the store from its thread pool. We keep ONE connection
(`check_same_thread=False`) behind a lock rather than a connection per thread: SQLite admits
one writer at a time anyway, ":memory:" databases are private to their connection (per-thread
connections would each see an empty database), and `close()` can close everything it opened.
The price is that reads in one process are serialised too; they are short (the coverage
engine reads the network once per revision and caches it). The one exception is
`load_snapshot` on a file: it reads a request's events on a second connection while this
one reads the network (`snapshot`).

Examples
--------
>>> from graph_models.models import Company
>>> store = SqliteStore(":memory:")
>>> store.init_schema()
>>> store.upsert_companies([Company(id="focal-jp", name="Focal Electronics")])
[<WriteOutcome.created: 'created'>]
>>> store.revision(), store.schema_version()
(1, 5)
>>> store.close()
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any, TypeVar

from service.store.errors import StoreError
from service.store.records import Snapshot
from service.store.sqlite import migrations, schema
from service.store.sqlite import statements as sql
from service.store.sqlite.access import CLEAR_ACCESS, SqliteAccess
from service.store.sqlite.bulk import SqliteBulkLoad
from service.store.sqlite.changelog import SqliteChangeLog, snapshot_by_id
from service.store.sqlite.connection import Row, connect, store_errors
from service.store.sqlite.graph import SqliteGraph
from service.store.sqlite.idempotency import CLEAR_IDEMPOTENCY, SqliteIdempotency
from service.store.sqlite.incidents import CLEAR_INCIDENTS, SqliteIncidents
from service.store.sqlite.ledger import SqliteLedger
from service.store.sqlite.snapshot import MissingKeys, snapshot
from service.store.sqlite.webhooks import CLEAR_WEBHOOKS, SqliteWebhooks

__all__ = ["SqliteStore"]

_T = TypeVar("_T")


class SqliteStore(SqliteGraph, SqliteLedger, SqliteBulkLoad, SqliteChangeLog, SqliteIdempotency,
                  SqliteAccess, SqliteWebhooks, SqliteIncidents):
    """Every role port on one SQLite file (or ":memory:"); see the module docstring."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._unit = threading.local()  # .open: this thread runs an `atomic` unit
        with store_errors():
            self._conn = connect(path)
        # A second connection, only for the events half of `load_snapshot` (a file only:
        # a private in-memory database would be another, empty one).
        self._events_lock = threading.Lock()
        self._events_conn: sqlite3.Connection | None = None

    @contextmanager
    def _transaction(self, begin: str) -> Iterator[sqlite3.Connection]:
        if getattr(self._unit, "open", False):
            yield self._conn  # inside `atomic`: join its transaction (and its lock)
            return
        with self._lock, store_errors():
            self._conn.execute(begin)
            try:
                yield self._conn
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _write(self) -> AbstractContextManager[sqlite3.Connection]:
        """One write transaction: takes the write lock at BEGIN, all or nothing."""
        return self._transaction("BEGIN IMMEDIATE")

    def _read(self) -> AbstractContextManager[sqlite3.Connection]:
        """One read snapshot (WAL): several SELECTs see the same committed state."""
        return self._transaction("BEGIN DEFERRED")

    def atomic(self, work: Callable[[], _T]) -> _T:
        """Run `work` in one BEGIN IMMEDIATE transaction that every store call joins."""
        if getattr(self._unit, "open", False):
            return work()
        with self._write():
            self._unit.open = True
            try:
                return work()
            finally:
                self._unit.open = False

    def _select(self, query: str, params: Sequence[Any] = ()) -> list[Row]:
        with self._read() as conn:
            return conn.execute(query, params).fetchall()

    # -- causal reads: one file is one copy, every read sees every commit ---------------

    def bookmarks(self) -> tuple[str, ...]:
        """A token with nothing to wait for: echoed to another worker, it only makes that
        worker read the store instead of answering from its cache."""
        return ("sqlite",)

    def catch_up(self, bookmarks: Sequence[str]) -> None:
        """Nothing to wait for: every read already sees every committed write."""

    # -- administration ---------------------------------------------------------------------

    def init_schema(self) -> None:
        """Run the migration steps this database has not run yet (`migrations`), in one
        write transaction; idempotent."""
        with self._write() as conn:
            migrations.upgrade(conn)

    def schema_version(self) -> int:
        with self._read() as conn:
            return migrations.schema_version(conn)

    def close(self) -> None:
        with self._lock:
            self._conn.close()  # closing twice is a no-op
        with self._events_lock:
            if self._events_conn is not None:
                self._events_conn.close()

    def ping(self) -> bool:
        try:
            self._select(sql.SELECT_REVISION)
        except (StoreError, sqlite3.ProgrammingError):  # ProgrammingError: store closed
            return False
        return True

    def clear_all(self) -> None:
        """Delete every record and reset the revision (the schema and its version stay)."""
        with self._write() as conn:
            for statement in (*schema.CLEAR_ALL, CLEAR_IDEMPOTENCY, *CLEAR_ACCESS,
                              *CLEAR_WEBHOOKS, *CLEAR_INCIDENTS):
                conn.execute(statement)

    # -- the cold read ----------------------------------------------------------------------

    def load_snapshot(self, request_ids: Sequence[str]) -> Snapshot:
        """See `ChangeLog.load_snapshot`: integer columns (`snapshot`), the events read on a
        second connection while this one reads the network; by id where rows lack keys."""
        try:
            return self._snapshot(request_ids)
        except MissingKeys:  # rows an older worker wrote since the upgrade: read by id
            with self._read() as conn:
                return snapshot_by_id(conn, request_ids)

    def _snapshot(self, request_ids: Sequence[str]) -> Snapshot:
        if getattr(self._unit, "open", False) or self.path in ("", ":memory:") \
                or "mode=memory" in self.path or not request_ids:
            with self._read() as conn:
                return snapshot(conn, None, request_ids)
        with self._read() as conn:
            return snapshot(conn, self._events_read, request_ids)

    @contextmanager
    def _events_read(self) -> Iterator[sqlite3.Connection]:
        """A read transaction on the second connection (opened on first use)."""
        with self._events_lock, store_errors():
            if self._events_conn is None:
                self._events_conn = connect(self.path)
                self._events_conn.execute("PRAGMA cache_size = -8192")  # one pass: little
            conn = self._events_conn
            conn.execute("BEGIN DEFERRED")
            try:
                yield conn
            finally:
                conn.execute("ROLLBACK")  # read only: nothing to keep
