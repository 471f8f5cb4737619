"""/v1/requests/{id}/gaps.csv and .xlsx: follow-up lists for procurement.

Plain `def` routes: the analysis runs in the thread pool."""

from __future__ import annotations

import re

from fastapi import APIRouter, Response

from service import exports
from service.api.deps import ERRORS_READ, AsOfQuery, CoverageDep, StoreDep

router = APIRouter(tags=["exports"], responses=ERRORS_READ)

CSV = "text/csv; charset=utf-8"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _attachment(body: bytes, media_type: str, filename: str) -> Response:
    filename = re.sub(r"[^A-Za-z0-9._-]", "_", filename)
    return Response(body, media_type=media_type,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.get("/v1/requests/{request_id}/gaps.csv", response_class=Response,
            responses={200: {"content": {"text/csv": {}}, "description": "One row per gap"}})
def gaps_csv(
    request_id: str, service: CoverageDep, store: StoreDep, as_of: AsOfQuery = None
) -> Response:
    """One row per gap: the responsible company and its contact, the missing supplier,
    tier, impact."""
    report = exports.follow_up(coverage=service, store=store, request_id=request_id,
                               as_of=as_of)
    return _attachment(exports.gaps_csv(report), CSV, f"{request_id}-gaps.csv")


@router.get("/v1/requests/{request_id}/gaps.xlsx", response_class=Response,
            responses={200: {"content": {XLSX: {}},
                             "description": "Sheets 'Gaps' and 'Overdue and declined'"}})
def gaps_xlsx(
    request_id: str, service: CoverageDep, store: StoreDep, as_of: AsOfQuery = None
) -> Response:
    """The gaps, and the overdue and declined companies on their own sheet."""
    report = exports.follow_up(coverage=service, store=store, request_id=request_id,
                               as_of=as_of)
    return _attachment(exports.gaps_xlsx(report), XLSX, f"{request_id}-gaps.xlsx")
