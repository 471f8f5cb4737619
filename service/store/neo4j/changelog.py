"""The revision and the coverage engine's reads on Neo4j: a part of `Neo4jStore` (see
`ports.ChangeLog`; the integer cold read is in `snapshot`). Reads only: nothing here
writes. Cypher: `queries.snapshot` and `queries.changelog`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from neo4j import ManagedTransaction

from service.store.changes import assemble_changes
from service.store.neo4j import queries as cypher
from service.store.neo4j.codecs import cascade_key_prefix
from service.store.neo4j.tx import ReadTransaction, Transactions, pipelined, read_revision
from service.store.records import AckRow, CascadeRow, ChangeSet, Network, RequestEvents
from service.store.snapshots import IdColumns

__all__ = ["COMPANIES_PAGE", "EVENTS_PAGE", "LINKS_PAGE", "CompanyColumns", "LinkColumns",
           "Neo4jChangeLog", "NetworkColumns", "company_columns", "joined_links",
           "keyed_columns", "link_columns", "link_runs", "network_columns_tx",
           "request_events_tx"]

LINKS_PAGE = 1_000_000  # links per read of the network (~70 MB of server memory)
COMPANIES_PAGE = 500_000  # company keys per read of the network (~75 MB of server memory)
EVENTS_PAGE = 100_000  # cascade events or answers per page of `request_events`


def load_network_tx(tx: ManagedTransaction) -> Network:
    """The network ordered by (buyer, supplier) (companies need no key: links come by
    node id)."""
    revision = read_revision(tx)  # first: what is read after is as new or newer
    nodes, _, ids, kinds = company_columns(tx)
    buyers, suppliers, category, categories = link_columns(tx)
    of_node = dict(zip(nodes, ids, strict=True))
    links = [(of_node[b], of_node[s], categories[c])
             for b, s, c in zip(buyers.tolist(), suppliers.tolist(), category.tolist(),
                                strict=True)
             if b in of_node and s in of_node]  # else: a company written after `revision`
    links.sort()
    return Network(kinds=dict(zip(ids, kinds, strict=True)), links=links, revision=revision)


CompanyColumns = tuple[list[int], list[int], list[str], list[str]]
"""Companies as (node ids, keys, ids, kinds)."""


def company_columns(tx: ReadTransaction) -> CompanyColumns:
    """(node ids, keys, ids, kinds) of every company (`keyed_columns`); a key is -1 where
    a company has none yet. Node ids hold within this transaction only, which is all the
    links read needs: Neo4j frees a deleted node's id for reuse only once every
    transaction open at the deletion has closed."""
    nodes, keys, ids, kinds = keyed_columns(tx, cypher.NETWORK_KINDS, cypher.UNKEYED_KINDS,
                                            _COMPANY_COLUMNS)
    return nodes, keys, ids, kinds


def keyed_columns(tx: ReadTransaction, query: str, unkeyed: str, names: tuple[str, ...]
                  ) -> tuple[list[Any], ...]:
    """The lists `names` of every company: `query` gives them for the companies with
    keys in [$from, $to) as one record, read COMPANIES_PAGE keys at a time, then
    `unkeyed` for those without a key yet. The first list holds one value per company."""
    companies = int(tx.run(cypher.COMPANY_COUNT).single(strict=True)["companies"])
    last = int(tx.run(cypher.LAST_COMPANY_KEY).single(strict=True)["last"])
    columns: tuple[list[Any], ...] = tuple([] for _ in names)
    for start in range(0, last + 1, COMPANIES_PAGE):  # key 0: names no company
        page = {"from": start, "to": start + COMPANIES_PAGE}
        _append_page(columns, names, tx.run(query, page).single(strict=True))
    if len(columns[0]) < companies:  # some have no key yet (see `migrations`)
        _append_page(columns, names, tx.run(unkeyed).single(strict=True))
    return columns


_COMPANY_COLUMNS = ("nodes", "keys", "ids", "kinds")


def _append_page(columns: tuple[list[Any], ...], names: tuple[str, ...], page: Any) -> None:
    """Extend each column by the list of its name in the page's record."""
    for column, name in zip(columns, names, strict=True):
        column += page[name]


LinkColumns = tuple[np.ndarray, np.ndarray, np.ndarray, tuple[str, ...]]
"""Links as (buyer node ids, supplier node ids, category codes, category names)."""


