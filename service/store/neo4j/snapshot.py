"""The Neo4j store's cold read for the coverage engine (`Neo4jStore.load_snapshot`).

At a million links the time goes to the server reading, on two cores, so the reads are
spread so that the server and the engine work at the same time:

1. Companies and links are read at once, in three transactions (`network_at_once`):
   the companies in one, the links' pages shared between two. Links come as node ids,
   which only have to agree with the companies' read: all three transactions are open
   before any reads, and Neo4j frees a deleted node's id for reuse only once every
   transaction open at the deletion has closed.
2. The events are read in the background once the network is in (`keyed_events_tx`):
   `load_snapshot` returns the network while they are still being read, so the engine
   builds the network's arrays and the request's DAG meanwhile; `Snapshot.events` waits
   for them on first access. Each page of events is asked for before the previous one
   is turned into arrays, so the server reads while the client converts.

Events are read after the network's revision, so they hold every write up to it (and
maybe later ones, which the change log delivers again).
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future, wait
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol, TypeVar

import numpy as np
from neo4j import Record, Session
from neo4j.exceptions import DriverError, Neo4jError

from service.store.neo4j import queries as cypher
from service.store.neo4j.changelog import (
    CompanyColumns,
    NetworkColumns,
    company_columns,
    joined_links,
    link_columns,
    link_runs,
    load_network_tx,
    network_columns_tx,
    request_events_tx,
)
from service.store.neo4j.tx import ReadTransaction, Transactions, pipelined, read_revision
from service.store.records import Snapshot, SnapshotEvents
from service.store.snapshots import (
    PendingEvents,
    events_at_positions,
    events_of_ids,
    id_positions,
    position_table,
    positions,
    snapshot_of,
    snapshot_of_positions,
    status_codes,
)

__all__ = ["KEYS_PAGE", "KeyedEvents", "Neo4jSnapshots", "keyed_events_tx", "network_at_once"]

KEYS_PAGE = 100_000  # company keys per page of a request's events
_T = TypeVar("_T")
Events = dict[str, SnapshotEvents]
Index = dict[str, int]  # company id -> position


class ColdReads(Transactions, Protocol):
    """What `Neo4jSnapshots` needs of `Neo4jStore`."""

    _unit: threading.local  # .tx: the transaction of this thread's `atomic` unit
    _snapshot_pool: Executor  # two workers: the companies and half the links, then the events
    _one_server: bool  # bolt:// reaches one server: `network_at_once` is safe

    def _read_session(self) -> Session: ...


class Neo4jSnapshots:
    """The port's `load_snapshot`: a mixin of `Neo4jStore`."""

    def load_snapshot(self: ColdReads, request_ids: Sequence[str]) -> Snapshot:
        """See `ChangeLog.load_snapshot` and this module: the network read in three
        transactions at once, the events in the background (`Snapshot.events` waits for
        them), all as integers: links by node id, events by company key."""
        wanted = list(dict.fromkeys(request_ids))
        if (read := _network_and_events(self, wanted)) is None:
            return _snapshot_by_id(self, wanted)  # a company an older worker wrote: no key
        (revision, nodes, _, ids, kinds, (buyers, suppliers, category, categories)), \
            events, index = read
        node = position_table(nodes)
        return snapshot_of_positions(
            ids, kinds, positions(node, buyers), positions(node, suppliers), category,
            categories, revision, PendingEvents(events), index)


def _snapshot_by_id(store: ColdReads, wanted: list[str]) -> Snapshot:
    """The snapshot read by company id (slower, but it needs no keys); reads only."""
    network = store._read(load_network_tx)
    return snapshot_of(network, {rid: store._read(request_events_tx, rid) for rid in wanted})


def _network_and_events(store: ColdReads, wanted: list[str]
                        ) -> tuple[NetworkColumns, Future[Events], Index | None] | None:
    """`network_at_once` with the events of `wanted`; inside `atomic`, on a transient
    error, or through a routing URI, one managed transaction of `network_columns_tx`
    (which the driver retries), then the events. None while a company has no key.

    A routing URI (``neo4j://``) may reach a cluster, which can serve the sessions of
    `network_at_once` from two servers at different points of the log, where node ids
    need not agree and the events may be older than the revision: there the network is
    read in one transaction, and the events after it commits (the bookmark manager starts
    them at least where it ended)."""
    if getattr(store._unit, "tx", None) is None and wanted and store._one_server:
        try:
            return network_at_once(store._read_session, store._snapshot_pool,
                                   partial(_keyed_events, store, wanted))
        except (Neo4jError, DriverError) as exc:
            if not exc.is_retryable():
                raise
    if (network := store._read(network_columns_tx)) is None:
        return None
    events: Future[Events] = Future()
    events.set_result(_keyed_events(store, wanted, network[2], network[3]))
    return network, events, None


def _keyed_events(store: ColdReads, request_ids: Sequence[str], keys: Sequence[int],
                  ids: Sequence[str]) -> Events:
    """The events of `request_ids` over the companies with these keys (and ids), in order;
    by id where some lack their keys (written by an older worker after the upgrade)."""
    events, complete = store._read(keyed_events_tx, request_ids, position_table(keys))
    if not complete:
        return events_of_ids(ids, {rid: store._read(request_events_tx, rid)
                                   for rid in request_ids})
    return {rid: events_at_positions(cascades, acks) for rid, (cascades, acks) in events.items()}


