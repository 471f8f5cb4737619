"""The Neo4j store: the production system of record behind the `CascadeStore` port.

Graph shape (all Cypher lives in `service.store.neo4j_queries`):

- ``(:Company {id, key, name, country, kind, identifiers_json, tags})``, unique ``id`` and
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
  it travelled over, and MERGE on a constrained node key is the race-free "insert once"
  that relationships lack in Community.
- ``(:Acknowledgement {identity, request_id, company_id, status, at, evidence_json, seq,
  recorded_at, posted_by, company_key, at_us})``: append-only answer history, unique
  ``seq`` and unique ``identity`` (the JSON of [request, company, status, at]: what makes
  a retry a retry).
- For the coverage engine's cold read (`load_snapshot`), events also hold their
  companies' keys and their time as epoch µs, and composite indexes hold those with the
  request id (``cascade_cold_read``, ``ack_cold_read``), as a relationship index holds
  link categories (``link_category``): the read takes every value from an index, not
  from records, and no string per event or link travels. Derived values, set when an
  event is written and by `init_schema` (and on read) for events an older version wrote.
- ``(:StoreRevision {id: 'main', value, ack_seq, log_from})``: the store revision, the
  last acknowledgement seq handed out, and the revision the change log starts at.
- The change log: companies, links, requests, cascade events and answers carry an indexed
  ``revision`` property, the revision of the write that last changed them (missing = 0,
  written before the log existed); deletions leave ``(:Tombstone {id, entity, key, key2,
  revision})`` nodes, one per deleted key (see `neo4j_queries.ADD_TOMBSTONES`).

Timestamps are Neo4j ``DateTime`` values in UTC, so Cypher orders them as instants;
queries return them as epoch microseconds, which the driver decodes much faster.

Transactions: every write method is one managed transaction (`execute_write`) whose
function first locks the `StoreRevision` node, so writers are serialised like SQLite's
``BEGIN IMMEDIATE``, outcomes computed from reads in the transaction are exact, and the
revision (bumped only when something changed) and ack seq values follow commit order;
each writer stamps its rows with the revision it commits as.
Batches are written ~1,000 rows per ``UNWIND``, several UNWINDs inside ONE transaction, so
a call of any size stays atomic (a 300k-link import is one transaction; Neo4j holds its
state in memory, so size `db.memory.transaction.max` and the heap accordingly).

Record <-> model conversion lives in `neo4j_codecs`, the transaction functions in
`neo4j_tx`, the coverage engine's cold read in `neo4j_snapshot`; this module holds the
connection and the port methods.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

from neo4j import READ_ACCESS, Driver, GraphDatabase, ManagedTransaction, Session
from neo4j.exceptions import (
    AuthError,
    DriverError,
    IncompleteCommit,
    Neo4jError,
    ServiceUnavailable,
    SessionExpired,
    TransientError,
)
from tenacity import Retrying, retry_if_exception, stop_after_delay, wait_random

from graph_models.models import (
    Acknowledgement,
    CascadeEvent,
    Company,
    PolicyRequest,
    SupplyLink,
)
from service.store import neo4j_queries as cypher
from service.store.neo4j_access import Neo4jAccess
from service.store.neo4j_codecs import (
    ack_from,
    cascade_from,
    company_from,
    request_from,
)
from service.store.neo4j_idempotency import Neo4jIdempotency
from service.store.neo4j_incident_queries import INCIDENT_SCHEMA
from service.store.neo4j_incidents import Neo4jIncidents
from service.store.neo4j_snapshot import Neo4jSnapshots
from service.store.neo4j_tx import (
    KEYS_BATCH,
    add_acks_tx,
    add_cascades_tx,
    add_links_tx,
    changes_since_tx,
    create_company_tx,
    create_request_tx,
    delete_company_tx,
    delete_link_tx,
    fetch,
    key_companies_tx,
    load_network_tx,
    read_records,
    read_revision,
    request_events_tx,
    start_log,
    upsert_companies_tx,
)
from service.store.neo4j_webhooks import Neo4jWebhooks
from service.store.port import (
    ChangeSet,
    CommitOutcomeUnknown,
    Network,
    RequestEvents,
    StoreError,
    StoreUnavailable,
    TransactionTooLarge,
    WriteOutcome,
)

__all__ = ["Neo4jStore"]


_T = TypeVar("_T")


def _is_transient(exc: BaseException) -> bool:
    return isinstance(exc, Neo4jError | DriverError) and exc.is_retryable()


MEMORY_REFUSAL = "Neo.TransientError.General.MemoryPoolOutOfMemoryError"


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


class Neo4jStore(Neo4jIdempotency, Neo4jAccess, Neo4jWebhooks, Neo4jSnapshots, Neo4jIncidents):
    """`CascadeStore` on a Neo4j database; see the module docstring for the graph shape."""

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
        # The cold read's second reader: the links, then the events (`neo4j_snapshot`).
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
            # And the cold read uses the deprecated `id()` on purpose (see `neo4j_tx.
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
                with self._session() as session:
                    session.run(cypher.PING).consume()
                return
            except AuthError:
                raise StoreUnavailable(
                    f"neo4j at {self.uri}: authentication refused (check user and password)"
                ) from None
            except Neo4jError as exc:
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
        return self._driver.session(database=self.database)

    def _read_session(self) -> Session:
        return self._driver.session(database=self.database, default_access_mode=READ_ACCESS)

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

    # -- lifecycle ----------------------------------------------------------------------

    def init_schema(self) -> None:
        """Create constraints and indexes (idempotent), wait for them, seed the revision;
        a database of an older version starts its change log here."""
        with _unavailable_as_store_error(), self._session() as session:
            for statement in (*cypher.SCHEMA, *cypher.IDEMPOTENCY_SCHEMA, *cypher.ACCESS_SCHEMA,
                              *cypher.WEBHOOK_SCHEMA, *INCIDENT_SCHEMA):
                session.run(statement).consume()  # schema changes need their own transaction
            session.run(cypher.AWAIT_INDEXES, seconds=300).consume()
            session.execute_write(start_log)
        self._key_events()

    def _key_companies(self) -> None:
        """Give every company without a key one, a batch per transaction: the upgrade of
        a database written before the keys (and what an older worker wrote since)."""
        unkeyed = self._read(read_records, cypher.UNKEYED_COMPANIES, {})[0]["unkeyed"]
        while unkeyed and self._write(key_companies_tx) == KEYS_BATCH:
            pass

    def _key_events(self) -> None:
        """Give cascade events and answers without them their companies' keys and their
        times as epoch µs (the upgrade of a database written before these, and what an
        older worker wrote since); each query commits in batches of its own."""
        self._key_companies()
        with _unavailable_as_store_error(), self._session() as session:
            for query in (cypher.FILL_CASCADE_KEYS, cypher.FILL_ACK_KEYS):
                # Not a managed transaction (it commits its own batches), so the driver
                # does not retry it: a batch that hit a transient error (two workers
                # starting at once deadlocking on the same events) is run again here.
                # Only what is still unkeyed matches, so a retry redoes nothing.
                for attempt in Retrying(retry=retry_if_exception(_is_transient),
                                        stop=stop_after_delay(self._retry_time),
                                        wait=wait_random(0.05, 0.5), reraise=True):
                    with attempt:
                        session.run(query).consume()

    def close(self) -> None:
        self._snapshot_pool.shutdown()  # a snapshot's events still being read finish first
        self._driver.close()

    def ping(self) -> bool:
        """Whether the database answers; False (never an error) when it does not."""
        # Two tries: after a server restart the first try may draw a pooled connection
        # that died with the old server; its failure purges the pool.
        for _ in range(2):
            try:
                with self._session() as session:
                    session.run(cypher.PING).consume()
                return True
            except (DriverError, Neo4jError, OSError):
                continue
        return False

    def revision(self) -> int:
        return self._read(read_revision)

    def clear_all(self) -> None:
        """Tests only: delete every node and relationship (the schema stays)."""

        def delete_batch(tx: ManagedTransaction) -> int:
            return int(tx.run(cypher.DELETE_ALL_BATCH, batch=10_000).single(strict=True)[0])

        while self._write(delete_batch):
            pass

    # -- companies ----------------------------------------------------------------------

    def create_company(self, company: Company) -> None:
        self._write(create_company_tx, company)

    def upsert_companies(self, companies: Sequence[Company]) -> list[WriteOutcome]:
        return self._write(upsert_companies_tx, companies) if companies else []

    def get_company(self, company_id: str) -> Company | None:
        records = self._read(fetch, cypher.GET_COMPANIES, "ids", [company_id])
        return company_from(records[0]) if records else None

    def list_companies(
        self,
        *,
        kind: str | None = None,
        country: str | None = None,
        q: str | None = None,
        limit: int = 100,
        after: str | None = None,
    ) -> list[Company]:
        params = {
            "kind": None if kind is None else str(kind),
            "country": country,
            "q": q.lower() if q else None,
            "after": after or "",
            "limit": limit,
        }
        return [company_from(r) for r in self._read(read_records, cypher.LIST_COMPANIES, params)]

    def existing_company_ids(self, ids: Iterable[str]) -> set[str]:
        unique = list(dict.fromkeys(ids))
        records = self._read(fetch, cypher.EXISTING_COMPANY_IDS, "ids", unique) if unique else []
        return {r["id"] for r in records}

    def delete_company(self, company_id: str, *, force: bool = False) -> bool:
        return self._write(delete_company_tx, company_id, force)

    # -- supply links -------------------------------------------------------------------

    def add_links(self, links: Sequence[SupplyLink]) -> list[WriteOutcome]:
        if any(link.buyer_id == link.supplier_id for link in links):
            raise StoreError("a company cannot supply itself")
        return self._write(add_links_tx, links) if links else []

    def list_links(
        self,
        *,
        buyer_id: str | None = None,
        supplier_id: str | None = None,
        limit: int = 1000,
        after: tuple[str, str] | None = None,
    ) -> list[SupplyLink]:
        after_buyer, after_supplier = after or ("", "")
        params = {
            "buyer_id": buyer_id,
            "supplier_id": supplier_id,
            "after_buyer": after_buyer,
            "after_supplier": after_supplier,
            "limit": limit,
        }
        if buyer_id is not None:
            query = cypher.LIST_LINKS_OF_BUYER
        elif supplier_id is not None:
            query = cypher.LIST_LINKS_OF_SUPPLIER
        else:
            query = cypher.LIST_LINKS
        records = self._read(read_records, query, params)
        return [SupplyLink(**dict(r)) for r in records]

    def existing_links(self, pairs: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
        unique = [list(pair) for pair in dict.fromkeys(tuple(p) for p in pairs)]
        records = self._read(fetch, cypher.EXISTING_LINKS, "pairs", unique) if unique else []
        return {(r["buyer_id"], r["supplier_id"]) for r in records}

    def delete_link(self, buyer_id: str, supplier_id: str) -> bool:
        return self._write(delete_link_tx, buyer_id, supplier_id)

    # -- requests -----------------------------------------------------------------------

    def create_request(self, request: PolicyRequest) -> None:
        self._write(create_request_tx, request)

    def get_request(self, request_id: str) -> PolicyRequest | None:
        records = self._read(read_records, cypher.GET_REQUEST, {"id": request_id})
        return request_from(records[0]) if records else None

    def list_requests(self) -> list[PolicyRequest]:
        """Every request, ordered by id."""
        return [request_from(r) for r in self._read(read_records, cypher.LIST_REQUESTS, {})]

    # -- events -------------------------------------------------------------------------

    def add_cascades(self, events: Sequence[CascadeEvent]) -> list[WriteOutcome]:
        return self._write(add_cascades_tx, events) if events else []

    def list_cascades(
        self,
        *,
        request_id: str | None = None,
        from_id: str | None = None,
        to_id: str | None = None,
        limit: int = 1000,
    ) -> list[CascadeEvent]:
        """Cascade events in the order they were sent (then by request, from, to)."""
        if request_id is not None:
            query = cypher.LIST_CASCADES_OF_REQUEST
        elif from_id is not None:
            query = cypher.LIST_CASCADES_FROM
        elif to_id is not None:
            query = cypher.LIST_CASCADES_TO
        else:
            query = cypher.LIST_CASCADES
        params = {"request_id": request_id, "from_id": from_id, "to_id": to_id, "limit": limit}
        return [cascade_from(r) for r in self._read(read_records, query, params)]

    def add_acknowledgements(
        self, acks: Sequence[Acknowledgement]
    ) -> list[tuple[WriteOutcome, Acknowledgement]]:
        return self._write(add_acks_tx, acks) if acks else []

    def list_acknowledgements(
        self,
        *,
        request_id: str | None = None,
        company_id: str | None = None,
        limit: int = 1000,
    ) -> list[Acknowledgement]:
        """History, newest first (by `at`, then by recording order)."""
        if request_id is not None:
            query = cypher.LIST_ACKS_OF_REQUEST
        elif company_id is not None:
            query = cypher.LIST_ACKS_OF_COMPANY
        else:
            query = cypher.LIST_ACKS
        params = {"request_id": request_id, "company_id": company_id, "limit": limit}
        return [ack_from(r) for r in self._read(read_records, query, params)]

    # -- reads for the coverage engine ----------------------------------------------------

    def load_network(self) -> Network:
        """Companies' kinds, every link and the revision, from one read transaction."""
        while (network := self._read(load_network_tx)) is None:
            self._key_companies()
        return network

    def request_events(self, request_id: str) -> RequestEvents:
        """All cascade events (in sending order) and answers (in recording order)."""
        return self._read(request_events_tx, request_id)

    def changes_since(self, revision: int, *, limit: int = 50_000) -> ChangeSet | None:
        """See `CascadeStore.changes_since` (read-committed: may include later writes)."""
        return self._read(changes_since_tx, revision, limit)
