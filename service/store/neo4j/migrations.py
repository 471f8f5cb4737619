"""The Neo4j store's migration steps (see `service.store.migrations`), run by
`Neo4jStore.init_schema`; the version is the `(:SchemaVersion {id: 'main', version})` node.

1. constraints and indexes (`CREATE ... IF NOT EXISTS`), waited for until online;
2. change log: seed the revision node; a database written before the log starts it now;
3. company keys: every company without its integer key gets one (batches of KEYS_BATCH);
4. event keys: cascade events and answers get their companies' keys and their times as
   epoch µs (the cold read's index values), in batches the server commits;
5. incidents: the incident id constraint;
6. company locations: the `company_location` index, and companies without a country or
   `sited` get them ('' and whether they have sites), in batches the server commits.

Steps 3, 4 and 6 also fill what older workers wrote before the upgrade; rows such a worker
writes afterwards are read by id by the cold read (reads never write). One exception: a
company such a worker gives sites keeps a false `sited`, so a locations read of every
company misses those sites until a current worker writes the company again (a worker
already running reads a changed company's record); upgrade every worker before
companies get sites.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from neo4j import ManagedTransaction, Session
from neo4j.exceptions import DriverError, Neo4jError
from tenacity import Retrying, retry_if_exception, stop_after_delay, wait_random

from service.store.migrations import Step, pending
from service.store.neo4j import queries as cypher
from service.store.neo4j.queries.incidents import (
    FILL_LOCATIONS,
    INCIDENT_SCHEMA,
    LOCATION_SCHEMA,
)
from service.store.neo4j.tx import lock_revision, read_records

__all__ = ["KEYS_BATCH", "STEPS", "Migrating", "schema_version", "upgrade"]

KEYS_BATCH = 50_000  # companies keyed per transaction by `key_companies_tx`
_T = TypeVar("_T")


class Migrating(Protocol):
    """What the steps need of `Neo4jStore`: sessions, transactions and its retry time."""

    _retry_time: float

    def _session(self) -> Session: ...
    def _write(self, work: Callable[..., _T], *args: Any) -> _T: ...
    def _read(self, work: Callable[..., _T], *args: Any) -> _T: ...


def _is_transient(exc: BaseException) -> bool:
    return isinstance(exc, Neo4jError | DriverError) and exc.is_retryable()


def define(store: Migrating, *statements: str) -> None:
    """Run each schema statement (`IF NOT EXISTS`), then wait until every index is online."""
    with store._session() as session:
        for statement in statements:
            session.run(statement).consume()  # schema changes need their own transaction
        session.run(cypher.AWAIT_INDEXES, seconds=300).consume()


def create_constraints(store: Migrating) -> None:
    define(store, *cypher.SCHEMA, *cypher.IDEMPOTENCY_SCHEMA, *cypher.ACCESS_SCHEMA,
           *cypher.WEBHOOK_SCHEMA)


def start_log(tx: ManagedTransaction) -> None:
    """Seed the revision node; an older database's change log starts now."""
    lock_revision(tx)
    tx.run(cypher.START_LOG).consume()


def key_companies_tx(tx: ManagedTransaction) -> int:
    """Give up to KEYS_BATCH companies without a key theirs; how many (no revision bump:
    keys are not data)."""
    last = int(lock_revision(tx)["company_key"])
    keyed = int(tx.run(cypher.COMPANY_KEYS, after=last, batch=KEYS_BATCH).single(strict=True)[0])
    if keyed:
        tx.run(cypher.SET_COMPANY_KEY, last_key=last + keyed).consume()
    return keyed


def start_change_log(store: Migrating) -> None:
    store._write(start_log)


def key_companies(store: Migrating) -> None:
    """Give every company without a key one, a batch per transaction."""
    unkeyed = store._read(read_records, cypher.UNKEYED_COMPANIES, {})[0]["unkeyed"]
    while unkeyed and store._write(key_companies_tx) == KEYS_BATCH:
        pass


def key_events(store: Migrating) -> None:
    """Give cascade events and answers without them their companies' keys and their times
    as epoch µs; each query commits in batches of its own."""
    fill(store, cypher.FILL_CASCADE_KEYS, cypher.FILL_ACK_KEYS)


def fill(store: Migrating, *queries: str) -> None:
    """Run each fill query, which commits in batches of its own."""
    with store._session() as session:
        for query in queries:
            # Not a managed transaction (it commits its own batches), so the driver
            # does not retry it: a batch that hit a transient error (two workers
            # starting at once deadlocking on the same rows) is run again here.
            # Only what is still unfilled matches, so a retry redoes nothing.
            for attempt in Retrying(retry=retry_if_exception(_is_transient),
                                    stop=stop_after_delay(store._retry_time),
                                    wait=wait_random(0.05, 0.5), reraise=True):
                with attempt:
                    session.run(query).consume()


def create_incident_constraints(store: Migrating) -> None:
    define(store, *INCIDENT_SCHEMA)


def locate_companies(store: Migrating) -> None:
    """The location index, and what it needs of companies written before it."""
    fill(store, FILL_LOCATIONS)
    define(store, *LOCATION_SCHEMA)


STEPS: tuple[Step[Migrating], ...] = (
    Step(1, "constraints and indexes", create_constraints),
    Step(2, "change log", start_change_log),
    Step(3, "company keys", key_companies),
    Step(4, "event keys", key_events),
    Step(5, "incidents", create_incident_constraints),
    Step(6, "company locations", locate_companies),
)


def schema_version(store: Migrating) -> int:
    """The last step this database ran; 0 for one without a version node."""
    records = store._read(read_records, cypher.READ_SCHEMA_VERSION, {})
    return int(records[0]["version"]) if records else 0


def _record(tx: ManagedTransaction, version: int) -> None:
    tx.run(cypher.SET_SCHEMA_VERSION, version=version).consume()


def upgrade(store: Migrating, *, until: int | None = None) -> list[int]:
    """Run the steps after the database's version (up to `until`), recording each; the
    numbers of the steps run."""
    ran = []
    for step in pending(STEPS, schema_version(store), until=until):
        step.run(store)
        store._write(_record, step.number)
        ran.append(step.number)
    return ran