def network_at_once(open_session: Callable[[], Session], pool: Executor,
                    read_events: Callable[[list[int], list[str]], _T]
                    ) -> tuple[NetworkColumns, Future[_T], Index] | None:
    """What `network_columns_tx` reads, on three sessions at once: the companies in
    `pool` (then their ids' positions, `Index`, made there while the links still come),
    the links on this thread and in `pool` (every other page each); then
    `read_events(keys, ids)` started in `pool` once this thread's links are in (the
    links hold up the engine, the events only the ledger after it, so they run beside
    the engine). None while a company has no key. Unmanaged transactions: the caller
    falls back to `network_columns_tx` on a transient error."""
    with open_session() as first, open_session() as second, open_session() as third, \
            first.begin_transaction() as companies_tx, \
            second.begin_transaction() as links_tx, \
            third.begin_transaction() as more_links_tx:
        # The revision first: what is read after it (events too) is as new or newer.
        revision = read_revision(companies_tx)
        for tx in (links_tx, more_links_tx):  # returns once the server has begun it:
            read_revision(tx)                 # all three are open before any reads
        companies = pool.submit(_indexed_companies, companies_tx)
        reads: list[Future[Any]] = [companies]
        try:
            runs = link_runs(links_tx)
            reads.append(rest := pool.submit(link_columns, more_links_tx, runs[1::2]))
            links = link_columns(links_tx, runs[::2])
            (nodes, keys, ids, kinds), index = companies.result()
        finally:
            wait(reads)  # no transaction is closed under a read
        if -1 in keys:
            return None
        events = pool.submit(read_events, keys, ids)
        return ((revision, nodes, keys, ids, kinds, joined_links([links, rest.result()])),
                events, index)


def _indexed_companies(tx: ReadTransaction) -> tuple[CompanyColumns, Index]:
    columns = company_columns(tx)
    return columns, id_positions(columns[2])


EventColumns = tuple[np.ndarray, ...]
KeyedEvents = tuple[dict[str, tuple[EventColumns, EventColumns]], bool]


@dataclass(frozen=True)
class _EventKind:
    """How one kind of event is read: its count, its pages and their columns."""

    count: str
    query: str
    columns: tuple[tuple[str, str], ...]  # (name, "key" | "status" | "integer")

    def runs(self, request_id: str, starts: range) -> list[tuple[str, dict[str, Any]]]:
        """The count of a request's events, then a page per start of KEYS_PAGE keys."""
        return [(self.count, {"request_id": request_id}),
                *((self.query, {"request_id": request_id, "from": start,
                                "to": start + KEYS_PAGE}) for start in starts)]


_CASCADES = _EventKind(cypher.REQUEST_CASCADE_COUNT, cypher.REQUEST_CASCADE_KEYS,
                       (("from_keys", "key"), ("to_keys", "key"), ("sent_us", "integer")))
_ACKS = _EventKind(cypher.REQUEST_ACK_COUNT, cypher.REQUEST_ACK_KEYS,
                   (("company_keys", "key"), ("statuses", "status"), ("at_us", "integer"),
                    ("seqs", "integer")))


def _column(values: list[Any], kind: str, table: np.ndarray) -> np.ndarray:
    """A page's column as an array: keys as positions in `table`, statuses as codes."""
    if kind == "key":
        return positions(table, values)
    if kind == "status":
        return status_codes(values)
    return np.asarray(values, dtype=np.int64)


def keyed_events_tx(tx: ReadTransaction, request_ids: Sequence[str], table: np.ndarray
                    ) -> KeyedEvents:
    """The events of each request as integer columns with companies as their positions in
    `table` (see `snapshots.events_at_positions`, statuses as codes), and whether every
    event had its keys and time (False: some were written without, see
    `migrations.key_events`). Companies keyed after the read starts are not read."""
    record = tx.run(cypher.READ_KEYED_REVISION).single()
    last_key = 0 if record is None else int(record["company_key"])
    starts = range(0, last_key + 1, KEYS_PAGE)  # key 0: names no company
    wanted = list(dict.fromkeys(request_ids))
    records = pipelined(tx, [run for rid in wanted for kind in (_CASCADES, _ACKS)
                              for run in kind.runs(rid, starts)])
    events, complete = {}, True
    for rid in wanted:
        cascades, all_cascades = _keyed_pages(records, len(starts), _CASCADES, table)
        acks, all_acks = _keyed_pages(records, len(starts), _ACKS, table)
        events[rid] = (cascades, acks)
        complete &= all_cascades and all_acks
    return events, complete


def _keyed_pages(records: Iterator[Record], pages: int, kind: _EventKind, table: np.ndarray
                 ) -> tuple[EventColumns, bool]:
    """The columns of one request's events of a `kind`: its count, then `pages` ranges of
    KEYS_PAGE company keys, each converted as it comes; and whether they are all that
    the count counts (events missing a key or a time are in no page)."""
    expected = int(next(records)[0])
    read: list[list[np.ndarray]] = [[] for _ in kind.columns]
    for page in itertools.islice(records, pages):
        for column, (name, how) in zip(read, kind.columns, strict=True):
            column.append(_column(page[name], how, table))
    columns = tuple(np.concatenate(column) for column in read)
    return columns, len(columns[0]) >= expected
