"""/v1/cascades and /v1/acknowledgements: what was forwarded and who answered."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from service import events
from service.api.deps import ERRORS_READ, ERRORS_WRITE, StoreDep
from service.idempotency import IdempotencyDep
from service.schemas import (
    AcknowledgementCreate,
    AcknowledgementRead,
    CascadeCreate,
    CascadeRead,
)

router = APIRouter(responses=ERRORS_READ)
Limit = Annotated[int, Query(ge=1, le=5000)]


@router.post("/v1/cascades", status_code=201, response_model=CascadeRead, tags=["cascades"],
             responses={200: {"description": "The same event was already recorded",
                              "model": CascadeRead}, **ERRORS_WRITE})
def record_cascade(body: CascadeCreate, store: StoreDep, once: IdempotencyDep) -> Response:
    def effect() -> tuple[int, CascadeRead]:
        event, created = events.record_cascade(store=store, body=body)
        return (201 if created else 200), event

    return once.respond(effect)


@router.get("/v1/cascades", response_model=list[CascadeRead], tags=["cascades"])
def list_cascades(
    store: StoreDep,
    request_id: str | None = None,
    from_id: str | None = None,
    to_id: str | None = None,
    limit: Limit = 1000,
) -> list[CascadeRead]:
    return events.list_cascades(
        store=store, request_id=request_id, from_id=from_id, to_id=to_id, limit=limit
    )


@router.post("/v1/acknowledgements", status_code=201, response_model=AcknowledgementRead,
             tags=["acknowledgements"],
             responses={200: {"description": "The same answer was already recorded",
                              "model": AcknowledgementRead}, **ERRORS_WRITE})
def record_acknowledgement(
    body: AcknowledgementCreate, store: StoreDep, once: IdempotencyDep
) -> Response:
    def effect() -> tuple[int, AcknowledgementRead]:
        ack, created = events.record_acknowledgement(
            store=store, body=body, posted_by=once.posted_by
        )
        return (201 if created else 200), ack

    return once.respond(effect)


@router.get("/v1/acknowledgements", response_model=list[AcknowledgementRead],
            tags=["acknowledgements"])
def list_acknowledgements(
    store: StoreDep,
    request_id: str | None = None,
    company_id: str | None = None,
    limit: Limit = 1000,
) -> list[AcknowledgementRead]:
    return events.list_acknowledgements(
        store=store, request_id=request_id, company_id=company_id, limit=limit
    )
