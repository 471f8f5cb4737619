"""The Neo4j store: the production system of record behind the role ports.

Graph shape (all Cypher lives in `service.store.neo4j.queries`):

- ``(:Company {id, key, name, country, kind, identifiers_json, tags, sites_json, sited})``
  (``country`` '' for none; ``sited``: it has sites, for the locations read), unique ``id`` and
  unique integer ``key``: handed out once under the revision lock (the last one is kept on
  the revision node) and never reused, so the cold read returns links as integers.
- ``(buyer:Company)-[:SUPPLIED_BY {category}]->(supplier:Company)``: a supply link is a
  relationship, in the direction requests travel (buyer -> supplier), so `load_network`
  is one relationship scan and the graph can be explored as-is in Neo4j Browser.
- ``(:Request {id, topic, ..., issuer_id, issued_at, applies_to_json})``, unique ``id``.
  The issuer is the indexed ``issuer_id`` property rather than a relationship: the only
  question asked of it is "did this company issue anything?" (the delete rule).
- ``(:Cascade {key, request_id, from_id, to_id, sent_at, from_key, to_key, sent_us})``:
  cascade events are nodes with a unique ``key`` (the JSON of [request, from, to]), not
  relationships. An event is keyed by three values, survives a later change of the link
  it travelled over, and a unique constraint on a node key guards "insert once", which
  relationships lack in Community (a new link is CREATEd only after the writer found
  none under the revision lock).
- ``(:Acknowledgement {identity, request_id, company_id, status, at, evidence_json, seq,
  recorded_at, posted_by, company_key, at_us})``: append-only answer history, unique
  ``seq`` and unique ``identity`` (the JSON of [request, company, status, at]: what makes
  a retry a retry).
- For the coverage engine's cold read (`load_snapshot`), events also hold their
  companies' keys and their time as epoch µs, and composite indexes hold those with the
  request id (``cascade_cold_read``, ``ack_cold_read``), as a relationship index holds
  link categories (``link_category``): the read takes every value from an index, not
  from records, and no string per event or link travels. Derived values, set when an
  event is written and by `init_schema` (migration steps 3 and 4) for what an older
  version wrote; the cold read reads by id where an older worker left them out.
- ``(:StoreRevision {id: 'main', value, ack_seq, log_from})``: the store revision, the
  last acknowledgement seq handed out, and the revision the change log starts at.
- The change log: companies, links, requests, cascade events and answers carry an indexed
  ``revision`` property, the revision of the write that last changed them (missing = 0,
  written before the log existed); deletions leave ``(:Tombstone {id, entity, key, key2,
  revision})`` nodes, one per deleted key (see `queries.revision.ADD_TOMBSTONES`).
- ``(:SchemaVersion {id: 'main', version})``: the last migration step run (`migrations`).

Timestamps are Neo4j ``DateTime`` values in UTC, so Cypher orders them as instants;
queries return them as epoch microseconds, which the driver decodes much faster.

Transactions: every write method is one managed transaction (`execute_write`) whose
function first locks the `StoreRevision` node, so writers are serialised like SQLite's
``BEGIN IMMEDIATE``, outcomes computed from reads in the transaction are exact, and the
revision (bumped only when something changed) and ack seq values follow commit order;
each writer stamps its rows with the revision it commits as (`load_new`, a whole network
into an empty store, takes the lock only to start and to end: see `bulk`). Taking the
lock shares a round trip with the first read where it can, and bumping the revision with
the last write (`queries.revision`): a POSTed answer is one transaction of seven round
trips (BEGIN, the request and company checks, lock and stored answers, the write and
bump, the webhook outbox, COMMIT).
Reads run in read transactions (`execute_read`, or read sessions for the cold read), which
a cluster reached through ``neo4j://`` may serve from a secondary; writes go to the leader.
Every session shares the driver's one bookmark manager, so each transaction starts where
this process's last one ended: a read follows this process's writes and never goes back
in time (causal consistency); `catch_up` adds another process's bookmarks to that chain
(docs/scaling.md). A read of one query (the revision, the change log) runs as an
auto-commit transaction (`_read_once`): one round trip instead of three, so a poll after
a write costs two.
Batches are written ~1,000 rows per ``UNWIND``, several UNWINDs inside ONE transaction, so
a call of any size stays atomic (a 300k-link import is one transaction; Neo4j holds its
state in memory, so size `db.memory.transaction.max` and the heap accordingly).

Parts, mirrored by the `queries` modules: `graph` (companies, links), `ledger` (requests,
events, answers), `bulk` (a whole network into an empty store, in parallel transactions),
`changelog` (the engine's reads), `snapshot` (the cold read),
`idempotency`, `access`, `webhooks`, `migrations` (the numbered schema steps); `codecs`
converts records and models, `tx` holds what the transaction functions share. This module
holds the connection and the administration methods.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

from neo4j import READ_ACCESS, Bookmarks, Driver, GraphDatabase, ManagedTransaction, Session
from neo4j.exceptions import (
    AuthError,
    ClientError,
    DriverError,
    IncompleteCommit,
    Neo4jError,
    ServiceUnavailable,
    SessionExpired,
    TransientError,
)

from service.store.errors import (
    CommitOutcomeUnknown,
    InvalidBookmark,
    StoreMissing,
    StoreUnavailable,
    TransactionTooLarge,
)
from service.store.neo4j import migrations
from service.store.neo4j import queries as cypher
from service.store.neo4j.access import Neo4jAccess
from service.store.neo4j.bulk import Neo4jBulkLoad
from service.store.neo4j.changelog import Neo4jChangeLog
from service.store.neo4j.graph import Neo4jGraph
from service.store.neo4j.idempotency import Neo4jIdempotency
from service.store.neo4j.incidents import Neo4jIncidents
from service.store.neo4j.ledger import Neo4jLedger
from service.store.neo4j.snapshot import Neo4jSnapshots
from service.store.neo4j.tx import read_revision
from service.store.neo4j.webhooks import Neo4jWebhooks

__all__ = ["Neo4jStore"]


_T = TypeVar("_T")


MEMORY_REFUSAL = "Neo.TransientError.General.MemoryPoolOutOfMemoryError"
DATABASE_NOT_FOUND = "Neo.ClientError.Database.DatabaseNotFound"
INVALID_BOOKMARK = "Neo.ClientError.Transaction.InvalidBookmark"  # ...Mixture too


def _over_transaction_cap(exc: Exception) -> bool:
    """Whether the server refused a transaction for outgrowing `db.memory.transaction.max`
    (the same next time). Not the cap on all transactions together (`dbms.memory.
    transaction.total.max`): that one may pass once other transactions end."""
    return (getattr(exc, "code", None) == MEMORY_REFUSAL
            and "db.memory.transaction.max " in str(getattr(exc, "message", "")))


@contextmanager
def _unavailable_as_store_error() -> Iterator[None]:
    """What the driver could not settle within its retry time becomes a 503 to retry:
    the database unreachable, a transient error that persisted, or a commit whose outcome
    was lost with the connection (IncompleteCommit is never retried by the driver)."""
    try:
        yield
    except IncompleteCommit as exc:
        raise CommitOutcomeUnknown(
            "neo4j: the connection dropped while the write committed, so it may or may not "
            "be stored; retry with the same Idempotency-Key to settle it"
        ) from exc
    except (ServiceUnavailable, SessionExpired, TransientError) as exc:
        if _over_transaction_cap(exc):  # e.g. at commit
            raise TransactionTooLarge(f"neo4j: {exc}") from exc
        raise StoreUnavailable(f"neo4j: {exc}") from exc


@contextmanager
def _memory_refusal_as_too_large() -> Iterator[None]:
    """A unit of work over the transaction memory cap fails the same way every time: raise
    it as `TransactionTooLarge`, which (not being a driver error) the driver does not retry."""
    try:
        yield
    except Neo4jError as exc:
        if _over_transaction_cap(exc):
            raise TransactionTooLarge(f"neo4j: {exc.message}") from exc
        raise


class Neo4jStore(Neo4jGraph, Neo4jLedger, Neo4jBulkLoad, Neo4jChangeLog, Neo4jSnapshots,
                 Neo4jIdempotency, Neo4jAccess, Neo4jWebhooks, Neo4jIncidents):
    """Every role port on a Neo4j database; see the module docstring for the graph shape."""

    def __init__(
        self,
        uri: str,
        *,
        user: str | None = None,
        password: str | None = None,
        database: str = "neo4j",
        connect_timeout: float = 30.0,
        retry_time: float = 5.0,
    ) -> None:
        self.uri = uri
        self.database = database
        self._retry_time = retry_time
        self._unit = threading.local()  # .tx: the transaction of this thread's `atomic` unit
        self._bookmarks = GraphDatabase.bookmark_manager()  # chains every session (causal)
        self._one_server = uri.startswith("bolt")  # neo4j:// may route to a cluster
        # The cold read's other readers: the companies and half the links, then the events.
        self._snapshot_pool = ThreadPoolExecutor(2, thread_name_prefix="neo4j-snapshot")
        auth = (user, password or "") if user else None
        self._driver: Driver = GraphDatabase.driver(
            uri,
            auth=auth,
            connection_timeout=max(1.0, min(connect_timeout, 10.0)),
            # Managed transactions retry transient errors (leader switch, deadlock, a
            # server restarting) for at most this long: bounded for a web request, after
            # which the client gets a 503 with Retry-After and retries itself.
            max_transaction_retry_time=retry_time,
            # Optional properties (country, supersedes ...) may not exist yet in a fresh
            # database; the server's "unknown property" notice would be logged per query.
            # And the cold read uses the deprecated `id()` on purpose (see `changelog.
            # company_columns`): `elementId()` strings cost far more to send and parse.
            notifications_disabled_classifications=["UNRECOGNIZED", "DEPRECATION"],
        )
        try:
            self._wait_until_ready(connect_timeout)
        except BaseException:
            self._driver.close()
            raise

    def _wait_until_ready(self, timeout: float) -> None:
        """Retry connecting briefly (a database starting next to us); then fail clearly."""
        deadline = time.monotonic() + timeout
        pause = 0.2
        while True:
            try:
                self._driver.verify_connectivity()
                with self._read_session() as session:
                    session.run(cypher.PING).consume()
                return
            except AuthError:
                raise StoreUnavailable(
                    f"neo4j at {self.uri}: authentication refused (check user and password)"
                ) from None
            except Neo4jError as exc:
                if exc.code == DATABASE_NOT_FOUND:
                    raise StoreMissing(
                        f"no store at {self.uri} (database {self.database!r} does not exist "
                        f"there): create it with `CREATE DATABASE {self.database}` (Neo4j "
                        "Enterprise; Community has only `neo4j`), or set "
                        "CASCADE_NEO4J_DATABASE to one that exists") from None
                if not exc.is_retryable() or time.monotonic() + pause > deadline:
                    raise StoreUnavailable(
                        f"neo4j at {self.uri}, database {self.database!r}: {exc.message}"
                    ) from None
            except (DriverError, OSError) as exc:
                if time.monotonic() + pause > deadline:
                    raise StoreUnavailable(
                        f"neo4j at {self.uri} is not reachable after {timeout:g}s: {exc}"
                    ) from None
            time.sleep(pause)
            pause = min(pause * 2, 2.0)

    def _session(self) -> Session:
        return self._driver.session(database=self.database, bookmark_manager=self._bookmarks)

    def _read_session(self) -> Session:
        return self._driver.session(database=self.database, default_access_mode=READ_ACCESS,
                                    bookmark_manager=self._bookmarks)

    def _write(self, work: Callable[..., _T], *args: Any) -> _T:
        tx = getattr(self._unit, "tx", None)
        if tx is not None:
            with _memory_refusal_as_too_large():
                return work(tx, *args)  # inside `atomic`: join its transaction
        with _unavailable_as_store_error(), self._session() as session:
            return session.execute_write(work, *args)

    def _read(self, work: Callable[..., _T], *args: Any) -> _T:
        tx = getattr(self._unit, "tx", None)
        if tx is not None:
            with _memory_refusal_as_too_large():
                return work(tx, *args)  # reads inside `atomic` see its own writes
        with _unavailable_as_store_error(), self._session() as session:
            return session.execute_read(work, *args)

    def _read_once(self, work: Callable[..., _T], *args: Any) -> _T:
        """`work`, a read of ONE query, as an auto-commit transaction: one round trip where
        a managed read takes three (BEGIN, the query, COMMIT), on the same bookmark chain.
        The driver does not retry these: transient failures are retried here, as long as
        it would retry a managed read."""
        tx = getattr(self._unit, "tx", None)
        if tx is not None:
            return work(tx, *args)  # inside `atomic`: see its own writes
        deadline = time.monotonic() + self._retry_time
        with _unavailable_as_store_error():
            while True:
                try:
                    with self._read_session() as session:
                        return work(session, *args)
                except (ServiceUnavailable, SessionExpired, TransientError):
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)

    def atomic(self, work: Callable[[], _T]) -> _T:
        """Run `work` in one managed write transaction that every store call joins; the
        driver re-runs the whole unit on a transient error."""
        if getattr(self._unit, "tx", None) is not None:
            return work()

        def unit(tx: ManagedTransaction) -> _T:
            self._unit.tx = tx
            try:
                return work()
            finally:
                self._unit.tx = None

        with _unavailable_as_store_error(), self._session() as session:
            return session.execute_write(unit)

    # -- causal reads across replicas ---------------------------------------------------

    def bookmarks(self) -> tuple[str, ...]:
        """The bookmarks of this process's last transactions: a reader holding them sees
        everything this process wrote so far."""
        return tuple(sorted(self._bookmarks.get_bookmarks()))

    def catch_up(self, bookmarks: Sequence[str]) -> None:
        """One read transaction that the server starts only once it has applied
        `bookmarks` (a secondary waits to replicate them); its own bookmark joins this
        process's, so every later transaction here starts at least there."""
        if not bookmarks:
            return
        given = Bookmarks.from_raw_values(bookmarks)
        try:
            with _unavailable_as_store_error(), self._driver.session(
                    database=self.database, default_access_mode=READ_ACCESS,
                    bookmarks=given, bookmark_manager=self._bookmarks) as session:
                session.execute_read(read_revision)
        except ClientError as exc:
            if str(exc.code).startswith(INVALID_BOOKMARK):
                raise InvalidBookmark(f"neo4j: {exc.message}") from None
            raise

    # -- administration ---------------------------------------------------------------------

    def init_schema(self) -> None:
        """Run the migration steps this database has not run yet (`migrations`); each step
        is idempotent, so workers starting together do no harm."""
        with _unavailable_as_store_error():
            migrations.upgrade(self)

    def schema_version(self) -> int:
        return migrations.schema_version(self)

    def close(self) -> None:
        self._snapshot_pool.shutdown()  # a snapshot's events still being read finish first
        self._driver.close()

    def ping(self) -> bool:
        """Whether the database answers; False (never an error) when it does not."""
        # Two tries: after a server restart the first try may draw a pooled connection
        # that died with the old server; its failure purges the pool.
        for _ in range(2):
            try:
                with self._read_session() as session:
                    session.run(cypher.PING).consume()
                return True
            except (DriverError, Neo4jError, OSError):
                continue
        return False

    def clear_all(self) -> None:
        """Delete every node and relationship, the schema version too (the constraints stay;
        `init_schema` then re-runs its idempotent steps)."""

        def delete_batch(tx: ManagedTransaction) -> int:
            for query in (cypher.DELETE_LINKS_BATCH, cypher.DELETE_ALL_BATCH):
                if deleted := int(tx.run(query, batch=10_000).single(strict=True)[0]):
                    return deleted
            return 0

        while self._write(delete_batch):
            pass
