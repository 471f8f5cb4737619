"""/v1/companies: the supplier registry."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from graph_models.models import CompanyId, CompanyKind
from service import registry
from service.api.deps import ERRORS_READ, ERRORS_WRITE, CoverageDep, CursorQuery, StoreDep
from service.idempotency import IdempotencyDep
from service.schemas import (
    CompanyCreate,
    CompanyPage,
    CompanyPut,
    CompanyRead,
    CompanyUpdate,
    UpstreamCompany,
)

router = APIRouter(prefix="/v1/companies", tags=["companies"], responses=ERRORS_READ)


@router.post("", status_code=201, response_model=CompanyRead, responses=ERRORS_WRITE)
def create_company(body: CompanyCreate, store: StoreDep, once: IdempotencyDep) -> Response:
    return once.respond(lambda: (201, registry.create_company(store=store, company=body)))


@router.get("", response_model=CompanyPage)
def list_companies(
    store: StoreDep,
    kind: CompanyKind | None = None,
    country: Annotated[str | None, Query(pattern=r"^[A-Z]{2}$")] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: CursorQuery = None,
) -> CompanyPage:
    return registry.list_companies(
        store=store, kind=kind, country=country, q=q, limit=limit, cursor=cursor
    )


@router.get("/{company_id}", response_model=CompanyRead)
def get_company(company_id: str, store: StoreDep) -> CompanyRead:
    return registry.get_company(store=store, company_id=company_id)


@router.put("/{company_id}", response_model=CompanyRead,
            responses={201: {"description": "Created", "model": CompanyRead}, **ERRORS_WRITE})
def put_company(
    company_id: CompanyId, body: CompanyPut, store: StoreDep, response: Response
) -> CompanyRead:
    company, created = registry.put_company(store=store, company_id=company_id, body=body)
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return company


@router.patch("/{company_id}", response_model=CompanyRead, responses=ERRORS_WRITE)
def patch_company(company_id: str, body: CompanyUpdate, store: StoreDep) -> CompanyRead:
    return registry.patch_company(store=store, company_id=company_id, body=body)


@router.delete("/{company_id}", status_code=204, responses=ERRORS_WRITE)
def delete_company(company_id: str, store: StoreDep, force: bool = False) -> Response:
    registry.delete_company(store=store, company_id=company_id, force=force)
    return Response(status_code=204)


@router.get("/{company_id}/upstream", response_model=list[UpstreamCompany])
def upstream(
    company_id: str, coverage: CoverageDep, depth: Annotated[int, Query(ge=1, le=50)] = 3
) -> list[UpstreamCompany]:
    return coverage.upstream(company_id=company_id, depth=depth)
