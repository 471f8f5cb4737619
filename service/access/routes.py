"""/v1/keys and /v1/audit: API keys and the audit trail (admin keys; any key reads itself
at /v1/keys/me)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import Field, StrictFloat

from graph_models.models import UtcDateTime, from_epoch_us, to_epoch_us, utc_now
from service.access.keys import Role, issue_key
from service.composition.deps import StoreDep, services_of
from service.http.errors import InvalidField, NotFound
from service.http.openapi import ERRORS_READ, ERRORS_WRITE
from service.http.schemas import Payload
from service.integrations.idempotency import IdempotencyDep
from service.store.port import ApiKey, AuditEntry

router = APIRouter(tags=["access"], responses=ERRORS_READ)


class KeyCreate(Payload):
    role: Role
    company_id: str | None = Field(default=None, description="required for integration keys")
    name: str = Field(default="", max_length=200)
    expires_days: StrictFloat | None = Field(default=None, gt=0, le=3650)  # not `true`


class KeyRead(Payload):
    id: str
    role: Role
    company_id: str | None
    name: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


class KeyCreated(KeyRead):
    key: str | None = Field(description="the key itself: shown once, never stored (null "
                            "in the replay of a retried request)")
    secret_withheld: bool = Field(default=False, description="true in a replay: the key "
                                  "was created by the first request and is not shown again")


class AuditRead(Payload):
    seq: int
    at: datetime
    key_id: str
    method: str
    path: str
    status: int


class AuditPage(Payload):
    items: list[AuditRead]
    next_before: int | None = Field(description="pass as before= for older entries")


def key_read(key: ApiKey) -> KeyRead:
    return KeyRead(
        id=key.id,
        role=Role(key.role),
        company_id=key.company_id,
        name=key.name,
        created_at=from_epoch_us(key.created_at_us),
        expires_at=None if key.expires_at_us is None else from_epoch_us(key.expires_at_us),
        revoked_at=None if key.revoked_at_us is None else from_epoch_us(key.revoked_at_us),
    )


def create_key(store: StoreDep, body: KeyCreate) -> KeyCreated:
    if body.company_id is not None and not store.existing_company_ids([body.company_id]):
        raise InvalidField(f"unknown company {body.company_id!r}", field="company_id")
    key, text = issue_key(
        store,
        role=body.role,
        company_id=body.company_id,
        name=body.name,
        expires_days=body.expires_days,
    )
    return KeyCreated(**key_read(key).model_dump(), key=text)


@router.post("/v1/keys", status_code=201, response_model=KeyCreated, responses=ERRORS_WRITE,
             description="Issue an API key; `key` is shown in this answer only (the "
             "service keeps its SHA-256). A retry with the same `Idempotency-Key` is "
             "answered 201 with the same key id and `key: null`, `secret_withheld: true`: "
             "the key itself is never stored, so revoke that key id and issue a new one "
             "if its text was lost.")
def post_key(body: KeyCreate, store: StoreDep, once: IdempotencyDep) -> Response:
    return once.respond(lambda: (201, create_key(store, body)), secrets_in=("key",))


@router.get("/v1/keys", response_model=list[KeyRead])
def list_keys(store: StoreDep) -> list[KeyRead]:
    return [key_read(key) for key in store.list_api_keys()]


@router.get("/v1/keys/me", response_model=KeyRead)
def my_key(store: StoreDep, request: Request) -> KeyRead:
    """The calling key: its role and, for an integration key, its company (what the pages
    ask first, to show only what the key may read)."""
    key = store.get_api_key(request.state.principal.key_id)
    if key is None:  # revoked and purged between the key check and here
        raise NotFound("key not found")
    return key_read(key)


@router.delete("/v1/keys/{key_id}", status_code=204)
def revoke_key(key_id: str, store: StoreDep, request: Request) -> Response:
    if not store.revoke_api_key(key_id, at_us=to_epoch_us(utc_now())):
        raise NotFound(f"key {key_id!r} not found")
    services_of(request).keys.forget(key_id)  # this worker refuses it at once
    return Response(status_code=204)


@router.get("/v1/audit", response_model=AuditPage)
def audit(
    store: StoreDep,
    key_id: str | None = None,
    since: UtcDateTime | None = None,
    until: UtcDateTime | None = None,
    before: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,  # a stored seq
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> AuditPage:
    entries = store.list_audit(
        key_id=key_id,
        since_us=None if since is None else to_epoch_us(since),
        until_us=None if until is None else to_epoch_us(until),
        before_seq=before,
        limit=limit,
    )
    return AuditPage(
        items=[_audit_read(e) for e in entries],
        next_before=entries[-1].seq if len(entries) == limit else None,
    )


def _audit_read(entry: AuditEntry) -> AuditRead:
    return AuditRead(
        seq=entry.seq,
        at=from_epoch_us(entry.at_us),
        key_id=entry.key_id,
        method=entry.method,
        path=entry.path,
        status=entry.status,
    )
