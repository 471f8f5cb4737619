"""/v1/companies: the supplier registry."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from graph_models.models import CompanyId, CompanyKind, Identifier
from service.access.keys import Role
from service.composition.deps import CoverageDep, StoreDep
from service.coverage import answers
from service.coverage.schemas import UpstreamCompany
from service.http.openapi import ERRORS_READ, ERRORS_WRITE, CursorQuery
from service.integrations.idempotency import IdempotencyDep
from service.registry import issuing
from service.registry import service as registry
from service.registry.catalog import CatalogEntry
from service.registry.schemas import (
    CompanyCreate,
    CompanyPage,
    CompanyPut,
    CompanyRead,
    CompanyUpdate,
    LinkCreate,
    LinkPage,
    LinkRead,
    RequestCreate,
    RequestRead,
)

companies_router = APIRouter(prefix="/v1/companies", tags=["companies"], responses=ERRORS_READ)


@companies_router.post("", status_code=201, response_model=CompanyRead, responses=ERRORS_WRITE)
def create_company(body: CompanyCreate, store: StoreDep, once: IdempotencyDep) -> Response:
    return once.respond(lambda: (201, registry.create_company(store=store, company=body)))


@companies_router.get("", response_model=CompanyPage)
def list_companies(
    store: StoreDep,
    kind: CompanyKind | None = None,
    country: Annotated[str | None, Query(pattern=r"^[A-Z]{2}$")] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    ids: Annotated[list[Identifier] | None, Query(
        max_length=registry.IDS_MAX,
        description=f"Only these companies (repeat the parameter, at most "
                    f"{registry.IDS_MAX}): a page's names in one call")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: CursorQuery = None,
) -> CompanyPage:
    return registry.list_companies(
        store=store, kind=kind, country=country, q=q, ids=ids, limit=limit, cursor=cursor
    )


@companies_router.get("/{company_id}", response_model=CompanyRead)
def get_company(company_id: str, store: StoreDep) -> CompanyRead:
    return registry.get_company(store=store, company_id=company_id)


@companies_router.put("/{company_id}", response_model=CompanyRead,
            responses={201: {"description": "Created", "model": CompanyRead}, **ERRORS_WRITE})
def put_company(
    company_id: CompanyId, body: CompanyPut, store: StoreDep, response: Response
) -> CompanyRead:
    company, created = registry.put_company(store=store, company_id=company_id, body=body)
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return company


@companies_router.patch("/{company_id}", response_model=CompanyRead, responses=ERRORS_WRITE)
def patch_company(company_id: str, body: CompanyUpdate, store: StoreDep) -> CompanyRead:
    return registry.patch_company(store=store, company_id=company_id, body=body)


@companies_router.delete("/{company_id}", status_code=204, responses=ERRORS_WRITE)
def delete_company(company_id: str, store: StoreDep, force: bool = False) -> Response:
    registry.delete_company(store=store, company_id=company_id, force=force)
    return Response(status_code=204)


@companies_router.get("/{company_id}/upstream", response_model=list[UpstreamCompany])
def upstream(
    company_id: str, coverage: CoverageDep, depth: Annotated[int, Query(ge=1, le=50)] = 3
) -> list[UpstreamCompany]:
    return answers.upstream(coverage, company_id=company_id, depth=depth)


links_router = APIRouter(prefix="/v1/links", tags=["links"], responses=ERRORS_READ)


@links_router.post("", status_code=201, response_model=LinkRead, responses={
    200: {"description": "The link was already stored", "model": LinkRead}, **ERRORS_WRITE})
def add_link(body: LinkCreate, store: StoreDep, once: IdempotencyDep) -> Response:
    def effect() -> tuple[int, LinkRead]:
        link, created = registry.add_link(store=store, link=body)
        return (201 if created else 200), link

    return once.respond(effect)


@links_router.get("", response_model=LinkPage)
def list_links(
    store: StoreDep,
    buyer_id: str | None = None,
    supplier_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
    cursor: CursorQuery = None,
) -> LinkPage:
    return registry.list_links(
        store=store, buyer_id=buyer_id, supplier_id=supplier_id, limit=limit, cursor=cursor
    )


@links_router.delete("/{buyer_id}/{supplier_id}", status_code=204)
def delete_link(buyer_id: str, supplier_id: str, store: StoreDep) -> Response:
    registry.delete_link(store=store, buyer_id=buyer_id, supplier_id=supplier_id)
    return Response(status_code=204)


requests_router = APIRouter(tags=["requests"], responses=ERRORS_READ)


@requests_router.get("/v1/catalog", response_model=list[CatalogEntry])
def catalog() -> list[CatalogEntry]:
    return issuing.list_catalog()


@requests_router.post("/v1/requests", status_code=201, response_model=RequestRead,
                      responses=ERRORS_WRITE)
def issue_request(body: RequestCreate, store: StoreDep, once: IdempotencyDep) -> Response:
    return once.respond(lambda: (201, issuing.issue_request(store=store, body=body)))


@requests_router.get("/v1/requests", response_model=list[RequestRead])
def list_requests(store: StoreDep, request: Request) -> list[RequestRead]:
    listed = issuing.list_requests(store=store)
    who = getattr(request.state, "principal", None)
    if who is not None and who.role == Role.integration:  # only what was sent to it
        listed = [r for r in listed if store.list_cascades(request_id=r.id,
                                                           to_id=who.company_id, limit=1)]
    return listed


@requests_router.get("/v1/requests/{request_id}", response_model=RequestRead)
def get_request(request_id: str, store: StoreDep) -> RequestRead:
    return issuing.get_request(store=store, request_id=request_id)
