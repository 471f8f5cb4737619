"""/v1/links: supply links (the supplier supplies the buyer)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from service import registry
from service.api.deps import ERRORS_READ, ERRORS_WRITE, CursorQuery, StoreDep
from service.idempotency import IdempotencyDep
from service.schemas import LinkCreate, LinkPage, LinkRead

router = APIRouter(prefix="/v1/links", tags=["links"], responses=ERRORS_READ)


@router.post("", status_code=201, response_model=LinkRead, responses={
    200: {"description": "The link was already stored", "model": LinkRead}, **ERRORS_WRITE})
def add_link(body: LinkCreate, store: StoreDep, once: IdempotencyDep) -> Response:
    def effect() -> tuple[int, LinkRead]:
        link, created = registry.add_link(store=store, link=body)
        return (201 if created else 200), link

    return once.respond(effect)


@router.get("", response_model=LinkPage)
def list_links(
    store: StoreDep,
    buyer_id: str | None = None,
    supplier_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
    cursor: CursorQuery = None,
) -> LinkPage:
    return registry.list_links(
        store=store, buyer_id=buyer_id, supplier_id=supplier_id, limit=limit, cursor=cursor
    )


@router.delete("/{buyer_id}/{supplier_id}", status_code=204)
def delete_link(buyer_id: str, supplier_id: str, store: StoreDep) -> Response:
    registry.delete_link(store=store, buyer_id=buyer_id, supplier_id=supplier_id)
    return Response(status_code=204)
