"""Coverage reads: per-request summary, gaps, uncovered paths, company standing, and
the gap counts dashboards poll. Plain `def` routes: graph work runs in the thread pool."""

from __future__ import annotations

from fastapi import APIRouter, Response

from service.api.deps import ERRORS_READ, AsOfQuery, CoverageDep, CursorQuery, LimitQuery
from service.schemas import (
    CompanyStanding,
    CoverageRead,
    GapCountsRead,
    GapPage,
    UncoveredPathPage,
)

router = APIRouter(tags=["coverage"], responses=ERRORS_READ)


@router.get("/v1/requests/{request_id}/coverage", response_model=CoverageRead)
def coverage(request_id: str, service: CoverageDep, as_of: AsOfQuery = None) -> CoverageRead:
    return service.coverage(request_id=request_id, as_of=as_of)


@router.get("/v1/requests/{request_id}/gaps", response_model=GapPage)
def gaps(
    request_id: str,
    service: CoverageDep,
    limit: LimitQuery = 100,
    cursor: CursorQuery = None,
    as_of: AsOfQuery = None,
) -> GapPage:
    return service.gaps(request_id=request_id, as_of=as_of, limit=limit, cursor=cursor)


@router.get("/v1/requests/{request_id}/uncovered-paths", response_model=UncoveredPathPage)
def uncovered_paths(
    request_id: str,
    service: CoverageDep,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
    target: str | None = None,
    as_of: AsOfQuery = None,
) -> UncoveredPathPage:
    return service.uncovered(
        request_id=request_id, as_of=as_of, limit=limit, cursor=cursor, target=target
    )


@router.get("/v1/requests/{request_id}/companies/{company_id}", response_model=CompanyStanding)
def company_standing(
    request_id: str, company_id: str, service: CoverageDep, as_of: AsOfQuery = None
) -> CompanyStanding:
    return service.standing(request_id=request_id, company_id=company_id, as_of=as_of)


@router.get("/v1/gap-counts", response_model=GapCountsRead)
def gap_counts(service: CoverageDep) -> Response:
    """Every request's counts; cheap to poll (cached until a write or a deadline)."""
    return Response(service.gap_counts_body(), media_type="application/json")
