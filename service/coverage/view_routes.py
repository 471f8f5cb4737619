"""/v1/requests/{request_id}/companies/{company_id}/cascade...: a company's cascade view.

Plain `def` routes (the analysis runs in the thread pool). Reads are conditional like the
request's own: the tag is the revision, the instant, the path and query, and whether ids
are masked (an integration key and a staff key get different bodies for one URL)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request, Response

from service.access.keys import Role
from service.composition.deps import CoverageDep, SettingsDep, StoreDep
from service.coverage import exports, view_exports, views
from service.coverage.pseudonyms import Identities
from service.coverage.schemas import CoverageRead, GapPage, UncoveredPathPage
from service.coverage.snapshot import CoverageSnapshot, Reading
from service.http.caching import strong_tag, validated
from service.http.openapi import ERRORS_READ, AsOfQuery, CursorQuery, LimitQuery, Responses

router = APIRouter(tags=["cascade views"], responses=ERRORS_READ)
VIEW = "/v1/requests/{request_id}/companies/{company_id}/cascade"
NOT_MODIFIED: Responses = {304: {"description": "Not modified: the If-None-Match tag is current"}}


def _identities(request: Request, settings: SettingsDep, reading: Reading) -> Identities:
    who = getattr(request.state, "principal", None)
    return views.identities_for(reading, who, settings.pseudonym_secret.get_secret_value()
                                .encode())


def _conditional(request: Request, snapshot: CoverageSnapshot, settings: SettingsDep,
                 request_id: str, company_id: str, as_of: Any,
                 body: Callable[[Reading, Identities], Any]) -> Response:
    reading = snapshot.read_view(request_id, company_id, as_of)
    who = getattr(request.state, "principal", None)
    masked = who is not None and who.role == Role.integration
    variant = f"{request.url.path}?{sorted(request.query_params.multi_items())}|{masked}"
    tag = strong_tag(f"{reading.revision}|{reading.instant}|{variant}")
    return validated(request, tag,
                     lambda: body(reading, _identities(request, settings, reading)))


@router.get(VIEW, response_model=CoverageRead, responses=NOT_MODIFIED)
def cascade_view(request_id: str, company_id: str, service: CoverageDep,
                 settings: SettingsDep, request: Request, as_of: AsOfQuery = None) -> Response:
    """The coverage of the request as if `company_id` had issued it: only the cascade
    events on chains starting at that company count, tiers are counted from it."""
    return _conditional(request, service, settings, request_id, company_id, as_of,
                        lambda reading, _: views.view_coverage(reading, as_of=as_of))


@router.get(f"{VIEW}/gaps", response_model=GapPage, responses=NOT_MODIFIED)
def cascade_view_gaps(request_id: str, company_id: str, service: CoverageDep,
                      settings: SettingsDep, request: Request, limit: LimitQuery = 100,
                      cursor: CursorQuery = None, as_of: AsOfQuery = None) -> Response:
    """The view's gaps, most impactful first."""
    return _conditional(request, service, settings, request_id, company_id, as_of,
                        lambda reading, ids: views.view_gap_page(
                            service, reading, ids, limit=limit, cursor=cursor))


@router.get(f"{VIEW}/uncovered-paths", response_model=UncoveredPathPage,
            responses=NOT_MODIFIED)
def cascade_view_paths(request_id: str, company_id: str, service: CoverageDep,
                       settings: SettingsDep, request: Request, limit: LimitQuery = 50,
                       cursor: CursorQuery = None, target: str | None = None,
                       as_of: AsOfQuery = None) -> Response:
    """Uncovered paths from the company to a leaf (or to `target`, named as the view
    shows it)."""
    return _conditional(request, service, settings, request_id, company_id, as_of,
                        lambda reading, ids: views.view_path_page(
                            reading, ids, limit=limit, cursor=cursor, target=target))


def _follow_up(request: Request, service: CoverageSnapshot, store: StoreDep,
               settings: SettingsDep, request_id: str, company_id: str,
               as_of: Any) -> exports.FollowUp:
    reading = service.read_view(request_id, company_id, as_of)
    return view_exports.view_follow_up(coverage=service, store=store, reading=reading,
                                       ids=_identities(request, settings, reading))


@router.get(f"{VIEW}/gaps.csv", response_class=Response,
            responses={200: {"content": {"text/csv": {}}, "description": "One row per gap"}})
def cascade_view_gaps_csv(request_id: str, company_id: str, service: CoverageDep,
                          store: StoreDep, settings: SettingsDep, request: Request,
                          as_of: AsOfQuery = None) -> Response:
    """The gaps the company and its direct suppliers are responsible for."""
    report = _follow_up(request, service, store, settings, request_id, company_id, as_of)
    return exports.attachment(exports.gaps_csv(report), exports.CSV,
                              f"{request_id}-{company_id}-cascade-gaps.csv")


@router.get(f"{VIEW}/gaps.xlsx", response_class=Response,
            responses={200: {"content": {exports.XLSX: {}},
                             "description": "Sheets 'Gaps' and 'Overdue and declined'"}})
def cascade_view_gaps_xlsx(request_id: str, company_id: str, service: CoverageDep,
                           store: StoreDep, settings: SettingsDep, request: Request,
                           as_of: AsOfQuery = None) -> Response:
    """The same gaps, and the company's overdue and declined direct suppliers."""
    report = _follow_up(request, service, store, settings, request_id, company_id, as_of)
    return exports.attachment(exports.gaps_xlsx(report), exports.XLSX,
                              f"{request_id}-{company_id}-cascade-gaps.xlsx")
