"""The embedded SQLite store: the zero-setup default adapter of the `CascadeStore` port.

Durability and concurrency: WAL journal (readers never block the writer), `synchronous=FULL`
(a committed write survives a power cut), a 5 s busy timeout (several worker processes may
share one file), foreign keys on. Every write method runs in one `BEGIN IMMEDIATE`
transaction, so it takes the write lock up front, applies every item or none, and bumps the
single-row revision counter by one iff it changed something; the rows it writes are stamped
with that new revision, and what it deletes leaves tombstones (the change log, see
`sqlite_schema`). Reads run in one deferred transaction, so e.g. `load_network` sees the
links and the revision of one snapshot, and `changes_since` is exact.

Upgrade: `init_schema` adds the change-log columns and tables to a database written by an
older version (existing rows get revision 0); the log then starts at the revision of the
upgrade, and `changes_since` an older revision answers None.

Threads: the FastAPI app calls the store from its thread pool. We keep ONE connection
(`check_same_thread=False`) behind a lock rather than a connection per thread: SQLite admits
one writer at a time anyway, ":memory:" databases are private to their connection (per-thread
connections would each see an empty database), and `close()` can close everything it opened.
The price is that reads in one process are serialised too; they are short (the coverage
engine reads the network once per revision and caches it). The one exception is
`load_snapshot` on a file: it reads a request's events on a second connection while this
one reads the network (`sqlite_snapshot`).

Examples
--------
>>> store = SqliteStore(":memory:")
>>> store.init_schema()
>>> store.upsert_companies([Company(id="focal-jp", name="Focal Electronics")])
[<WriteOutcome.created: 'created'>]
>>> store.revision()
1
>>> store.close()
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any, TypeVar

from graph_models.models import (
    Acknowledgement,
    CascadeEvent,
    Company,
    PolicyRequest,
    SupplyLink,
    utc_now,
)
from service.store import sqlite_schema as schema
from service.store.port import (
    AlreadyExists,
    ChangeSet,
    InUse,
    Network,
    RequestEvents,
    Snapshot,
    StoreError,
    StoreUnavailable,
    WriteOutcome,
    assemble_changes,
)
from service.store.sqlite_access import ACCESS_TABLES, CLEAR_ACCESS, SqliteAccess
from service.store.sqlite_idempotency import (
    CLEAR_IDEMPOTENCY,
    IDEMPOTENCY_TABLES,
    SqliteIdempotency,
)
from service.store.sqlite_incidents import CLEAR_INCIDENTS, INCIDENT_TABLES, SqliteIncidents
from service.store.sqlite_snapshot import (
    MissingKeys,
    fill_company_keys,
    missing_key_columns,
    snapshot,
)
from service.store.sqlite_webhooks import CLEAR_WEBHOOKS, WEBHOOK_TABLES, SqliteWebhooks

__all__ = ["SqliteStore"]

BUSY_TIMEOUT_MS = 5000
_T = TypeVar("_T")
Row = tuple[Any, ...]


def _connect(path: str) -> sqlite3.Connection:
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
def _store_errors() -> Iterator[None]:
    """Turn driver errors into the port's errors (the service never sees sqlite3)."""
    try:
        yield
    except sqlite3.IntegrityError as exc:
        raise StoreError(f"integrity violation: {exc}") from exc
    except sqlite3.DatabaseError as exc:
        # locked past the busy timeout, unreadable or corrupt file, schema missing
        raise StoreUnavailable(f"sqlite: {exc}") from exc


