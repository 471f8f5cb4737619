"""The Neo4j store: the production system of record behind the `CascadeStore` port.

Graph shape (all Cypher lives in `service.store.neo4j_queries`):

- ``(:Company {id, name, country, kind, identifiers_json, tags})``, unique ``id``.
- ``(buyer:Company)-[:SUPPLIED_BY {category}]->(supplier:Company)``: a supply link is a
  relationship, in the direction requests travel (buyer -> supplier), so `load_network`
  is one relationship scan and the graph can be explored as-is in Neo4j Browser.
- ``(:Request {id, topic, ..., issuer_id, issued_at, applies_to_json})``, unique ``id``.
  The issuer is the indexed ``issuer_id`` property rather than a relationship: the only
  question asked of it is "did this company issue anything?" (the delete rule).
- ``(:Cascade {key, request_id, from_id, to_id, sent_at})``: cascade events are nodes with
  a unique ``key`` (the JSON of [request, from, to]), not relationships. An event is keyed
  by three values, survives a later change of the link it travelled over, and MERGE on a
  constrained node key is the race-free "insert once" that relationships lack in Community.
- ``(:Acknowledgement {identity, request_id, company_id, status, at, evidence_json, seq,
  recorded_at, posted_by})``: append-only answer history, unique ``seq`` and unique
  ``identity`` (the JSON of [request, company, status, at]: what makes a retry a retry).
- ``(:StoreRevision {id: 'main', value, ack_seq})``: the store revision and the last
  acknowledgement seq handed out.

Timestamps are Neo4j ``DateTime`` values in UTC (the models normalise to UTC; the driver
converts aware datetimes both ways), so Cypher orders them as instants.

Transactions: every write method is one managed transaction (`execute_write`) whose
function first locks the `StoreRevision` node, so writers are serialised like SQLite's
``BEGIN IMMEDIATE``, outcomes computed from reads in the transaction are exact, and the
revision (bumped only when something changed) and ack seq values follow commit order.
Batches are written ~1,000 rows per ``UNWIND``, several UNWINDs inside ONE transaction, so
a call of any size stays atomic (a 300k-link import is one transaction; Neo4j holds its
state in memory, so size `db.memory.transaction.max` and the heap accordingly).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from neo4j import Driver, GraphDatabase, ManagedTransaction, Session
from neo4j.exceptions import AuthError, DriverError, Neo4jError, ServiceUnavailable, SessionExpired

from graph_models.models import (
    Acknowledgement,
    Applicability,
    CascadeEvent,
    Company,
    PolicyRequest,
    SupplyLink,
    utc_now,
)
from service.store import neo4j_queries as cypher
from service.store.port import (
    AlreadyExists,
    InUse,
    Network,
    RequestEvents,
    StoreError,
    StoreUnavailable,
    WriteOutcome,
)

__all__ = ["Neo4jStore"]

BATCH = 1000  # rows per UNWIND
NETWORK_PAGE = 10_000  # buyers per page of `load_network`
_T = TypeVar("_T")
_K = TypeVar("_K")
_V = TypeVar("_V")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _chunks(items: Sequence[_T], size: int = BATCH) -> Iterator[Sequence[_T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _utc(epoch_us: int) -> datetime:
    """Microseconds since the epoch (as the queries return timestamps) as aware UTC."""
    return _EPOCH + timedelta(microseconds=epoch_us)


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


# --- row <-> model codecs -----------------------------------------------------------------


def _company_row(company: Company) -> dict[str, Any]:
    return {
        "id": company.id,
        "name": company.name,
        "country": company.country,
        "kind": str(company.kind),
        "identifiers_json": _json(company.identifiers),
        "tags": list(company.tags),
    }


def _company(record: Any) -> Company:
    return Company(
        id=record["id"],
        name=record["name"],
        country=record["country"],
        kind=record["kind"],
        identifiers=json.loads(record["identifiers_json"] or "{}"),
        tags=list(record["tags"] or []),
    )


def _request_row(request: PolicyRequest) -> dict[str, Any]:
    row = request.model_dump(exclude={"applies_to"})
    row["applies_to_json"] = request.applies_to.model_dump_json()
    return row


def _request(record: Any) -> PolicyRequest:
    fields = dict(record)
    fields["issued_at"] = _utc(fields["issued_at"])
    fields["applies_to"] = Applicability.model_validate_json(fields.pop("applies_to_json"))
    return PolicyRequest.model_validate(fields)


def _cascade_key(event: CascadeEvent) -> str:
    return _json([event.request_id, event.from_id, event.to_id])


def _cascade(record: Any) -> CascadeEvent:
    return CascadeEvent(
        request_id=record["request_id"],
        from_id=record["from_id"],
        to_id=record["to_id"],
        sent_at=_utc(record["sent_at"]),
    )


def _ack_identity(ack: Acknowledgement) -> str:
    request_id, company_id, status, at = ack.identity
    return _json([request_id, company_id, status, at.isoformat(timespec="microseconds")])


def _ack_row(ack: Acknowledgement) -> dict[str, Any]:
    return {
        "identity": _ack_identity(ack),
        "request_id": ack.request_id,
        "company_id": ack.company_id,
        "status": str(ack.status),
        "at": ack.at,
        "evidence_json": None if ack.evidence is None else _json(ack.evidence),
        "seq": ack.seq,
        "recorded_at": ack.recorded_at,
        "posted_by": ack.posted_by,
    }


def _ack(record: Any) -> Acknowledgement:
    evidence = record["evidence_json"]
    return Acknowledgement(
        request_id=record["request_id"],
        company_id=record["company_id"],
        status=record["status"],
        at=_utc(record["at"]),
        evidence=None if evidence is None else json.loads(evidence),
        seq=record["seq"],
        recorded_at=None if record["recorded_at"] is None else _utc(record["recorded_at"]),
        posted_by=record["posted_by"],
    )


# --- transaction functions (idempotent: retried by the driver on transient errors) --------


def _lock(tx: ManagedTransaction) -> Any:
    return tx.run(cypher.LOCK_REVISION).single(strict=True)


def _bump(tx: ManagedTransaction) -> None:
    tx.run(cypher.BUMP_REVISION).consume()


def _fetch(tx: ManagedTransaction, query: str, name: str, keys: Sequence[Any]) -> list[Any]:
    """Records of `query` for `keys`, passed as `$name` ~1,000 at a time."""
    return [record for chunk in _chunks(keys) for record in tx.run(query, {name: list(chunk)})]


def _put(tx: ManagedTransaction, query: str, rows: Sequence[dict[str, Any]]) -> int:
    """Run the `UNWIND $rows` write `query` ~1,000 rows at a time; sum its `written`."""
    written = 0
    for chunk in _chunks(rows):
        record = tx.run(query, rows=list(chunk)).single()
        written += int(record["written"]) if record is not None else 0
    return written


def _merge(
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


def _upsert_companies_tx(
    tx: ManagedTransaction, companies: Sequence[Company]
) -> list[WriteOutcome]:
    _lock(tx)
    ids = list(dict.fromkeys(c.id for c in companies))
    stored = {r["id"]: _company(r) for r in _fetch(tx, cypher.GET_COMPANIES, "ids", ids)}
    outcomes, changed = _merge(stored, ((c.id, c) for c in companies))
    if changed:
        _put(tx, cypher.UPSERT_COMPANIES, [_company_row(c) for c in changed.values()])
        _bump(tx)
    return outcomes


def _create_company_tx(tx: ManagedTransaction, company: Company) -> None:
    _lock(tx)
    if tx.run(cypher.EXISTING_COMPANY_IDS, ids=[company.id]).single() is not None:
        raise AlreadyExists(f"company {company.id!r} already exists")
    tx.run(cypher.CREATE_COMPANY, row=_company_row(company)).consume()
    _bump(tx)


def _delete_company_tx(tx: ManagedTransaction, company_id: str, force: bool) -> bool:
    _lock(tx)
    refs = tx.run(cypher.COMPANY_REFERENCES, id=company_id).single()
    if refs is None:
        return False
    if refs["issued"]:
        raise InUse(f"company {company_id!r} issued requests")
    if not force and (refs["links"] or refs["cascades_out"] or refs["cascades_in"] or refs["acks"]):
        raise InUse(f"company {company_id!r} has links, cascade events or answers")
    if force:
        tx.run(cypher.DELETE_COMPANY_CASCADES, id=company_id).consume()
        tx.run(cypher.DELETE_COMPANY_ACKS, id=company_id).consume()
    tx.run(cypher.DELETE_COMPANY, id=company_id).consume()
    _bump(tx)
    return True


def _add_links_tx(tx: ManagedTransaction, links: Sequence[SupplyLink]) -> list[WriteOutcome]:
    _lock(tx)
    pairs = [list(key) for key in dict.fromkeys(link.key for link in links)]
    found = _fetch(tx, cypher.EXISTING_LINKS, "pairs", pairs)
    stored = {(r["buyer_id"], r["supplier_id"]): r["category"] for r in found}
    outcomes, changed = _merge(stored, ((link.key, link.category) for link in links))
    if changed:
        rows = [{"buyer_id": b, "supplier_id": s, "category": c} for (b, s), c in changed.items()]
        if _put(tx, cypher.UPSERT_LINKS, rows) != len(rows):
            raise StoreError("a supply link names a company that does not exist")
        _bump(tx)
    return outcomes


def _delete_link_tx(tx: ManagedTransaction, buyer_id: str, supplier_id: str) -> bool:
    _lock(tx)
    record = tx.run(cypher.DELETE_LINK, buyer_id=buyer_id, supplier_id=supplier_id).single()
    deleted = bool(record and record["deleted"])
    if deleted:
        _bump(tx)
    return deleted


def _create_request_tx(tx: ManagedTransaction, request: PolicyRequest) -> None:
    _lock(tx)
    if tx.run(cypher.GET_REQUEST, id=request.id).single() is not None:
        raise AlreadyExists(f"request {request.id!r} already exists")
    tx.run(cypher.CREATE_REQUEST, row=_request_row(request)).consume()
    _bump(tx)


def _add_cascades_tx(tx: ManagedTransaction, events: Sequence[CascadeEvent]) -> list[WriteOutcome]:
    _lock(tx)
    keys = [_cascade_key(event) for event in events]
    seen = {r["key"] for r in _fetch(tx, cypher.EXISTING_CASCADE_KEYS, "keys", list(set(keys)))}
    outcomes: list[WriteOutcome] = []
    fresh: list[dict[str, Any]] = []
    for key, event in zip(keys, events, strict=True):
        outcomes.append(WriteOutcome.unchanged if key in seen else WriteOutcome.created)
        if key not in seen:  # the first of a key wins, later ones keep its sent_at
            seen.add(key)
            fresh.append({"key": key, **event.model_dump()})
    if fresh:
        _put(tx, cypher.ADD_CASCADES, fresh)
        _bump(tx)
    return outcomes


def _add_acks_tx(
    tx: ManagedTransaction, acks: Sequence[Acknowledgement]
) -> list[tuple[WriteOutcome, Acknowledgement]]:
    last_seq = int(_lock(tx)["ack_seq"] or 0)
    keys = list({_ack_identity(a) for a in acks})
    known = {a.identity: a for a in map(_ack, _fetch(tx, cypher.ACKS_WITH_IDENTITY, "keys", keys))}
    recorded_at = utc_now()
    results: list[tuple[WriteOutcome, Acknowledgement]] = []
    fresh: list[dict[str, Any]] = []
    for ack in acks:
        if ack.identity in known:  # a retry: hand back what was stored
            results.append((WriteOutcome.unchanged, known[ack.identity]))
            continue
        last_seq += 1
        new = ack.model_copy(update={"seq": last_seq, "recorded_at": recorded_at})
        known[new.identity] = new
        results.append((WriteOutcome.created, new))
        fresh.append(_ack_row(new))
    if fresh:
        _put(tx, cypher.ADD_ACKNOWLEDGEMENTS, fresh)
        tx.run(cypher.SET_ACK_SEQ, last_seq=last_seq).consume()
        _bump(tx)
    return results


def _revision(tx: ManagedTransaction) -> int:
    record = tx.run(cypher.READ_REVISION).single()
    return 0 if record is None else int(record["value"])


def _load_network_tx(tx: ManagedTransaction) -> Network:
    # Neo4j reads are read-committed, not a snapshot: read the revision first, so data
    # changed while we read can only be newer than the revision it is cached under.
    revision = _revision(tx)
    kinds_record = tx.run(cypher.NETWORK_KINDS).single(strict=True)
    kinds = dict(zip(kinds_record["ids"], kinds_record["kinds"], strict=True))
    links: list[SupplyLink] = []
    after = ""
    while page := tx.run(cypher.NETWORK_LINKS_PAGE, after=after, buyers=NETWORK_PAGE).single():
        after = page["last"]
        columns = zip(page["buyer_ids"], page["supplier_ids"], page["categories"], strict=True)
        links.extend(SupplyLink(buyer_id=b, supplier_id=s, category=c) for b, s, c in columns)
    return Network(kinds=kinds, links=links, revision=revision)


def _request_events_tx(tx: ManagedTransaction, request_id: str) -> RequestEvents:
    cascades = [_cascade(r) for r in tx.run(cypher.REQUEST_CASCADES, request_id=request_id)]
    acks = [_ack(r) for r in tx.run(cypher.REQUEST_ACKS, request_id=request_id)]
    return RequestEvents(cascades=cascades, acknowledgements=acks)


def _records(tx: ManagedTransaction, query: str, params: dict[str, Any]) -> list[Any]:
    """Every record of the read `query`."""
    return list(tx.run(query, params))


@contextmanager
def _unavailable_as_store_error() -> Iterator[None]:
    try:
        yield
    except (ServiceUnavailable, SessionExpired) as exc:
        raise StoreUnavailable(f"neo4j: {exc}") from exc


class Neo4jStore:
    """`CascadeStore` on a Neo4j database; see the module docstring for the graph shape."""

    def __init__(
        self,
        uri: str,
        *,
        user: str | None = None,
        password: str | None = None,
        database: str = "neo4j",
        connect_timeout: float = 30.0,
    ) -> None:
        self.uri = uri
        self.database = database
        auth = (user, password or "") if user else None
        self._driver: Driver = GraphDatabase.driver(
            uri,
            auth=auth,
            connection_timeout=max(1.0, min(connect_timeout, 10.0)),
            # Optional properties (country, supersedes ...) may not exist yet in a fresh
            # database; the server's "unknown property" notice would be logged per query.
            notifications_disabled_classifications=["UNRECOGNIZED"],
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

    def _write(self, work: Callable[..., _T], *args: Any) -> _T:
        with _unavailable_as_store_error(), self._session() as session:
            return session.execute_write(work, *args)

    def _read(self, work: Callable[..., _T], *args: Any) -> _T:
        with _unavailable_as_store_error(), self._session() as session:
            return session.execute_read(work, *args)

    # -- lifecycle ----------------------------------------------------------------------

    def init_schema(self) -> None:
        """Create constraints and indexes (idempotent), wait for them, seed the revision."""
        with _unavailable_as_store_error(), self._session() as session:
            for statement in cypher.SCHEMA:
                session.run(statement).consume()  # schema changes need their own transaction
            session.run(cypher.AWAIT_INDEXES, seconds=300).consume()
            session.execute_write(_lock)

    def close(self) -> None:
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
        return self._read(_revision)

    def clear_all(self) -> None:
        """Tests only: delete every node and relationship (the schema stays)."""

        def delete_batch(tx: ManagedTransaction) -> int:
            return int(tx.run(cypher.DELETE_ALL_BATCH, batch=10_000).single(strict=True)[0])

        while self._write(delete_batch):
            pass

    # -- companies ----------------------------------------------------------------------

    def create_company(self, company: Company) -> None:
        self._write(_create_company_tx, company)

    def upsert_companies(self, companies: Sequence[Company]) -> list[WriteOutcome]:
        return self._write(_upsert_companies_tx, companies) if companies else []

    def get_company(self, company_id: str) -> Company | None:
        records = self._read(_fetch, cypher.GET_COMPANIES, "ids", [company_id])
        return _company(records[0]) if records else None

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
        return [_company(r) for r in self._read(_records, cypher.LIST_COMPANIES, params)]

    def existing_company_ids(self, ids: Iterable[str]) -> set[str]:
        unique = list(dict.fromkeys(ids))
        records = self._read(_fetch, cypher.EXISTING_COMPANY_IDS, "ids", unique) if unique else []
        return {r["id"] for r in records}

    def delete_company(self, company_id: str, *, force: bool = False) -> bool:
        return self._write(_delete_company_tx, company_id, force)

    # -- supply links -------------------------------------------------------------------

    def add_links(self, links: Sequence[SupplyLink]) -> list[WriteOutcome]:
        if any(link.buyer_id == link.supplier_id for link in links):
            raise StoreError("a company cannot supply itself")
        return self._write(_add_links_tx, links) if links else []

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
        records = self._read(_records, query, params)
        return [SupplyLink(**dict(r)) for r in records]

    def existing_links(self, pairs: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
        unique = [list(pair) for pair in dict.fromkeys(tuple(p) for p in pairs)]
        records = self._read(_fetch, cypher.EXISTING_LINKS, "pairs", unique) if unique else []
        return {(r["buyer_id"], r["supplier_id"]) for r in records}

    def delete_link(self, buyer_id: str, supplier_id: str) -> bool:
        return self._write(_delete_link_tx, buyer_id, supplier_id)

    # -- requests -----------------------------------------------------------------------

    def create_request(self, request: PolicyRequest) -> None:
        self._write(_create_request_tx, request)

    def get_request(self, request_id: str) -> PolicyRequest | None:
        records = self._read(_records, cypher.GET_REQUEST, {"id": request_id})
        return _request(records[0]) if records else None

    def list_requests(self) -> list[PolicyRequest]:
        """Every request, ordered by id."""
        return [_request(r) for r in self._read(_records, cypher.LIST_REQUESTS, {})]

    # -- events -------------------------------------------------------------------------

    def add_cascades(self, events: Sequence[CascadeEvent]) -> list[WriteOutcome]:
        return self._write(_add_cascades_tx, events) if events else []

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
        return [_cascade(r) for r in self._read(_records, query, params)]

    def add_acknowledgements(
        self, acks: Sequence[Acknowledgement]
    ) -> list[tuple[WriteOutcome, Acknowledgement]]:
        return self._write(_add_acks_tx, acks) if acks else []

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
        return [_ack(r) for r in self._read(_records, query, params)]

    # -- reads for the coverage engine ----------------------------------------------------

    def load_network(self) -> Network:
        """Companies' kinds, every link and the revision, from one read transaction."""
        return self._read(_load_network_tx)

    def request_events(self, request_id: str) -> RequestEvents:
        """All cascade events (in sending order) and answers (in recording order)."""
        return self._read(_request_events_tx, request_id)
