"""/v1/{companies,links,cascades,acknowledgements}/batch: many writes, one result each."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Response

from service import batches
from service.api.deps import ERRORS_WRITE, StoreDep
from service.errors import InvalidField
from service.idempotency import IdempotencyDep, IdempotentWrite
from service.schemas import BatchCreate, BatchRead, BatchResult
from service.store.port import CascadeStore

router = APIRouter(tags=["batches"], responses=ERRORS_WRITE)


@router.post("/v1/companies/batch", response_model=BatchRead)
def companies_batch(body: BatchCreate, store: StoreDep, once: IdempotencyDep) -> Response:
    return once.respond(lambda: (200, _results(batches.write_companies, store, body, once)))


@router.post("/v1/links/batch", response_model=BatchRead)
def links_batch(body: BatchCreate, store: StoreDep, once: IdempotencyDep) -> Response:
    return once.respond(lambda: (200, _results(batches.write_links, store, body, once)))


@router.post("/v1/cascades/batch", response_model=BatchRead)
def cascades_batch(body: BatchCreate, store: StoreDep, once: IdempotencyDep) -> Response:
    return once.respond(lambda: (200, _results(batches.write_cascades, store, body, once)))


@router.post("/v1/acknowledgements/batch", response_model=BatchRead)
def acknowledgements_batch(body: BatchCreate, store: StoreDep, once: IdempotencyDep) -> Response:
    return once.respond(
        lambda: (
            200,
            _results(batches.write_acknowledgements, store, body, once, posted_by=once.posted_by),
        )
    )


def _results(
    write: Callable[..., list[BatchResult]],
    store: CascadeStore,
    body: BatchCreate,
    once: IdempotentWrite,
    **extra: str | None,
) -> BatchRead:
    limit = once.settings.max_batch_items
    if len(body.items) > limit:
        raise InvalidField(f"at most {limit} items per batch", field="items")
    return BatchRead(results=write(store=store, items=body.items, **extra))
