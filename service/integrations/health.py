"""Liveness, readiness and metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from service.composition.deps import ServicesDep, services_of
from service.http.openapi import ERRORS_ACCESS
from service.integrations.metrics import CONTENT_TYPE

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process answers."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "Store unreachable, or the snapshot "
                                                   "still loading"}})
def readyz(services: ServicesDep) -> JSONResponse:
    """The snapshot is loaded and the store answers; 503 while either is not so."""
    if not services.warmup.ready:
        return JSONResponse({"status": "loading the snapshot"}, status_code=503,
                            headers={"Retry-After": "1"})
    if services.store.ping():
        return JSONResponse({"status": "ready"})
    return JSONResponse({"status": "store unavailable"}, status_code=503,
                        headers={"Retry-After": "5"})


@router.get("/metrics", response_class=Response,
            responses={200: {"content": {CONTENT_TYPE: {}},
                             "description": "Prometheus text format"}, **ERRORS_ACCESS})
def metrics(request: Request) -> Response:
    """HTTP, coverage and store metrics (a viewer key, unless CASCADE_METRICS_PUBLIC)."""
    return Response(services_of(request).metrics.exposition(), media_type=CONTENT_TYPE)