def link_runs(tx: ReadTransaction) -> list[tuple[str, dict[str, Any]]]:
    """The queries that read every link: one, or one per range of relationship ids that
    holds about LINKS_PAGE links."""
    pages = -(-int(tx.run(cypher.LINK_COUNT).single(strict=True)["links"]) // LINKS_PAGE)
    if pages <= 1:
        return [(cypher.ALL_LINKS, {})]
    last = int(tx.run(cypher.LAST_LINK_ID).single(strict=True)["last"])
    step = last // pages + 1  # links are the only relationships; freed ids are reused
    return [(cypher.NETWORK_LINKS, {"from": start, "to": start + step})
            for start in range(0, last + 1, step)]


def link_columns(tx: ReadTransaction,
                 runs: Sequence[tuple[str, dict[str, Any]]] | None = None) -> LinkColumns:
    """The links `runs` read (default: every link, `link_runs`), in no particular order,
    each page made arrays while the server reads the next."""
    code: dict[str, int] = {}
    none = np.zeros(0, dtype=np.int64)
    columns: tuple[list[np.ndarray], ...] = ([none], [none], [none])
    for record in pipelined(tx, link_runs(tx) if runs is None else runs):
        for name, of_buyers, of_suppliers in zip(record["categories"], record["buyers"],
                                                 record["suppliers"], strict=True):
            columns[0].append(np.array(of_buyers, dtype=np.int64))
            columns[1].append(np.array(of_suppliers, dtype=np.int64))
            columns[2].append(np.full(len(of_buyers), code.setdefault(name, len(code))))
    buyers, suppliers, category = (np.concatenate(column) for column in columns)
    return buyers, suppliers, category, tuple(code)


def joined_links(parts: Sequence[LinkColumns]) -> LinkColumns:
    """The links of several reads as one, their category codes made one.

    >>> a = (np.array([1]), np.array([2]), np.array([0]), ("parts",))
    >>> b = (np.array([3, 4]), np.array([5, 6]), np.array([0, 1]), ("tools", "parts"))
    >>> buyers, suppliers, category, names = joined_links([a, b])
    >>> buyers.tolist(), category.tolist(), names
    ([1, 3, 4], [0, 1, 0], ('parts', 'tools'))
    """
    names = tuple(dict.fromkeys(name for part in parts for name in part[3]))
    code = {name: i for i, name in enumerate(names)}
    recoded = [np.array([code[name] for name in part[3]], dtype=np.int64)[part[2]]
               if part[2].size else part[2] for part in parts]
    return (np.concatenate([part[0] for part in parts]),
            np.concatenate([part[1] for part in parts]), np.concatenate(recoded), names)


NetworkColumns = tuple[int, list[int], list[int], list[str], list[str], LinkColumns]


def network_columns_tx(tx: ManagedTransaction) -> NetworkColumns | None:
    """(revision, company node ids, keys, ids, kinds, (buyer node ids, supplier node ids,
    categories)); None while a company has no key (one an older worker wrote after the
    upgrade): the caller reads by id instead."""
    # Neo4j reads are read-committed, not a snapshot: read the revision first, so data
    # changed while we read can only be newer than the revision it is cached under.
    revision = read_revision(tx)
    nodes, keys, ids, kinds = company_columns(tx)
    if -1 in keys:
        return None
    return revision, nodes, keys, ids, kinds, link_columns(tx)


def request_events_tx(tx: ManagedTransaction, request_id: str) -> RequestEvents:
    """Read in pages: a million events in one record exceeds the transaction memory."""
    return RequestEvents(
        cascades=_request_cascades(tx, request_id), acknowledgements=_request_acks(tx, request_id)
    )


def _request_cascades(tx: ManagedTransaction, request_id: str) -> list[CascadeRow]:
    rows: list[CascadeRow] = list(zip(*_cascade_columns(tx, request_id), strict=True))
    rows.sort(key=lambda row: (row[2], row[0], row[1]))  # sending order
    return rows


def _cascade_columns(tx: ManagedTransaction, request_id: str) -> IdColumns:
    """(from ids, to ids, sent_at µs) of a request's cascade events, in key order."""
    prefix = cascade_key_prefix(request_id)
    columns: tuple[list[Any], ...] = ([], [], [])
    after = prefix
    while True:
        page = tx.run(cypher.REQUEST_CASCADE_ROWS, prefix=prefix, after=after,
                      page=EVENTS_PAGE).single(strict=True)
        _append_page(columns, ("from_ids", "to_ids", "sent_ats"), page)
        if len(page["from_ids"]) < EVENTS_PAGE:
            return columns
        after = page["last_key"]


def _request_acks(tx: ManagedTransaction, request_id: str) -> list[AckRow]:
    return list(zip(*_ack_columns(tx, request_id), strict=True))


def _ack_columns(tx: ManagedTransaction, request_id: str) -> IdColumns:
    """(company ids, statuses, at µs, seq) of a request's answers, in recording order."""
    columns: tuple[list[Any], ...] = ([], [], [], [])
    after = -1
    while True:
        page = tx.run(cypher.REQUEST_ACK_ROWS, request_id=request_id, after=after,
                      page=EVENTS_PAGE).single(strict=True)
        _append_page(columns, ("company_ids", "statuses", "ats", "seqs"), page)
        if len(page["seqs"]) < EVENTS_PAGE:
            return columns
        after = page["seqs"][-1]


def changes_since_tx(tx: ReadTransaction, since: int, limit: int) -> ChangeSet | None:
    # The revision is read first (read-committed): rows of a later write may show up too;
    # the caller applies them idempotently and sees them again next time.
    record = tx.run(cypher.CHANGES_SINCE, since=since, limit=limit + 1).single(strict=True)
    current, log_from = int(record["value"]), record["log_from"]
    if log_from is None or not log_from <= since <= current:
        return None
    changed = [record[f"rows{i}"] for i in range(len(cypher.CHANGE_LOG))]
    if sum(len(rows) for rows in changed) > limit:
        return None
    return assemble_changes(current, *changed)


class Neo4jChangeLog:
    """The port's revision, network, events and change-log reads."""

    def revision(self: Transactions) -> int:
        return self._read_once(read_revision)  # per poll after a write, and per watch tick

    # -- reads for the coverage engine ----------------------------------------------------

    def load_network(self: Transactions) -> Network:
        """Companies' kinds, every link and the revision, from one read transaction."""
        return self._read(load_network_tx)

    def request_events(self: Transactions, request_id: str) -> RequestEvents:
        """All cascade events (in sending order) and answers (in recording order)."""
        return self._read(request_events_tx, request_id)

    def changes_since(self: Transactions, revision: int, *, limit: int = 50_000
                      ) -> ChangeSet | None:
        """See `ChangeLog.changes_since` (read-committed: may include later writes)."""
        return self._read_once(changes_since_tx, revision, limit)
