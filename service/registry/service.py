"""Service functions for the supplier registry: companies and supply links."""

from __future__ import annotations

from graph_models.models import Company, SupplyLink
from service.http.errors import Conflict, InvalidField, NotFound
from service.http.pagination import decode_cursor, encode_cursor
from service.registry.schemas import CompanyPage, CompanyPut, CompanyUpdate, LinkPage
from service.store.port import (
    AlreadyExists,
    CompanyStore,
    GraphStore,
    InUse,
    LinkStore,
    WriteOutcome,
)

IDS_MAX = 500  # ids= in one listing: a page's worth of names, bounded like `limit`


def create_company(*, store: CompanyStore, company: Company) -> Company:
    try:
        store.create_company(company)
    except AlreadyExists as exc:
        raise Conflict(f"company {company.id!r} already exists", field="id") from exc
    return company


def put_company(*, store: CompanyStore, company_id: str, body: CompanyPut) -> tuple[Company, bool]:
    """Create or replace; returns the company and whether it was created."""
    company = Company(id=company_id, **body.model_dump())
    (outcome,) = store.upsert_companies([company])
    return company, outcome == WriteOutcome.created


def get_company(*, store: CompanyStore, company_id: str) -> Company:
    company = store.get_company(company_id)
    if company is None:
        raise NotFound(f"no company {company_id!r}")
    return company


def patch_company(*, store: CompanyStore, company_id: str, body: CompanyUpdate) -> Company:
    current = get_company(store=store, company_id=company_id)
    changes = body.model_dump(exclude_unset=True)
    for field in ("name", "kind", "identifiers", "tags", "sites"):
        if field in changes and changes[field] is None:
            raise InvalidField(f"{field} cannot be null", field=field)
    updated = Company(**(current.model_dump() | changes))
    store.upsert_companies([updated])
    return updated


def delete_company(*, store: CompanyStore, company_id: str, force: bool) -> None:
    try:
        deleted = store.delete_company(company_id, force=force)
    except InUse as exc:
        raise Conflict(str(exc) or f"company {company_id!r} is referenced") from exc
    if not deleted:
        raise NotFound(f"no company {company_id!r}")


def list_companies(
    *,
    store: CompanyStore,
    kind: str | None,
    country: str | None,
    q: str | None,
    limit: int,
    cursor: str | None,
    ids: list[str] | None = None,
) -> CompanyPage:
    after = decode_cursor(cursor)
    if after is not None and not isinstance(after, str):
        raise InvalidField("cursor is not one this service issued", field="cursor")
    items = store.list_companies(kind=kind, country=country, q=q, ids=ids, limit=limit + 1,
                                 after=after)
    more = len(items) > limit
    items = items[:limit]
    return CompanyPage(items=items, next_cursor=encode_cursor(items[-1].id) if more else None)


def require_companies(store: CompanyStore, fields: dict[str, str]) -> None:
    """Refuse (422, naming the field) references to companies that do not exist."""
    known = store.existing_company_ids(set(fields.values()))
    for field, company_id in fields.items():
        if company_id not in known:
            raise InvalidField(f"unknown company {company_id!r}", field=field)


def add_link(*, store: GraphStore, link: SupplyLink) -> tuple[SupplyLink, bool]:
    """Record a supply link; returns it and whether it was new."""
    require_companies(store, {"buyer_id": link.buyer_id, "supplier_id": link.supplier_id})
    (outcome,) = store.add_links([link])
    return link, outcome == WriteOutcome.created


def list_links(
    *,
    store: LinkStore,
    buyer_id: str | None,
    supplier_id: str | None,
    limit: int,
    cursor: str | None,
) -> LinkPage:
    after = decode_cursor(cursor)
    if after is not None and not (isinstance(after, list) and len(after) == 2
                                  and all(isinstance(part, str) for part in after)):
        raise InvalidField("cursor is not one this service issued", field="cursor")
    items = store.list_links(
        buyer_id=buyer_id,
        supplier_id=supplier_id,
        limit=limit + 1,
        after=tuple(after) if after else None,
    )
    more = len(items) > limit
    items = items[:limit]
    next_cursor = encode_cursor(list(items[-1].key)) if more else None
    return LinkPage(items=items, next_cursor=next_cursor)


def delete_link(*, store: LinkStore, buyer_id: str, supplier_id: str) -> None:
    if not store.delete_link(buyer_id, supplier_id):
        raise NotFound(f"no link {buyer_id!r} -> {supplier_id!r}")
