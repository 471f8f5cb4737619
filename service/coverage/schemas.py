"""HTTP payloads (`XCreate` / `XUpdate` / `XRead`). Domain models are reused where the
shape is the same; unknown fields are refused everywhere."""

from __future__ import annotations

from pydantic import Field

from graph_models.models import (
    UtcDateTime,
)
from service.http.schemas import Payload


class UpstreamCompany(Payload):
    id: str
    tier: int


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
    # an incident survey (topic incident_report) only: answers' impact, time to report
    impact: dict[str, int] | None = None
    time_to_report_hours: dict[str, float | None] | None = None


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

