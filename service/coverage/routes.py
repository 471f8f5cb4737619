"""/v1/requests/{id}/gaps.csv and .xlsx: follow-up lists for procurement.

Plain `def` routes: the analysis runs in the thread pool."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BeforeValidator
from starlette.concurrency import run_in_threadpool

from graph_models.models import UtcDateTime
from service.composition.deps import CoverageDep, StoreDep, services_of
from service.coverage import answers, exports, view_routes
from service.coverage.exports import CSV, XLSX
from service.coverage.exports import attachment as _attachment
from service.coverage.freshness import BOOKMARK_HEADER
from service.coverage.schemas import (
    CompanyStanding,
    CoverageHistory,
    CoverageRead,
    GapCountsRead,
    GapPage,
    UncoveredPathPage,
)
from service.coverage.snapshot import CoverageSnapshot, Reading
from service.http.caching import CACHE_CONTROL, matches, strong_tag, validated
from service.http.openapi import ERRORS_READ, AsOfQuery, CursorQuery, LimitQuery, Responses
from service.incidents.reporting import survey_report

exports_router = APIRouter(tags=["exports"], responses=ERRORS_READ)



@exports_router.get("/v1/requests/{request_id}/gaps.csv", response_class=Response,
            responses={200: {"content": {"text/csv": {}}, "description": "One row per gap"}})
def gaps_csv(
    request_id: str, service: CoverageDep, store: StoreDep, request: Request,
    as_of: AsOfQuery = None,
) -> Response:
    """One row per gap: the responsible company and its contact, the missing supplier,
    tier, impact."""
    report = exports.follow_up(coverage=service, store=store, request_id=request_id,
                               as_of=as_of, contacts=exports.contacts_visible(request))
    return _attachment(exports.gaps_csv(report), CSV, f"{request_id}-gaps.csv")


@exports_router.get("/v1/requests/{request_id}/gaps.xlsx", response_class=Response,
            responses={200: {"content": {XLSX: {}},
                             "description": "Sheets 'Gaps' and 'Overdue and declined'"}})
def gaps_xlsx(
    request_id: str, service: CoverageDep, store: StoreDep, request: Request,
    as_of: AsOfQuery = None,
) -> Response:
    """The gaps, and the overdue and declined companies on their own sheet."""
    report = exports.follow_up(coverage=service, store=store, request_id=request_id,
                               as_of=as_of, contacts=exports.contacts_visible(request))
    return _attachment(exports.gaps_xlsx(report), XLSX, f"{request_id}-gaps.xlsx")


router = APIRouter(tags=["coverage"], responses=ERRORS_READ)
# The dashboards' hot path, included first: a request is matched router by router, route
# by route, and /v1/gap-counts behind a dozen routers paid for every one of them.
dashboard_router = APIRouter(tags=["coverage"], responses=ERRORS_READ)
MAX_HISTORY_POINTS = 1000
NOT_MODIFIED: Responses = {304: {"description": "Not modified: the If-None-Match tag is current"}}


def conditional(request: Request, snapshot: CoverageSnapshot, request_id: str,
                as_of: Any, body: Callable[[Reading], Any]) -> Response:
    """The answer read once from the snapshot: its tag is the revision, the instant it
    is evaluated at (with no `as_of`, the start of the current analysis, which holds until
    a write or the next state change by the clock) and the path and query; the body is
    computed only when the client does not hold that tag."""
    reading = snapshot.read(request_id, as_of)
    variant = f"{request.url.path}?{sorted(request.query_params.multi_items())}"
    tag = strong_tag(f"{reading.revision}|{reading.instant}|{variant}")
    return validated(request, tag, lambda: body(reading))


@router.get("/v1/requests/{request_id}/coverage", response_model=CoverageRead,
            responses=NOT_MODIFIED)
def coverage(request_id: str, service: CoverageDep, store: StoreDep, request: Request,
             as_of: AsOfQuery = None) -> Response:
    return conditional(request, service, request_id, as_of,
                       lambda reading: survey_report(
                           store, reading, answers.coverage_read(reading, as_of=as_of)))


def _seconds_as_number(value: Any) -> Any:
    """"43200" in a query string means seconds, as the number 43200 would."""
    try:
        return float(value) if isinstance(value, str) else value
    except ValueError:
        return value  # an ISO 8601 duration, or nonsense for the validator to name


@router.get("/v1/requests/{request_id}/coverage/history", response_model=CoverageHistory,
            response_model_by_alias=True)
def coverage_history(
    request_id: str,
    service: CoverageDep,
    start: Annotated[UtcDateTime | None, Query(
        alias="from", description="First instant (ISO 8601 with offset); default: the issue")
    ] = None,
    to: Annotated[UtcDateTime | None, Query(description="Last instant; default now")] = None,
    step: Annotated[timedelta, BeforeValidator(_seconds_as_number), Query(
        description="ISO 8601 duration (P1D, PT6H) or seconds; default one day")
    ] = timedelta(days=1),
) -> CoverageHistory:
    """The counts over time, for trend charts: the coverage at `from`, `from + step`, ...
    up to `to` (at most 1,000 points)."""
    return answers.history(service, request_id=request_id, start=start, to=to, step=step,
                           max_points=MAX_HISTORY_POINTS)


@router.get("/v1/requests/{request_id}/gaps", response_model=GapPage, responses=NOT_MODIFIED)
def gaps(
    request_id: str,
    service: CoverageDep,
    request: Request,
    limit: LimitQuery = 100,
    cursor: CursorQuery = None,
    as_of: AsOfQuery = None,
) -> Response:
    return conditional(request, service, request_id, as_of, lambda reading: answers.gap_page(
        service, reading, limit=limit, cursor=cursor))


@router.get("/v1/requests/{request_id}/uncovered-paths", response_model=UncoveredPathPage,
            responses=NOT_MODIFIED)
def uncovered_paths(
    request_id: str,
    service: CoverageDep,
    request: Request,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
    target: str | None = None,
    as_of: AsOfQuery = None,
) -> Response:
    return conditional(request, service, request_id, as_of,
                       lambda reading: answers.uncovered_path_page(
                           reading, limit=limit, cursor=cursor, target=target))


@router.get("/v1/requests/{request_id}/companies/{company_id}", response_model=CompanyStanding,
            responses=NOT_MODIFIED)
def company_standing(
    request_id: str, company_id: str, service: CoverageDep, request: Request,
    as_of: AsOfQuery = None,
) -> Response:
    return conditional(request, service, request_id, as_of, lambda reading: answers.standing(
        reading, company_id=company_id))


@dashboard_router.get("/v1/gap-counts", response_model=GapCountsRead, responses=NOT_MODIFIED)
async def gap_counts(request: Request) -> Response:
    """Every request's counts; cheap to poll (cached until a write or a deadline). A
    certainly-current answer is served on the event loop; anything else is computed in
    the thread pool."""
    dashboard = services_of(request).dashboard  # no Depends: this is the hot path
    # a client's bookmark asks for at least its own write: never the cached body
    held = None if BOOKMARK_HEADER in request.headers else dashboard.cached_body()
    if held is None:
        held = await run_in_threadpool(dashboard.body)
    headers = {"ETag": held.etag, "Cache-Control": CACHE_CONTROL}
    if matches(request.headers.get("if-none-match"), held.etag):
        return Response(status_code=304, headers=headers)
    return Response(held.json, media_type="application/json", headers=headers)


router.include_router(view_routes.router)  # a company's cascade view: same tag, same rules
