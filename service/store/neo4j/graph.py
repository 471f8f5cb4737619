"""Companies and supply links on Neo4j: a part of `Neo4jStore` (see `ports.GraphStore`),
with its transaction functions. Cypher: `queries.graph`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from neo4j import ManagedTransaction

from graph_models.models import Company, SupplyLink
from service.store.errors import AlreadyExists, InUse, StoreError
from service.store.neo4j import queries as cypher
from service.store.neo4j.codecs import company_from, company_row, tombstone_rows
from service.store.neo4j.tx import (
    Transactions,
    bump_revision,
    fetch,
    lock_next_revision,
    lock_revision,
    put,
    put_and_bump,
    read_records,
)
from service.store.planning import plan_writes
from service.store.records import WriteOutcome

__all__ = ["Neo4jGraph"]

# Reads come before writes in each transaction: Neo4j reads slow down as uncommitted
# transaction state grows, and under the revision lock nothing else can interleave.


def upsert_companies_tx(
    tx: ManagedTransaction, companies: Sequence[Company]
) -> list[WriteOutcome]:
    locked = lock_revision(tx)
    ids = list(dict.fromkeys(c.id for c in companies))
    stored = {r["id"]: company_from(r) for r in fetch(tx, cypher.GET_COMPANIES, "ids", ids)}
    outcomes, changed = plan_writes(stored, ((c.id, c) for c in companies))
    if changed:
        last_key = int(locked["company_key"])
        new: list[dict[str, Any]] = []
        updated: list[dict[str, Any]] = []
        for company in changed.values():  # a new company gets the next key
            if company.id in stored:
                updated.append(company_row(company))
            else:
                last_key += 1
                new.append({**company_row(company), "key": last_key})
        put_and_bump(tx, [(cypher.UPDATE_COMPANIES, updated), (cypher.ADD_COMPANIES, new)],
                     revision=int(locked["value"]) + 1, last_key=last_key if new else None)
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
    outcomes, changed = plan_writes(stored, ((link.key, link.category) for link in links))
    if changed:
        new: list[dict[str, Any]] = []
        updated: list[dict[str, Any]] = []
        for (buyer, supplier), category in changed.items():
            row = {"buyer_id": buyer, "supplier_id": supplier, "category": category}
            (updated if (buyer, supplier) in stored else new).append(row)
        writes = [(cypher.RECATEGORISE_LINKS, updated), (cypher.ADD_LINKS, new)]
        if put_and_bump(tx, writes, revision=revision) != len(changed):
            raise StoreError("a supply link names a company that does not exist")
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


class Neo4jGraph:
    """The port's company and link methods."""

    # -- companies ----------------------------------------------------------------------

    def create_company(self: Transactions, company: Company) -> None:
        self._write(create_company_tx, company)

    def upsert_companies(self: Transactions, companies: Sequence[Company]) -> list[WriteOutcome]:
        return self._write(upsert_companies_tx, companies) if companies else []

    def get_company(self: Transactions, company_id: str) -> Company | None:
        records = self._read(fetch, cypher.GET_COMPANIES, "ids", [company_id])
        return company_from(records[0]) if records else None

    def list_companies(
        self: Transactions,
        *,
        kind: str | None = None,
        country: str | None = None,
        q: str | None = None,
        limit: int = 100,
        after: str | None = None,
        ids: Sequence[str] | None = None,
    ) -> list[Company]:
        params = {
            "ids": None if ids is None else list(ids),
            "kind": None if kind is None else str(kind),
            "country": country,
            "q": q.lower() if q else None,
            "after": after or "",
            "limit": limit,
        }
        return [company_from(r) for r in self._read(read_records, cypher.LIST_COMPANIES, params)]

    def existing_company_ids(self: Transactions, ids: Iterable[str]) -> set[str]:
        unique = list(dict.fromkeys(ids))
        records = self._read(fetch, cypher.EXISTING_COMPANY_IDS, "ids", unique) if unique else []
        return {r["id"] for r in records}

    def delete_company(self: Transactions, company_id: str, *, force: bool = False) -> bool:
        return self._write(delete_company_tx, company_id, force)

    # -- supply links -------------------------------------------------------------------

    def add_links(self: Transactions, links: Sequence[SupplyLink]) -> list[WriteOutcome]:
        return self._write(add_links_tx, links) if links else []

    def list_links(
        self: Transactions,
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

    def existing_links(self: Transactions, pairs: Iterable[tuple[str, str]]
                       ) -> set[tuple[str, str]]:
        unique = [list(pair) for pair in dict.fromkeys(tuple(p) for p in pairs)]
        records = self._read(fetch, cypher.EXISTING_LINKS, "pairs", unique) if unique else []
        return {(r["buyer_id"], r["supplier_id"]) for r in records}

    def delete_link(self: Transactions, buyer_id: str, supplier_id: str) -> bool:
        return self._write(delete_link_tx, buyer_id, supplier_id)
