"""A whole network into an empty Neo4j store: a part of `Neo4jStore` (see
`ports.BulkLoad`), with its transaction functions. Cypher: `queries.bulk`.

A write through the other ports holds the revision lock and reads what is stored before
it writes, so writers take turns and each server core but one idles. Rows known new need
neither: the load takes the lock once, to check that the store is empty and to reserve a
revision, the company keys and the answer seqs; then WRITERS transactions at a time CREATE
its rows, all stamped with that revision (companies first: links and events find theirs
by id); then it publishes a new revision from which the change log starts, so a worker
that followed the log meanwhile reads the store afresh (`queries.bulk.BULK_PUBLISH`). A
load that fails deletes the rows stamped with its revision before it raises.

Other writers may write meanwhile (their rows carry their own revisions), but a link one
of them creates between two of the load's companies before the load does is stored
twice: relationships have no unique constraint. Load into a store nobody writes to.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

from neo4j import ManagedTransaction
from neo4j.exceptions import ConstraintError

from graph_models.models import PolicyRequest, utc_now
from service.store.errors import NotEmpty, StoreError
from service.store.neo4j import queries as cypher
from service.store.neo4j.codecs import (
    ACK_BATCH,
    ack_columns,
    ack_identity,
    cascade_key,
    cascade_row,
    chunks,
    company_row,
    request_row,
)
from service.store.neo4j.tx import Transactions, lock_revision, put
from service.store.records import NetworkRows

__all__ = ["Neo4jBulkLoad"]

WRITERS = 2  # write transactions at once: 1.4x one on 2 cores at 1M links; 3 no faster
ROWS_PER_TX = 5_000  # rows per transaction (5 UNWINDs)
UNDO_BATCH = 10_000  # rows deleted per label and transaction when a load is undone

Job = Callable[[], int]  # writes one slice of rows in a transaction; returns how many


@dataclass(frozen=True)
class Reservation:
    """What the load's first transaction handed out: the revision its rows are stamped
    with, and the last company key and answer seq before its own."""

    revision: int
    company_key: int
    ack_seq: int


def reserve_tx(tx: ManagedTransaction, companies: int, answers: int) -> Reservation:
    lock_revision(tx)
    if tx.run(cypher.BULK_HOLDS_DATA).single(strict=True)["holds"]:
        raise NotEmpty("a bulk load needs an empty store; this one holds companies, "
                         "requests, cascade events or answers")
    record = tx.run(cypher.BULK_RESERVE, companies=companies, answers=answers
                    ).single(strict=True)
    return Reservation(int(record["revision"]), int(record["company_key"]),
                       int(record["ack_seq"]))


def publish_tx(tx: ManagedTransaction) -> None:
    lock_revision(tx)
    tx.run(cypher.BULK_PUBLISH).consume()


def undo_tx(tx: ManagedTransaction, revision: int) -> int:
    return sum(int(tx.run(query, revision=revision, batch=UNDO_BATCH).single(strict=True)[0])
               for query in cypher.BULK_UNDO)


def create_tx(tx: ManagedTransaction, query: str, rows: list[dict[str, Any]],
              revision: int) -> int:
    return put(tx, query, rows, revision=revision)


def create_request_tx(tx: ManagedTransaction, request: PolicyRequest, revision: int) -> None:
    tx.run(cypher.CREATE_REQUEST, row=request_row(request), revision=revision).consume()


def create_answers_tx(tx: ManagedTransaction, columns: list[dict[str, Any]],
                      revision: int) -> int:
    for chunk in columns:
        tx.run(cypher.ADD_ACKNOWLEDGEMENTS, chunk, revision=revision).consume()
    return sum(len(chunk["identities"]) for chunk in columns)


def slices(count: int) -> Iterable[tuple[int, int]]:
    return ((start, min(start + ROWS_PER_TX, count)) for start in range(0, count, ROWS_PER_TX))


class Neo4jBulkLoad:
    """The port's `load_new`."""

    def load_new(self: Transactions, network: NetworkRows, *,
                 progress: Callable[[int], None] | None = None) -> None:
        tick = progress or (lambda _: None)
        reserved = self._write(reserve_tx, len(network.companies),
                               len(network.acknowledgements))
        try:
            run_parallel(company_jobs(self, network, reserved), tick)
            for request in network.requests:  # few: one transaction each
                self._write(create_request_tx, request, reserved.revision)
                tick(1)
            run_parallel(event_jobs(self, network, reserved), tick)
        except BaseException as exc:
            while self._write(undo_tx, reserved.revision):
                pass
            if isinstance(exc, ConstraintError):  # an id the load repeats
                raise StoreError(f"the load was undone: {exc.message}") from exc
            raise
        finally:
            self._write(publish_tx)


def run_parallel(jobs: Iterable[Job], tick: Callable[[int], None]) -> None:
    """Run `jobs` WRITERS at a time; `tick` each one's count as it ends. The first error
    cancels the jobs not started and is raised once the running ones end."""
    with ThreadPoolExecutor(WRITERS, thread_name_prefix="neo4j-bulk") as pool:
        pending: list[Future[int]] = [pool.submit(job) for job in jobs]
        try:
            for done in as_completed(pending):
                tick(done.result())
        except BaseException:
            for future in pending:
                future.cancel()
            raise


def company_jobs(store: Transactions, network: NetworkRows, reserved: Reservation
                 ) -> list[Job]:
    def write(start: int, stop: int) -> int:
        rows = [{**company_row(company), "key": reserved.company_key + number}
                for number, company in enumerate(network.companies[start:stop], start + 1)]
        return store._write(create_tx, cypher.ADD_COMPANIES, rows, reserved.revision)

    return [functools.partial(write, start, stop)
            for start, stop in slices(len(network.companies))]


def event_jobs(store: Transactions, network: NetworkRows, reserved: Reservation
               ) -> list[Job]:
    """Links, cascade events and answers: each finds its companies, written before."""
    revision = reserved.revision

    def links(start: int, stop: int) -> int:
        rows = [{"buyer_id": link.buyer_id, "supplier_id": link.supplier_id,
                 "category": link.category} for link in network.links[start:stop]]
        if store._write(create_tx, cypher.ADD_LINKS, rows, revision) != len(rows):
            raise StoreError("a supply link names a company the load does not hold")
        return len(rows)

    def cascades(start: int, stop: int) -> int:
        rows = [cascade_row(cascade_key(event), event)
                for event in network.cascades[start:stop]]
        return store._write(create_tx, cypher.ADD_CASCADES, rows, revision)

    recorded_at = utc_now()

    def answers(start: int, stop: int) -> int:
        numbered = [(ack_identity(ack), ack.model_copy(
                        update={"seq": reserved.ack_seq + number, "recorded_at": recorded_at}))
                    for number, ack in enumerate(network.acknowledgements[start:stop],
                                                 start + 1)]
        columns = [ack_columns(chunk) for chunk in chunks(numbered, ACK_BATCH)]
        return store._write(create_answers_tx, columns, revision)

    return [functools.partial(write, start, stop)
            for write, rows in ((links, network.links), (cascades, network.cascades),
                                (answers, network.acknowledgements))
            for start, stop in slices(len(rows))]
