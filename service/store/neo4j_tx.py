"""Managed-transaction functions of the Neo4j store. Each is idempotent (the driver
retries it on transient errors) and consumes its results. Writers start by locking the
revision node, so they are serialised and know the revision they commit as: they stamp
what they change with it, and leave tombstones for what they delete (the change log)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol, TypeVar

from neo4j import ManagedTransaction, Transaction

from graph_models.models import (
    Acknowledgement,
    CascadeEvent,
    Company,
    PolicyRequest,
    SupplyLink,
    to_epoch_us,
    utc_now,
)
from service.store import neo4j_queries as cypher
from service.store.neo4j_codecs import (
    ACK_BATCH,
    ack_columns,
    ack_identity,
    cascade_key,
    cascade_key_prefix,
    chunks,
    company_from,
    company_row,
    request_row,
    stored_ack,
    tombstone_rows,
)
from service.store.port import (
    AckRow,
    AlreadyExists,
    CascadeRow,
    ChangeSet,
    InUse,
    Network,
    RequestEvents,
    StoreError,
    WriteOutcome,
    assemble_changes,
)
from service.store.snapshots import IdColumns

LINKS_PAGE = 1_000_000  # links per read of the network (~70 MB of server memory)
KEYS_BATCH = 50_000  # companies keyed per transaction by `key_companies_tx`
EVENTS_PAGE = 100_000  # cascade events or answers per page of `request_events`
ReadTransaction = ManagedTransaction | Transaction  # the cold read uses both (`neo4j_snapshot`)
_K = TypeVar("_K")
_T = TypeVar("_T")
_V = TypeVar("_V")


def lock_revision(tx: ManagedTransaction) -> Any:
    return tx.run(cypher.LOCK_REVISION).single(strict=True)


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


def lock_next_revision(tx: ManagedTransaction) -> int:
    """Take the write lock; the revision this transaction commits as if it changes data."""
    return int(lock_revision(tx)["value"]) + 1


def bump_revision(tx: ManagedTransaction) -> None:
    tx.run(cypher.BUMP_REVISION).consume()


def fetch(tx: ManagedTransaction, query: str, name: str, keys: Sequence[Any]) -> list[Any]:
    """Records of `query` for `keys`, passed as `$name` ~1,000 at a time."""
    return [record for chunk in chunks(keys) for record in tx.run(query, {name: list(chunk)})]


def put(
    tx: ManagedTransaction, query: str, rows: Sequence[dict[str, Any]], **params: Any
) -> int:
    """Run the `UNWIND $rows` write `query` ~1,000 rows at a time (with `params`); sum its
    `written`."""
    written = 0
    for chunk in chunks(rows):
        record = tx.run(query, params, rows=list(chunk)).single()
        written += int(record["written"]) if record is not None else 0
    return written


def merge(
    stored: dict[_K, _V], items: Iterable[tuple[_K, _V]]
) -> tuple[list[WriteOutcome], dict[_K, _V]]:
    """Apply `items` in order onto `stored` (last one wins); outcomes and what to write."""
    outcomes: list[WriteOutcome] = []
    changed: dict[_K, _V] = {}
    for key, value in items:
        old = stored.get(key)
        if old == value:
            outcomes.append(WriteOutcome.unchanged)
            continue
        outcomes.append(WriteOutcome.created if old is None else WriteOutcome.updated)
        stored[key] = changed[key] = value
    return outcomes, changed


# Reads come before writes in each transaction: Neo4j reads slow down as uncommitted
# transaction state grows, and under the revision lock nothing else can interleave.


def upsert_companies_tx(
    tx: ManagedTransaction, companies: Sequence[Company]
) -> list[WriteOutcome]:
    locked = lock_revision(tx)
    ids = list(dict.fromkeys(c.id for c in companies))
    stored = {r["id"]: company_from(r) for r in fetch(tx, cypher.GET_COMPANIES, "ids", ids)}
    existing = set(stored)
    outcomes, changed = merge(stored, ((c.id, c) for c in companies))
    if changed:
        first_key = last_key = int(locked["company_key"])
        rows = []
        for company in changed.values():  # a new company gets the next key
            is_new = company.id not in existing
            last_key += is_new
            rows.append({**company_row(company), "key": last_key if is_new else None})
        put(tx, cypher.UPSERT_COMPANIES, rows, revision=int(locked["value"]) + 1)
        if last_key != first_key:
            tx.run(cypher.SET_COMPANY_KEY, last_key=last_key).consume()
        bump_revision(tx)
    return outcomes


def create_company_tx(tx: ManagedTransaction, company: Company) -> None:
    locked = lock_revision(tx)
    if tx.run(cypher.EXISTING_COMPANY_IDS, ids=[company.id]).single() is not None:
        raise AlreadyExists(f"company {company.id!r} already exists")
    key = int(locked["company_key"]) + 1
    tx.run(cypher.CREATE_COMPANY, row=company_row(company), key=key,
           revision=int(locked["value"]) + 1).consume()
    tx.run(cypher.SET_COMPANY_KEY, last_key=key).consume()
    bump_revision(tx)


def delete_company_tx(tx: ManagedTransaction, company_id: str, force: bool) -> bool:
    revision = lock_next_revision(tx)
    refs = tx.run(cypher.COMPANY_REFERENCES, id=company_id).single()
    if refs is None:
        return False
    if refs["issued"]:
        raise InUse(f"company {company_id!r} issued requests")
    if not force and (refs["links"] or refs["cascades_out"] or refs["cascades_in"] or refs["acks"]):
        raise InUse(f"company {company_id!r} has links, cascade events or answers")
    deleted = [("company", company_id, "")]
    if force:
        deleted += [("link", b, s) for b, s in single(tx, cypher.COMPANY_LINK_KEYS, company_id)]
        requests = {
            *single(tx, cypher.DELETE_COMPANY_CASCADES, company_id),
            *single(tx, cypher.DELETE_COMPANY_ACKS, company_id),
        }
        deleted += [("events", request_id, "") for request_id in sorted(requests)]
    tx.run(cypher.DELETE_COMPANY, id=company_id).consume()
    put(tx, cypher.ADD_TOMBSTONES, tombstone_rows(deleted), revision=revision)
    bump_revision(tx)
    return True


def single(tx: ManagedTransaction, query: str, company_id: str) -> list[Any]:
    """The one list the force-delete `query` returns for company `company_id`."""
    return list(tx.run(query, id=company_id).single(strict=True)[0])


def add_links_tx(tx: ManagedTransaction, links: Sequence[SupplyLink]) -> list[WriteOutcome]:
    revision = lock_next_revision(tx)
    pairs = [list(key) for key in dict.fromkeys(link.key for link in links)]
    found = fetch(tx, cypher.EXISTING_LINKS, "pairs", pairs)
    stored = {(r["buyer_id"], r["supplier_id"]): r["category"] for r in found}
    outcomes, changed = merge(stored, ((link.key, link.category) for link in links))
    if changed:
        rows = [{"buyer_id": b, "supplier_id": s, "category": c} for (b, s), c in changed.items()]
        if put(tx, cypher.UPSERT_LINKS, rows, revision=revision) != len(rows):
            raise StoreError("a supply link names a company that does not exist")
        bump_revision(tx)
    return outcomes


def delete_link_tx(tx: ManagedTransaction, buyer_id: str, supplier_id: str) -> bool:
    revision = lock_next_revision(tx)
    record = tx.run(cypher.DELETE_LINK, buyer_id=buyer_id, supplier_id=supplier_id).single()
    deleted = bool(record and record["deleted"])
    if deleted:
        tombstones = tombstone_rows([("link", buyer_id, supplier_id)])
        put(tx, cypher.ADD_TOMBSTONES, tombstones, revision=revision)
        bump_revision(tx)
    return deleted


def create_request_tx(tx: ManagedTransaction, request: PolicyRequest) -> None:
    revision = lock_next_revision(tx)
    if tx.run(cypher.GET_REQUEST, id=request.id).single() is not None:
        raise AlreadyExists(f"request {request.id!r} already exists")
    tx.run(cypher.CREATE_REQUEST, row=request_row(request), revision=revision).consume()
    bump_revision(tx)


def add_cascades_tx(tx: ManagedTransaction, events: Sequence[CascadeEvent]) -> list[WriteOutcome]:
    revision = lock_next_revision(tx)
    keys = [cascade_key(event) for event in events]
    seen = {r["key"] for r in fetch(tx, cypher.EXISTING_CASCADE_KEYS, "keys", list(set(keys)))}
    outcomes: list[WriteOutcome] = []
    fresh: list[dict[str, Any]] = []
    for key, event in zip(keys, events, strict=True):
        outcomes.append(WriteOutcome.unchanged if key in seen else WriteOutcome.created)
        if key not in seen:  # the first of a key wins, later ones keep its sent_at
            seen.add(key)
            fresh.append({"key": key, "sent_us": to_epoch_us(event.sent_at),
                          **event.model_dump()})
    if fresh:
        put(tx, cypher.ADD_CASCADES, fresh, revision=revision)
        bump_revision(tx)
    return outcomes


def add_acks_tx(
    tx: ManagedTransaction, acks: Sequence[Acknowledgement]
) -> list[tuple[WriteOutcome, Acknowledgement]]:
    locked = lock_revision(tx)
    last_seq = int(locked["ack_seq"] or 0)
    identities = [ack_identity(ack) for ack in acks]
    known = stored_acks(tx, acks, identities)
    recorded_at = utc_now()
    results: list[tuple[WriteOutcome, Acknowledgement]] = []
    fresh: dict[str, Acknowledgement] = {}
    for identity, ack in zip(identities, acks, strict=True):
        if (stored := known.get(identity)) is not None:  # a retry: hand back what was stored
            results.append((WriteOutcome.unchanged, stored))
            continue
        last_seq += 1
        new = ack.model_copy(update={"seq": last_seq, "recorded_at": recorded_at})
        known[identity] = fresh[identity] = new
        results.append((WriteOutcome.created, new))
    if fresh:
        revision = int(locked["value"]) + 1
        for chunk in chunks(list(fresh.items()), ACK_BATCH):
            tx.run(cypher.ADD_ACKNOWLEDGEMENTS, ack_columns(chunk), revision=revision).consume()
        tx.run(cypher.SET_ACK_SEQ, last_seq=last_seq).consume()
        bump_revision(tx)
    return results


def stored_acks(
    tx: ManagedTransaction, acks: Sequence[Acknowledgement], identities: Sequence[str]
) -> dict[str, Acknowledgement]:
    """The stored answers among `acks`, by identity: what the store holds beyond the
    identity (seq, evidence, poster, recording time) on top of the asked answer."""
    asked = dict(zip(identities, acks, strict=True))
    stored: dict[str, Acknowledgement] = {}
    for chunk in chunks(list(asked), ACK_BATCH):
        record = tx.run(cypher.ACKS_WITH_IDENTITY, keys=list(chunk)).single(strict=True)
        for identity, *fields in record["rows"]:
            stored[identity] = stored_ack(asked[identity], *fields)
    return stored


def read_revision(tx: ReadTransaction) -> int:
    record = tx.run(cypher.READ_REVISION).single()
    return 0 if record is None else int(record["value"])


def load_network_tx(tx: ManagedTransaction) -> Network | None:
    """The network ordered by (buyer, supplier); None while a company has no key."""
    columns = network_columns_tx(tx)
    if columns is None:
        return None
    revision, nodes, _, ids, kinds, (buyers, suppliers, categories) = columns
    of_node = dict(zip(nodes, ids, strict=True))
    links = [(of_node[b], of_node[s], category)
             for b, s, category in zip(buyers, suppliers, categories, strict=True)
             if b in of_node and s in of_node]  # else: a company written after `revision`
    links.sort()
    return Network(kinds=dict(zip(ids, kinds, strict=True)), links=links, revision=revision)


def company_columns(tx: ReadTransaction
                    ) -> tuple[list[int], list[int], list[str], list[str]]:
    """(node ids, keys, ids, kinds) of every company; a key is -1 where a company has none
    yet. Node ids hold within this transaction only, which is all the links read needs:
    Neo4j frees a deleted node's id for reuse only once every transaction open at the
    deletion has closed."""
    record = tx.run(cypher.NETWORK_KINDS).single(strict=True)
    return record["nodes"], record["keys"], record["ids"], record["kinds"]


def link_columns(tx: ReadTransaction) -> tuple[list[Any], ...]:
    """(buyer node ids, supplier node ids, categories) of every link, in no particular
    order, read LINKS_PAGE at a time by ranges of relationship ids: parallel lists joined,
    without a tuple per link."""
    pages = -(-int(tx.run(cypher.LINK_COUNT).single(strict=True)["links"]) // LINKS_PAGE)
    step = 2**62  # one page holds them all
    if pages > 1:
        step = int(tx.run(cypher.LAST_LINK_ID).single(strict=True)["last"]) // pages + 1
    buyers: list[int] = []
    suppliers: list[int] = []
    names: list[str] = []
    for start in range(0, max(pages, 1) * step, step):
        page = tx.run(cypher.NETWORK_LINKS, {"from": start, "to": start + step}
                      ).single(strict=True)
        for name, of_buyers, of_suppliers in zip(page["categories"], page["buyers"],
                                                 page["suppliers"], strict=True):
            buyers += of_buyers
            suppliers += of_suppliers
            names += [name] * len(of_buyers)
    return buyers, suppliers, names


NetworkColumns = tuple[int, list[int], list[int], list[str], list[str], tuple[list[Any], ...]]


def network_columns_tx(tx: ManagedTransaction) -> NetworkColumns | None:
    """(revision, company node ids, keys, ids, kinds, (buyer node ids, supplier node ids,
    categories)); None while a company has no key (key them with `key_companies_tx`,
    then read again: links are read by buyer key)."""
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
        for column, name in zip(columns, ("from_ids", "to_ids", "sent_ats"), strict=True):
            column += page[name]
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
        for column, name in zip(columns, ("company_ids", "statuses", "ats", "seqs"),
                                strict=True):
            column += page[name]
        if len(page["seqs"]) < EVENTS_PAGE:
            return columns
        after = page["seqs"][-1]


def changes_since_tx(tx: ManagedTransaction, since: int, limit: int) -> ChangeSet | None:
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


def read_records(tx: ManagedTransaction, query: str, params: dict[str, Any]) -> list[Any]:
    """Every record of the read `query`."""
    return list(tx.run(query, params))


def row_dicts(tx: ManagedTransaction, query: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Every record of `query` as a dict (read or write; results consumed)."""
    return [record.data() for record in tx.run(query, params)]


class Transactions(Protocol):
    """What the store mixins need of `Neo4jStore`: its transaction runners."""

    def _write(self, work: Callable[..., _T], *args: Any) -> _T: ...
    def _read(self, work: Callable[..., _T], *args: Any) -> _T: ...
