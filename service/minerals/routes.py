"""/v1/requests/{id}/minerals/...: the consolidated smelter list, a company's rolled-up
CMRT / EMRT declaration, and the supplier declarations the cascade contradicts.

Plain `def` routes: they read the whole supplier graph, in the thread pool."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Query, Response

from service.composition.deps import CoverageDep, StoreDep
from service.http.openapi import ERRORS_READ, ERRORS_WRITE, AsOfQuery, CursorQuery, LimitQuery
from service.integrations.idempotency import Effect, IdempotencyDep
from service.minerals import exports, rounds
from service.minerals import service as minerals
from service.minerals.rounds import ReissueCreate, ReissueRead
from service.minerals.schemas import (
    DeclarationRead,
    ReconciliationPage,
    RoundsRead,
    SmelterPage,
)

router = APIRouter(tags=["minerals"], responses=ERRORS_READ)

CompanyQuery = Annotated[str | None, Query(
    description="The company asked about (default: the request's issuer)")]
CSV = "text/csv; charset=utf-8"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _attachment(body: bytes, media_type: str, filename: str) -> Response:
    filename = re.sub(r"[^A-Za-z0-9._-]", "_", filename)
    return Response(body, media_type=media_type,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.get("/v1/requests/{request_id}/minerals/smelters", response_model=SmelterPage)
def smelters(store: StoreDep, request_id: str, company: CompanyQuery = None,
             metal: str | None = None, limit: LimitQuery = 100,
             cursor: CursorQuery = None) -> SmelterPage:
    """The smelters listed in the files of the companies upstream of `company`."""
    return minerals.smelters(store=store, request_id=request_id, company=company, metal=metal,
                             limit=limit, cursor=cursor)


@router.get("/v1/requests/{request_id}/minerals/declaration", response_model=DeclarationRead)
def declaration(store: StoreDep, request_id: str,
                company: CompanyQuery = None) -> DeclarationRead:
    """The company's declaration, rolled up from its relevant direct suppliers' files."""
    return minerals.declaration(store=store, request_id=request_id, company=company)


@router.get("/v1/requests/{request_id}/minerals/reconciliation",
            response_model=ReconciliationPage)
def reconciliation(store: StoreDep, request_id: str) -> ReconciliationPage:
    """Supplier declarations the cascade contradicts."""
    return minerals.reconciliation(store=store, request_id=request_id)


@router.get("/v1/requests/{request_id}/minerals/reconciliation.csv", response_class=Response)
def reconciliation_csv(store: StoreDep, request_id: str) -> Response:
    page = minerals.reconciliation(store=store, request_id=request_id)
    return _attachment(exports.reconciliation_csv(page), CSV,
                       f"{request_id}-minerals-reconciliation.csv")


@router.get("/v1/requests/{request_id}/minerals/reconciliation.xlsx", response_class=Response)
def reconciliation_xlsx(store: StoreDep, request_id: str) -> Response:
    page = minerals.reconciliation(store=store, request_id=request_id)
    return _attachment(exports.reconciliation_xlsx(page), XLSX,
                       f"{request_id}-minerals-reconciliation.xlsx")


@router.post("/v1/requests/{request_id}/reissue", status_code=201, response_model=ReissueRead,
             responses=ERRORS_WRITE, tags=["requests"])
def reissue(store: StoreDep, request_id: str, body: ReissueCreate,
            once: IdempotencyDep) -> Response:
    """The next survey round: a new version superseding this one. A retry with the same
    `Idempotency-Key` is answered with the first response."""
    def prepare() -> Effect:  # the old round and its forwards are read before the write
        round_ = rounds.next_round(store=store, request_id=request_id, body=body)
        return lambda: (201, rounds.record_round(store=store, round_=round_))

    return once.respond_after(prepare)


@router.get("/v1/requests/{request_id}/rounds", response_model=RoundsRead, tags=["requests"])
def survey_rounds(store: StoreDep, service: CoverageDep, request_id: str,
                  as_of: AsOfQuery = None) -> RoundsRead:
    """The rounds of the survey side by side, oldest first: each round's coverage when
    the next was issued (the last: at `as_of`, default now), and which companies each
    round newly covered or lost against the one before."""
    return rounds.survey_rounds(store=store, snapshot=service, request_id=request_id,
                                as_of=as_of)
