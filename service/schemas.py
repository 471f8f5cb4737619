"""HTTP payloads (`XCreate` / `XUpdate` / `XRead`). Domain models are reused where the
shape is the same; unknown fields are refused everywhere."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

from graph_models.models import (
    Acknowledgement,
    AckStatus,
    Applicability,
    CascadeEvent,
    Company,
    CompanyKind,
    PolicyRequest,
    SupplyLink,
    UtcDateTime,
)

CompanyCreate = Company
CompanyRead = Company
LinkCreate = SupplyLink
LinkRead = SupplyLink
RequestRead = PolicyRequest
CascadeRead = CascadeEvent
AcknowledgementRead = Acknowledgement


class Payload(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CompanyPut(Payload):
    """Full replacement of a company (the id comes from the path)."""

    name: str = Field(min_length=1, max_length=300)
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    kind: CompanyKind = CompanyKind.manufacturer
    identifiers: dict[str, str] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)


class CompanyUpdate(Payload):
    """Partial update: only the fields sent change."""

    name: str | None = Field(default=None, min_length=1, max_length=300)
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    kind: CompanyKind | None = None
    identifiers: dict[str, str] | None = None
    tags: list[str] | None = None


class CompanyPage(Payload):
    items: list[CompanyRead]
    next_cursor: str | None


class LinkPage(Payload):
    items: list[LinkRead]
    next_cursor: str | None


class UpstreamCompany(Payload):
    id: str
    tier: int


class RequestCreate(Payload):
    """A request written out in full, or `catalog_id` + `issuer_id` to issue one from the
    built-in catalog (any other field sent overrides the catalog default)."""

    id: str | None = Field(default=None, min_length=1, max_length=200, pattern=r"^[^/\s]+$")
    catalog_id: str | None = None
    topic: str | None = Field(default=None, min_length=1, max_length=100)
    title: str | None = Field(default=None, min_length=1, max_length=500)
    description: str | None = None
    version: str | None = None
    issuer_id: str
    issued_at: UtcDateTime | None = None
    # strict: `"valid_days": true` would otherwise be taken for 1 day
    due_days: StrictInt | None = Field(default=None, ge=0, le=3650)
    valid_days: StrictInt | None = Field(default=None, ge=1, le=36500)
    mandatory: StrictBool | None = None
    applies_to: Applicability | None = None
    supersedes: str | None = None


class CascadeCreate(Payload):
    request_id: str
    from_id: str
    to_id: str
    sent_at: UtcDateTime | None = None


class AcknowledgementCreate(Payload):
    request_id: str
    company_id: str
    status: AckStatus
    at: UtcDateTime | None = None
    evidence: dict[str, Any] | None = None


class PathTotals(Payload):
    total: int
    covered: int
    uncovered: int


class CoverageRead(Payload):
    request_id: str
    root_id: str
    revision: int
    as_of: UtcDateTime
    counts: dict[str, int]
    gaps: int
    paths: PathTotals
    coverage_ratio: float
    tiers: list[dict[str, int]]


class HistoryPoint(Payload):
    """The coverage of a request at one instant (as `coverage?as_of=at` would give it)."""

    at: UtcDateTime
    counts: dict[str, int]
    gaps: int
    uncovered_paths: int
    coverage_ratio: float


class CoverageHistory(Payload):
    request_id: str
    revision: int
    start: UtcDateTime = Field(serialization_alias="from")
    to: UtcDateTime
    step_seconds: float
    points: list[HistoryPoint]


class GapRead(Payload):
    from_id: str
    to_id: str
    tier: int
    impact: int


class GapPage(Payload):
    items: list[GapRead]
    next_cursor: str | None


class UncoveredPathRead(Payload):
    companies: list[str]
    break_index: int
    reason: str


class UncoveredPathPage(Payload):
    items: list[UncoveredPathRead]
    next_cursor: str | None


class CompanyStanding(Payload):
    request_id: str
    company_id: str
    state: str
    tier: int
    covered: bool
    path: list[str]
    first_reached_at: UtcDateTime | None = None
    # its suppliers over links the request applies to, and how many acknowledged (the
    # share CMRT question 6 asks for; null without such suppliers)
    applicable_suppliers: int = 0
    acknowledged_suppliers: int = 0
    acknowledged_supplier_share: float | None = None


class RequestGapCounts(Payload):
    request_id: str
    topic: str
    version: str
    unreached: int
    pending: int
    overdue: int
    declined: int
    expired: int
    gaps: int
    uncovered_paths: int
    coverage_ratio: float


class GapCountsRead(Payload):
    revision: int
    requests: list[RequestGapCounts]


MAX_BATCH = 10_000


class BatchCreate(Payload):
    """Up to 10,000 items of the single POST's shape; each is validated on its own."""

    items: list[dict[str, Any]] = Field(max_length=MAX_BATCH)


class BatchResult(Payload):
    index: int
    status: str  # created | unchanged | updated | error
    problem: dict[str, Any] | None = None


class BatchRead(Payload):
    results: list[BatchResult]


class ImportProblem(Payload):
    """A row of an imported file that was refused (and not loaded)."""

    section: str  # companies, links, requests, cascades, acknowledgements, or a sheet
    row: int  # CSV: the file's line (header = 1); JSON: position in its list, from 1
    field: str | None = None
    message: str


class ImportCounts(Payload):
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0


class ImportRead(Payload):
    """What an import loaded: outcomes per section, the rows skipped, notes."""

    kind: str
    loaded: bool
    rows: int
    sections: dict[str, ImportCounts]
    skipped: list[ImportProblem]
    notes: list[str]