def _matching(
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
    sql = f"SELECT {picked} FROM json_each(?) AS k CROSS JOIN {table} AS t ON {on}"
    return conn.execute(sql, (json.dumps(keys),)).fetchall()


def _apply(
    stored: dict[Hashable, Row],
    rows: Iterable[Row],
    key: Callable[[Row], Hashable],
    *,
    replace: bool,
) -> tuple[list[WriteOutcome], list[Row]]:
    """Apply `rows` in order onto `stored`: the outcome of each and the rows to write.

    `replace=True`: a different row for a stored key is `updated` (the last one wins);
    `replace=False`: a stored key is `unchanged` whatever the row says (the first one wins).
    """
    outcomes: list[WriteOutcome] = []
    changed: dict[Hashable, Row] = {}
    for row in rows:
        row_key = key(row)
        old = stored.get(row_key)
        if old == row or (old is not None and not replace):
            outcomes.append(WriteOutcome.unchanged)
            continue
        outcomes.append(WriteOutcome.created if old is None else WriteOutcome.updated)
        stored[row_key] = changed[row_key] = row
    return outcomes, list(changed.values())


def _where(conditions: dict[str, Any]) -> tuple[str, list[Any]]:
    """`WHERE a = ? AND ...` for the conditions whose value is set; a tuple value fills
    several placeholders. Keys are SQL written in this module, never caller input."""
    used = {sql: value for sql, value in conditions.items() if value is not None}
    params = [
        v for value in used.values() for v in (value if isinstance(value, tuple) else [value])
    ]
    return (" WHERE " + " AND ".join(used) if used else ""), params


def _exists(conn: sqlite3.Connection, table: str, column: str, value: str) -> bool:
    sql = f"SELECT 1 FROM {table} WHERE {column} = ? LIMIT 1"
    return conn.execute(sql, (value,)).fetchone() is not None


def _next_revision(conn: sqlite3.Connection) -> int:
    """The revision the open write transaction commits as, if it changes anything."""
    return int(conn.execute(schema.SELECT_REVISION).fetchone()[0]) + 1


def _migrate(conn: sqlite3.Connection) -> None:
    """Bring a database of an older version up to the change-log schema (in the caller's
    write transaction): add `revision` columns, and start the log at the current revision,
    since deletions before now left no tombstones."""
    if _has_column(conn, "store_meta", "log_from"):
        return
    conn.execute("ALTER TABLE store_meta ADD COLUMN log_from INTEGER NOT NULL DEFAULT 0")
    conn.execute("UPDATE store_meta SET log_from = revision")
    for table in schema.MIGRATED_TABLES:
        if not _has_column(conn, table, "revision"):
            conn.execute(f"ALTER TABLE {table} ADD COLUMN revision INTEGER NOT NULL DEFAULT 0")


def _has_column(conn: sqlite3.Connection, table: str, column: str) -> bool:
    return any(row[1] == column for row in conn.execute(f"PRAGMA table_info({table})"))


class SqliteStore(SqliteIdempotency, SqliteAccess, SqliteWebhooks, SqliteIncidents):
    """`CascadeStore` on one SQLite file (or ":memory:"); see the module docstring."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._unit = threading.local()  # .open: this thread runs an `atomic` unit
        with _store_errors():
            self._conn = _connect(path)
        # A second connection, only for the events half of `load_snapshot` (a file only:
        # a private in-memory database would be another, empty one).
        self._events_lock = threading.Lock()
        self._events_conn: sqlite3.Connection | None = None

    @contextmanager
    def _transaction(self, begin: str) -> Iterator[sqlite3.Connection]:
        if getattr(self._unit, "open", False):
            yield self._conn  # inside `atomic`: join its transaction (and its lock)
            return
        with self._lock, _store_errors():
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

    def _select(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with self._read() as conn:
            return conn.execute(sql, params).fetchall()

    # -- lifecycle ----------------------------------------------------------------------

    def init_schema(self) -> None:
        """Create what is missing, upgrading an older database in place (idempotent)."""
        with self._write() as conn:
            for statement in (*schema.TABLES, *IDEMPOTENCY_TABLES, *ACCESS_TABLES, *WEBHOOK_TABLES,
                              *INCIDENT_TABLES):
                conn.execute(statement)
            _migrate(conn)
            if not _has_column(conn, "companies", "sites"):  # a database before sites
                conn.execute("ALTER TABLE companies ADD COLUMN sites TEXT NOT NULL DEFAULT '[]'")
            if missing_key_columns(conn):
                fill_company_keys(conn)
            for statement in schema.INDEXES:
                conn.execute(statement)

    def close(self) -> None:
        with self._lock:
            self._conn.close()  # closing twice is a no-op
        with self._events_lock:
            if self._events_conn is not None:
                self._events_conn.close()

    def ping(self) -> bool:
        try:
            self._select(schema.SELECT_REVISION)
        except (StoreError, sqlite3.ProgrammingError):  # ProgrammingError: store closed
            return False
        return True

    def revision(self) -> int:
        return int(self._select(schema.SELECT_REVISION)[0][0])

    def clear_all(self) -> None:
        """Delete every record and reset the revision (tests start from an empty store)."""
        with self._write() as conn:
            for statement in (*schema.CLEAR_ALL, CLEAR_IDEMPOTENCY, *CLEAR_ACCESS, *CLEAR_WEBHOOKS,
                              *CLEAR_INCIDENTS):
                conn.execute(statement)

    # -- companies ----------------------------------------------------------------------

    def create_company(self, company: Company) -> None:
        with self._write() as conn:
            if _exists(conn, "companies", "id", company.id):
                raise AlreadyExists(f"company {company.id!r} already exists")
            row = (*schema.company_row(company), _next_revision(conn))
            conn.execute(schema.ADD_COMPANY_KEY, (company.id,))
            conn.execute(schema.UPSERT_COMPANY, row)
            conn.execute(schema.BUMP_REVISION)

    def upsert_companies(self, companies: Sequence[Company]) -> list[WriteOutcome]:
        rows = [schema.company_row(company) for company in companies]
        keys = list(dict.fromkeys(row[:1] for row in rows))
        with self._write() as conn:
            found = _matching(conn, "companies", "id", keys, schema.COMPANY_COLUMNS)
            stored: dict[Hashable, Row] = {row[0]: tuple(row) for row in found}
            outcomes, changed = _apply(stored, rows, key=lambda row: row[0], replace=True)
            if changed:
                revision = _next_revision(conn)
                # key order keeps B-tree writes local: about twice as fast on big batches
                conn.executemany(schema.ADD_COMPANY_KEY, [r[:1] for r in sorted(changed)])
                conn.executemany(schema.UPSERT_COMPANY, [(*r, revision) for r in sorted(changed)])
                conn.execute(schema.BUMP_REVISION)
        return outcomes

    def get_company(self, company_id: str) -> Company | None:
        rows = self._select(f"{schema.SELECT_COMPANIES} WHERE id = ?", (company_id,))
        return schema.company_from_row(rows[0]) if rows else None

    def list_companies(
        self,
        *,
        kind: str | None = None,
        country: str | None = None,
        q: str | None = None,
        limit: int = 100,
        after: str | None = None,
    ) -> list[Company]:
        needle = (q.lower(), q.lower()) if q else None
        where, params = _where(
            {
                "kind = ?": None if kind is None else str(kind),
                "country = ?": country,
                "id > ?": after,
                "(instr(unicode_lower(id), ?) OR instr(unicode_lower(name), ?))": needle,
            }
        )
        sql = f"{schema.SELECT_COMPANIES}{where} ORDER BY id LIMIT ?"
        return [schema.company_from_row(row) for row in self._select(sql, [*params, limit])]

    def existing_company_ids(self, ids: Iterable[str]) -> set[str]:
        keys = [(cid,) for cid in dict.fromkeys(ids)]
        with self._read() as conn:
            return {row[0] for row in _matching(conn, "companies", "id", keys, "id")}

    def delete_company(self, company_id: str, *, force: bool = False) -> bool:
        with self._write() as conn:
            if not _exists(conn, "companies", "id", company_id):
                return False
            if _exists(conn, "requests", "issuer_id", company_id):
                raise InUse(f"company {company_id!r} issued requests")
            if not force and conn.execute(schema.REFERENCED, (company_id,)).fetchone()[0]:
                raise InUse(f"company {company_id!r} has links, cascade events or answers")
            params = {"company": company_id, "revision": _next_revision(conn)}
            for statement in schema.FORCE_DELETE if force else ():
                conn.execute(statement, params)
            conn.execute("DELETE FROM companies WHERE id = :company", params)
            conn.execute(schema.COMPANY_TOMBSTONE, params)
            conn.execute(schema.BUMP_REVISION)
        return True

    # -- supply links -------------------------------------------------------------------

    def add_links(self, links: Sequence[SupplyLink]) -> list[WriteOutcome]:
        rows = [(link.buyer_id, link.supplier_id, link.category) for link in links]
        keys = list(dict.fromkeys(row[:2] for row in rows))
        with self._write() as conn:
            found = _matching(conn, "links", "buyer_id, supplier_id", keys, schema.LINK_COLUMNS)
            stored: dict[Hashable, Row] = {tuple(row[:2]): tuple(row) for row in found}
            outcomes, changed = _apply(stored, rows, key=lambda row: row[:2], replace=True)
            if changed:
                revision = _next_revision(conn)
                conn.executemany(schema.UPSERT_LINK, [(*r, revision) for r in sorted(changed)])
                conn.execute(schema.BUMP_REVISION)
        return outcomes

    def list_links(
        self,
        *,
        buyer_id: str | None = None,
        supplier_id: str | None = None,
        limit: int = 1000,
        after: tuple[str, str] | None = None,
    ) -> list[SupplyLink]:
        where, params = _where(
            {
                "buyer_id = ?": buyer_id,
                "supplier_id = ?": supplier_id,
                "(buyer_id, supplier_id) > (?, ?)": None if after is None else tuple(after),
            }
        )
        sql = f"{schema.SELECT_LINKS}{where} ORDER BY buyer_id, supplier_id LIMIT ?"
        rows = self._select(sql, [*params, limit])
        return [SupplyLink(buyer_id=b, supplier_id=s, category=c) for b, s, c in rows]

    def existing_links(self, pairs: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
        keys = list(dict.fromkeys((buyer, supplier) for buyer, supplier in pairs))
        with self._read() as conn:
            found = _matching(conn, "links", "buyer_id, supplier_id", keys, "buyer_id, supplier_id")
        return {(buyer, supplier) for buyer, supplier in found}

    def delete_link(self, buyer_id: str, supplier_id: str) -> bool:
        with self._write() as conn:
            sql = "DELETE FROM links WHERE buyer_id = ? AND supplier_id = ?"
            deleted = conn.execute(sql, (buyer_id, supplier_id)).rowcount > 0
            if deleted:
                tombstone = (buyer_id, supplier_id, _next_revision(conn))
                conn.execute(schema.LINK_TOMBSTONE, tombstone)
                conn.execute(schema.BUMP_REVISION)
        return deleted

    # -- requests -----------------------------------------------------------------------

    def create_request(self, request: PolicyRequest) -> None:
        with self._write() as conn:
            if _exists(conn, "requests", "id", request.id):
                raise AlreadyExists(f"request {request.id!r} already exists")
            row = (*schema.request_row(request), _next_revision(conn))
            conn.execute(schema.INSERT_REQUEST, row)
            conn.execute(schema.BUMP_REVISION)

    def get_request(self, request_id: str) -> PolicyRequest | None:
        rows = self._select(f"{schema.SELECT_REQUESTS} WHERE id = ?", (request_id,))
        return schema.request_from_row(rows[0]) if rows else None

    def list_requests(self) -> list[PolicyRequest]:
        """Every request, ordered by id."""
        rows = self._select(f"{schema.SELECT_REQUESTS} ORDER BY id")
        return [schema.request_from_row(row) for row in rows]

    # -- events -------------------------------------------------------------------------

    def add_cascades(self, events: Sequence[CascadeEvent]) -> list[WriteOutcome]:
        rows = [schema.cascade_row(event) for event in events]
        keys = list(dict.fromkeys(row[:3] for row in rows))
        with self._write() as conn:
            key_columns = "request_id, from_id, to_id"
            found = _matching(conn, "cascades", key_columns, keys, key_columns)
            stored: dict[Hashable, Row] = {tuple(row): tuple(row) for row in found}
            outcomes, fresh = _apply(stored, rows, key=lambda row: row[:3], replace=False)
            if fresh:
                revision = _next_revision(conn)
                conn.executemany(schema.INSERT_CASCADE, [(*r, revision) for r in sorted(fresh)])
                conn.execute(schema.BUMP_REVISION)
        return outcomes

    def list_cascades(
        self,
        *,
        request_id: str | None = None,
        from_id: str | None = None,
        to_id: str | None = None,
        limit: int = 1000,
    ) -> list[CascadeEvent]:
        """Cascade events in sending order (ties by request, from, to)."""
        where, params = _where(
            {"request_id = ?": request_id, "from_id = ?": from_id, "to_id = ?": to_id}
        )
        order = schema.CASCADES_IN_SENDING_ORDER
        sql = f"{schema.SELECT_CASCADES}{where} ORDER BY {order} LIMIT ?"
        return [schema.cascade_from_row(row) for row in self._select(sql, [*params, limit])]

    def add_acknowledgements(
        self, acks: Sequence[Acknowledgement]
    ) -> list[tuple[WriteOutcome, Acknowledgement]]:
        recorded_at = utc_now()
        rows = [schema.ack_row(ack, recorded_at) for ack in acks]
        keys = list(dict.fromkeys(row[:4] for row in rows))
        results: list[tuple[WriteOutcome, Acknowledgement]] = []
        fresh: list[Row] = []
        with self._write() as conn:
            identity, columns = schema.ACK_IDENTITY, schema.ACK_COLUMNS
            found = _matching(conn, "acknowledgements", identity, keys, columns)
            answers = {tuple(row[1:5]): schema.ack_from_row(row) for row in found}
            seq = int(conn.execute(schema.LAST_ACK_SEQ).fetchone()[0])
            for ack, row in zip(acks, rows, strict=True):
                if (known := answers.get(row[:4])) is not None:  # a retry: the stored one
                    results.append((WriteOutcome.unchanged, known))
                    continue
                seq += 1
                known = answers[row[:4]] = ack.model_copy(
                    update={"seq": seq, "recorded_at": recorded_at}
                )
                results.append((WriteOutcome.created, known))
                fresh.append((*row, seq))
            if fresh:
                revision = _next_revision(conn)
                conn.executemany(schema.INSERT_ACK, [(*row, revision) for row in fresh])
                conn.execute(schema.BUMP_REVISION)
        return results

    def list_acknowledgements(
        self,
        *,
        request_id: str | None = None,
        company_id: str | None = None,
        limit: int = 1000,
    ) -> list[Acknowledgement]:
        where, params = _where({"request_id = ?": request_id, "company_id = ?": company_id})
        sql = f"{schema.SELECT_ACKS}{where} ORDER BY {schema.ACKS_NEWEST_FIRST} LIMIT ?"
        return [schema.ack_from_row(row) for row in self._select(sql, [*params, limit])]

    # -- reads for the coverage engine ----------------------------------------------------

    def load_network(self) -> Network:
        with self._read() as conn:
            kinds = dict(conn.execute(schema.NETWORK_KINDS).fetchall())
            links = conn.execute(schema.NETWORK_LINKS).fetchall()
            revision = int(conn.execute(schema.SELECT_REVISION).fetchone()[0])
        return Network(kinds=kinds, links=links, revision=revision)

    def request_events(self, request_id: str) -> RequestEvents:
        """Cascade events (sending order) and answers (seq order) of one request."""
        with self._read() as conn:
            cascades = conn.execute(schema.REQUEST_CASCADE_ROWS, (request_id,)).fetchall()
            acks = conn.execute(schema.REQUEST_ACK_ROWS, (request_id,)).fetchall()
        return RequestEvents(cascades=cascades, acknowledgements=acks)

    def load_snapshot(self, request_ids: Sequence[str]) -> Snapshot:
        """See `CascadeStore.load_snapshot`: integer columns (`sqlite_snapshot`), the
        events read on a second connection while this one reads the network."""
        try:
            return self._snapshot(request_ids)
        except MissingKeys:  # rows an older version wrote since the upgrade: key them
            with self._write() as conn:
                fill_company_keys(conn)
            return self._snapshot(request_ids)

    def _snapshot(self, request_ids: Sequence[str]) -> Snapshot:
        if getattr(self._unit, "open", False) or self.path in ("", ":memory:") \
                or "mode=memory" in self.path or not request_ids:
            with self._read() as conn:
                return snapshot(conn, None, request_ids)
        with self._events_read() as events_conn, self._read() as conn:
            return snapshot(conn, events_conn, request_ids)

    @contextmanager
    def _events_read(self) -> Iterator[sqlite3.Connection]:
        """A read transaction on the second connection (opened on first use)."""
        with self._events_lock, _store_errors():
            if self._events_conn is None:
                self._events_conn = _connect(self.path)
                self._events_conn.execute("PRAGMA cache_size = -8192")  # one pass: little
            conn = self._events_conn
            conn.execute("BEGIN DEFERRED")
            try:
                yield conn
            finally:
                conn.execute("ROLLBACK")  # read only: nothing to keep

    def changes_since(self, revision: int, *, limit: int = 50_000) -> ChangeSet | None:
        """See `CascadeStore.changes_since`; one snapshot, so exactly the changes up to
        `ChangeSet.revision`."""
        changed: list[list[Row]] = []
        with self._read() as conn:
            current, log_from = conn.execute(schema.SELECT_LOG).fetchone()
            if not log_from <= revision <= current:
                return None
            left = limit
            for sql in schema.CHANGE_LOG:
                rows = conn.execute(sql, {"since": revision, "limit": left + 1}).fetchall()
                left -= len(rows)
                if left < 0:
                    return None
                changed.append(rows)
        return assemble_changes(int(current), *changed)
