"""Service functions for policy requests: issue (in full or from the catalog), read."""

from __future__ import annotations

import uuid
from typing import Any

from graph_models.models import PolicyRequest, utc_now
from service.http.errors import Conflict, InvalidField, NotFound
from service.registry.catalog import CATALOG, CatalogEntry, catalog_entry
from service.registry.schemas import RequestCreate
from service.registry.service import require_companies
from service.store.port import AlreadyExists, CascadeStore

__all__ = ["get_request", "issue_request", "list_catalog", "list_requests"]


def list_catalog() -> list[CatalogEntry]:
    return CATALOG


def _catalog_defaults(store: CascadeStore, body: RequestCreate) -> dict[str, Any]:
    """Fields a catalog entry supplies; the superseded request is the issuer's latest
    request issued from the entry this one supersedes."""
    if body.catalog_id is None:
        return {}
    entry = catalog_entry(body.catalog_id)
    if entry is None:
        raise InvalidField(f"unknown catalog id {body.catalog_id!r}", field="catalog_id")
    defaults = entry.model_dump(
        include={"topic", "title", "description", "applies_to", "mandatory", "due_days",
                 "valid_days", "catalog_id", "version"}
    )
    if entry.supersedes:
        older = [
            r for r in store.list_requests()
            if r.catalog_id == entry.supersedes and r.issuer_id == body.issuer_id
        ]
        if older:
            defaults["supersedes"] = max(older, key=lambda r: r.issued_at).id
    return defaults


def _new_request_id(body: RequestCreate) -> str:
    stem = body.catalog_id or body.topic or "request"
    return f"{stem}-{uuid.uuid4().hex[:10]}"


def issue_request(*, store: CascadeStore, body: RequestCreate) -> PolicyRequest:
    require_companies(store, {"issuer_id": body.issuer_id})
    fields = _catalog_defaults(store, body) | body.model_dump(
        exclude_unset=True, exclude_none=True
    )
    for required in ("topic", "title"):
        if required not in fields:
            raise InvalidField(f"{required} is required without a catalog_id", field=required)
    if body.supersedes is not None and store.get_request(body.supersedes) is None:
        raise InvalidField(f"unknown request {body.supersedes!r}", field="supersedes")
    fields.setdefault("id", _new_request_id(body))
    fields.setdefault("issued_at", utc_now())
    if "valid_days" in body.model_fields_set and body.valid_days is None:
        fields["valid_days"] = None  # explicit null: acceptances never expire
    request = PolicyRequest(**fields)
    try:
        store.create_request(request)
    except AlreadyExists as exc:
        raise Conflict(f"request {request.id!r} already exists", field="id") from exc
    return request


def get_request(*, store: CascadeStore, request_id: str) -> PolicyRequest:
    request = store.get_request(request_id)
    if request is None:
        raise NotFound(f"no request {request_id!r}")
    return request


def list_requests(*, store: CascadeStore) -> list[PolicyRequest]:
    return store.list_requests()
