"""Companies and supply links on SQLite: a part of `SqliteStore` (see `ports.GraphStore`)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from graph_models.models import Company, SupplyLink
from service.store.errors import AlreadyExists, InUse
from service.store.planning import plan_writes
from service.store.records import WriteOutcome
from service.store.sqlite import codecs
from service.store.sqlite import statements as sql
from service.store.sqlite.connection import (
    Row,
    Transactions,
    exists,
    matching,
    next_revision,
    where,
)

__all__ = ["SqliteGraph"]


class SqliteGraph:
    """The port's company and link methods."""

    def create_company(self: Transactions, company: Company) -> None:
        with self._write() as conn:
            if exists(conn, "companies", "id", company.id):
                raise AlreadyExists(f"company {company.id!r} already exists")
            row = (*codecs.company_row(company), next_revision(conn))
            conn.execute(sql.ADD_COMPANY_KEY, (company.id,))
            conn.execute(sql.UPSERT_COMPANY, row)
            conn.execute(sql.BUMP_REVISION)

    def upsert_companies(self: Transactions, companies: Sequence[Company]) -> list[WriteOutcome]:
        rows = [codecs.company_row(company) for company in companies]
        keys = list(dict.fromkeys(row[:1] for row in rows))
        with self._write() as conn:
            found = matching(conn, "companies", "id", keys, sql.COMPANY_COLUMNS)
            stored = {row[0]: tuple(row) for row in found}
            outcomes, changed = plan_writes(stored, ((row[0], row) for row in rows))
            if changed:
                revision = next_revision(conn)
                fresh = sorted(changed.values())  # key order keeps B-tree writes local
                conn.executemany(sql.ADD_COMPANY_KEY, [r[:1] for r in fresh])
                conn.executemany(sql.UPSERT_COMPANY, [(*r, revision) for r in fresh])
                conn.execute(sql.BUMP_REVISION)
        return outcomes

    def get_company(self: Transactions, company_id: str) -> Company | None:
        rows = self._select(f"{sql.SELECT_COMPANIES} WHERE id = ?", (company_id,))
        return codecs.company_from_row(rows[0]) if rows else None

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
        needle = (q.lower(), q.lower()) if q else None
        listed = None if ids is None else json.dumps(list(ids))
        clause, params = where(
            {
                "kind = ?": None if kind is None else str(kind),
                "country = ?": country,
                "id > ?": after,
                "(instr(unicode_lower(id), ?) OR instr(unicode_lower(name), ?))": needle,
                "id IN (SELECT value FROM json_each(?))": listed,
            }
        )
        query = f"{sql.SELECT_COMPANIES}{clause} ORDER BY id LIMIT ?"
        return [codecs.company_from_row(row) for row in self._select(query, [*params, limit])]

    def existing_company_ids(self: Transactions, ids: Iterable[str]) -> set[str]:
        keys = [(cid,) for cid in dict.fromkeys(ids)]
        with self._read() as conn:
            return {row[0] for row in matching(conn, "companies", "id", keys, "id")}

    def delete_company(self: Transactions, company_id: str, *, force: bool = False) -> bool:
        with self._write() as conn:
            if not exists(conn, "companies", "id", company_id):
                return False
            if exists(conn, "requests", "issuer_id", company_id):
                raise InUse(f"company {company_id!r} issued requests")
            if not force and conn.execute(sql.REFERENCED, (company_id,)).fetchone()[0]:
                raise InUse(f"company {company_id!r} has links, cascade events or answers")
            params = {"company": company_id, "revision": next_revision(conn)}
            for statement in sql.FORCE_DELETE if force else ():
                conn.execute(statement, params)
            conn.execute("DELETE FROM companies WHERE id = :company", params)
            conn.execute(sql.COMPANY_TOMBSTONE, params)
            conn.execute(sql.BUMP_REVISION)
        return True

    def add_links(self: Transactions, links: Sequence[SupplyLink]) -> list[WriteOutcome]:
        rows: list[Row] = [(link.buyer_id, link.supplier_id, link.category) for link in links]
        keys = list(dict.fromkeys(row[:2] for row in rows))
        with self._write() as conn:
            found = matching(conn, "links", "buyer_id, supplier_id", keys, sql.LINK_COLUMNS)
            stored = {tuple(row[:2]): tuple(row) for row in found}
            outcomes, changed = plan_writes(stored, ((row[:2], row) for row in rows))
            if changed:
                revision = next_revision(conn)
                fresh = sorted(changed.values())
                conn.executemany(sql.UPSERT_LINK, [(*r, revision) for r in fresh])
                conn.execute(sql.BUMP_REVISION)
        return outcomes

    def list_links(
        self: Transactions,
        *,
        buyer_id: str | None = None,
        supplier_id: str | None = None,
        limit: int = 1000,
        after: tuple[str, str] | None = None,
    ) -> list[SupplyLink]:
        clause, params = where(
            {
                "buyer_id = ?": buyer_id,
                "supplier_id = ?": supplier_id,
                "(buyer_id, supplier_id) > (?, ?)": None if after is None else tuple(after),
            }
        )
        query = f"{sql.SELECT_LINKS}{clause} ORDER BY buyer_id, supplier_id LIMIT ?"
        rows = self._select(query, [*params, limit])
        return [SupplyLink(buyer_id=b, supplier_id=s, category=c) for b, s, c in rows]

    def existing_links(self: Transactions, pairs: Iterable[tuple[str, str]]
                       ) -> set[tuple[str, str]]:
        keys: list[Row] = list(dict.fromkeys((buyer, supplier) for buyer, supplier in pairs))
        with self._read() as conn:
            found = matching(conn, "links", "buyer_id, supplier_id", keys,
                             "buyer_id, supplier_id")
        return {(buyer, supplier) for buyer, supplier in found}

    def delete_link(self: Transactions, buyer_id: str, supplier_id: str) -> bool:
        with self._write() as conn:
            query = "DELETE FROM links WHERE buyer_id = ? AND supplier_id = ?"
            deleted = conn.execute(query, (buyer_id, supplier_id)).rowcount > 0
            if deleted:
                tombstone = (buyer_id, supplier_id, next_revision(conn))
                conn.execute(sql.LINK_TOMBSTONE, tombstone)
                conn.execute(sql.BUMP_REVISION)
        return deleted
