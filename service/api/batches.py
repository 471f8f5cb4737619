"""/v1/{companies,links,cascades,acknowledgements}/batch: many writes, one result each."""

from __future__ import annotations

from fastapi import APIRouter

from service import batches
from service.api.deps import StoreDep
from service.schemas import BatchCreate, BatchRead

router = APIRouter(tags=["batches"])


@router.post("/v1/companies/batch", response_model=BatchRead)
def companies_batch(body: BatchCreate, store: StoreDep) -> BatchRead:
    return BatchRead(results=batches.write_companies(store=store, items=body.items))


@router.post("/v1/links/batch", response_model=BatchRead)
def links_batch(body: BatchCreate, store: StoreDep) -> BatchRead:
    return BatchRead(results=batches.write_links(store=store, items=body.items))


@router.post("/v1/cascades/batch", response_model=BatchRead)
def cascades_batch(body: BatchCreate, store: StoreDep) -> BatchRead:
    return BatchRead(results=batches.write_cascades(store=store, items=body.items))


@router.post("/v1/acknowledgements/batch", response_model=BatchRead)
def acknowledgements_batch(body: BatchCreate, store: StoreDep) -> BatchRead:
    return BatchRead(results=batches.write_acknowledgements(store=store, items=body.items))
