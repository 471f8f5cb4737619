"""Coverage reads: per-request summary, gaps, uncovered paths, company standing, and
the gap counts dashboards poll. Plain `def` routes: graph work runs in the thread pool."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from service.api.deps import ERRORS_READ, AsOfQuery, CoverageDep, CursorQuery, LimitQuery
from service.coverage import CoverageService
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
async def gap_counts(request: Request) -> Response:
    """Every request's counts; cheap to poll (cached until a write or a deadline). A
    certainly-current answer is served on the event loop; anything else is computed in
    the thread pool."""
    service: CoverageService = request.app.state.coverage  # no Depends: this is the hot path
    body = service.cached_gap_counts_body()
    if body is None:
        body = await run_in_threadpool(service.gap_counts_body)
    return Response(body, media_type="application/json")
