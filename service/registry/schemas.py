"""HTTP payloads (`XCreate` / `XUpdate` / `XRead`). Domain models are reused where the
shape is the same; unknown fields are refused everywhere."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StrictBool, StrictInt

from graph_models.models import (
    Applicability,
    Company,
    CompanyKind,
    Identifier,
    PolicyRequest,
    Sites,
    SupplyLink,
    UtcDateTime,
)
from service.http.schemas import Payload

CompanyCreate = Company
CompanyRead = Company
LinkCreate = SupplyLink
LinkRead = SupplyLink
RequestRead = PolicyRequest


class CompanyPut(Payload):
    """Full replacement of a company (the id comes from the path)."""

    name: str = Field(min_length=1, max_length=300)
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    kind: CompanyKind = CompanyKind.manufacturer
    identifiers: dict[str, str] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)
    sites: Sites = Field(default_factory=list)


class CompanyUpdate(Payload):
    """Partial update: only the fields sent change."""

    name: str | None = Field(default=None, min_length=1, max_length=300)
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    kind: CompanyKind | None = None
    identifiers: dict[str, str] | None = None
    tags: list[str] | None = None
    sites: Sites | None = None


class CompanyPage(Payload):
    items: list[CompanyRead]
    next_cursor: str | None


class LinkPage(Payload):
    items: list[LinkRead]
    next_cursor: str | None


class RequestCreate(Payload):
    """A request written out in full, or `catalog_id` + `issuer_id` to issue one from the
    built-in catalog (any other field sent overrides the catalog default)."""

    id: Annotated[Identifier, Field(pattern=r"^[^/\s]+$")] | None = None
    catalog_id: str | None = None
    topic: str | None = Field(default=None, min_length=1, max_length=100)
    title: str | None = Field(default=None, min_length=1, max_length=500)
    description: str | None = None
    version: str | None = None
    issuer_id: Identifier
    issued_at: UtcDateTime | None = None
    # strict: `"valid_days": true` would otherwise be taken for 1 day
    due_days: StrictInt | None = Field(default=None, ge=0, le=3650)
    valid_days: StrictInt | None = Field(default=None, ge=1, le=36500)
    mandatory: StrictBool | None = None
    applies_to: Applicability | None = None
    supersedes: str | None = None

