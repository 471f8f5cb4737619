"""/v1/requests and /v1/catalog: policy requests and the built-in catalog."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from service import issuing
from service.api.deps import ERRORS_READ, ERRORS_WRITE, StoreDep
from service.auth import Role
from service.catalog import CatalogEntry
from service.idempotency import IdempotencyDep
from service.schemas import RequestCreate, RequestRead

router = APIRouter(tags=["requests"], responses=ERRORS_READ)


@router.get("/v1/catalog", response_model=list[CatalogEntry])
def catalog() -> list[CatalogEntry]:
    return issuing.list_catalog()


@router.post("/v1/requests", status_code=201, response_model=RequestRead, responses=ERRORS_WRITE)
def issue_request(body: RequestCreate, store: StoreDep, once: IdempotencyDep) -> Response:
    return once.respond(lambda: (201, issuing.issue_request(store=store, body=body)))


@router.get("/v1/requests", response_model=list[RequestRead])
def list_requests(store: StoreDep, request: Request) -> list[RequestRead]:
    listed = issuing.list_requests(store=store)
    who = getattr(request.state, "principal", None)
    if who is not None and who.role == Role.integration:  # only what was sent to it
        listed = [r for r in listed if store.list_cascades(request_id=r.id,
                                                           to_id=who.company_id, limit=1)]
    return listed


@router.get("/v1/requests/{request_id}", response_model=RequestRead)
def get_request(request_id: str, store: StoreDep) -> RequestRead:
    return issuing.get_request(store=store, request_id=request_id)
