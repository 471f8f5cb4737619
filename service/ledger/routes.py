"""/v1/cascades and /v1/acknowledgements: what was forwarded and who answered."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from service.composition.deps import SettingsDep, StoreDep
from service.http.errors import InvalidField
from service.http.openapi import ERRORS_READ, ERRORS_WRITE, CursorQuery
from service.integrations.idempotency import IdempotencyDep, IdempotentWrite
from service.ledger import batches
from service.ledger import service as events
from service.ledger.schemas import (
    AcknowledgementCreate,
    AcknowledgementRead,
    BatchCreate,
    BatchRead,
    BatchResult,
    CascadeCreate,
    CascadeRead,
    CascadeRecorded,
)
from service.store.port import CascadeStore

events_router = APIRouter(responses=ERRORS_READ)
Limit = Annotated[int, Query(ge=1, le=5000)]


@events_router.post("/v1/cascades", status_code=201, response_model=CascadeRecorded,
                    tags=["cascades"], responses={200: {
                        "description": "The link was already forwarded: `outcome` says "
                        "whether this earlier `sent_at` replaced the held one (`updated`) "
                        "or the held one stays (`unchanged`)", "model": CascadeRecorded},
                        **ERRORS_WRITE})
def record_cascade(body: CascadeCreate, store: StoreDep, once: IdempotencyDep) -> Response:
    def effect() -> tuple[int, CascadeRecorded]:
        recorded = events.record_cascade(store=store, body=body)
        return (201 if recorded.outcome == "created" else 200), recorded

    return once.respond(effect)


@events_router.get("/v1/cascades", response_model=list[CascadeRead], tags=["cascades"])
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


@events_router.post("/v1/acknowledgements", status_code=201, response_model=AcknowledgementRead,
             tags=["acknowledgements"],
             responses={200: {"description": "The same answer was already recorded",
                              "model": AcknowledgementRead}, **ERRORS_WRITE})
def record_acknowledgement(
    body: AcknowledgementCreate, store: StoreDep, once: IdempotencyDep
) -> Response:
    def effect() -> tuple[int, AcknowledgementRead]:
        ack, created = events.record_acknowledgement(
            store=store, body=body, posted_by=once.posted_by,
            max_evidence_bytes=once.settings.max_evidence_bytes,
        )
        return (201 if created else 200), ack

    return once.respond(effect)


@events_router.get("/v1/acknowledgements", response_model=list[AcknowledgementRead],
                   tags=["acknowledgements"], responses={200: {"headers": {"Link": {
                       "description": '`<...&cursor=...>; rel="next"` while more answers '
                       "follow", "schema": {"type": "string"}}}}})
def list_acknowledgements(
    store: StoreDep,
    settings: SettingsDep,
    request: Request,
    response: Response,
    request_id: str | None = None,
    company_id: str | None = None,
    limit: Limit = 1000,
    cursor: CursorQuery = None,
) -> list[AcknowledgementRead]:
    """History, newest first: at most `limit` answers, fewer when their body would exceed
    `max_page_bytes`; the next page is in the `Link` header."""
    page, following = events.acknowledgement_page(
        store=store, request_id=request_id, company_id=company_id, limit=limit,
        cursor=cursor, max_bytes=settings.max_page_bytes)
    if following is not None:
        following_url = request.url.include_query_params(cursor=following)
        response.headers["Link"] = f'<{following_url.path}?{following_url.query}>; rel="next"'
    return page


batches_router = APIRouter(tags=["batches"], responses=ERRORS_WRITE)


@batches_router.post("/v1/companies/batch", response_model=BatchRead)
def companies_batch(body: BatchCreate, store: StoreDep, once: IdempotencyDep) -> Response:
    return once.respond(lambda: (200, _results(batches.write_companies, store, body, once)))


@batches_router.post("/v1/links/batch", response_model=BatchRead)
def links_batch(body: BatchCreate, store: StoreDep, once: IdempotencyDep) -> Response:
    return once.respond(lambda: (200, _results(batches.write_links, store, body, once)))


@batches_router.post("/v1/cascades/batch", response_model=BatchRead)
def cascades_batch(body: BatchCreate, store: StoreDep, once: IdempotencyDep) -> Response:
    return once.respond(lambda: (200, _results(batches.write_cascades, store, body, once)))


@batches_router.post("/v1/acknowledgements/batch", response_model=BatchRead)
def acknowledgements_batch(body: BatchCreate, store: StoreDep, once: IdempotencyDep) -> Response:
    return once.respond(
        lambda: (
            200,
            _results(batches.write_acknowledgements, store, body, once, posted_by=once.posted_by,
                     max_evidence_bytes=once.settings.max_evidence_bytes),
        )
    )


def _results(
    write: Callable[..., list[BatchResult]],
    store: CascadeStore,
    body: BatchCreate,
    once: IdempotentWrite,
    **extra: str | int | None,
) -> BatchRead:
    limit = once.settings.max_batch_items
    if len(body.items) > limit:
        raise InvalidField(f"at most {limit} items per batch", field="items")
    return BatchRead(results=write(store=store, items=body.items, **extra))
