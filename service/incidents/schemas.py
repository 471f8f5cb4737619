"""HTTP payloads of the incidents domain (`XCreate` / `XUpdate` / `XRead`)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StrictInt, StringConstraints

from graph_models.incidents import IncidentArea, IncidentKind
from graph_models.models import PolicyRequest, UtcDateTime
from service.http.schemas import Payload

__all__ = ["BcpStanding", "ExposedCompany", "ExposedCompanyPage", "ExposureRead",
           "IncidentCreate", "IncidentPage", "IncidentRead", "IncidentUpdate", "MatchRead",
           "PathShare", "SupplierExposure", "SurveyCreate", "SurveyRead", "TierExposure"]


class IncidentCreate(Payload):
    id: str | None = Field(default=None, min_length=1, max_length=200, pattern=r"^[^/\s]+$")
    title: str = Field(min_length=1, max_length=500)
    kind: IncidentKind
    occurred_at: UtcDateTime
    area: IncidentArea


class IncidentUpdate(Payload):
    """Close an incident (the only change an incident takes)."""

    closed_at: UtcDateTime


class IncidentRead(Payload):
    id: str
    title: str
    kind: IncidentKind
    occurred_at: UtcDateTime
    area: IncidentArea
    created_at: UtcDateTime
    closed_at: UtcDateTime | None
    surveys: list[str]
    affected: int  # recomputed from the current data on every read


class IncidentPage(Payload):
    items: list[IncidentRead]
    next_cursor: str | None


class TierExposure(Payload):
    tier: int
    exposed: int


class SupplierExposure(Payload):
    company_id: str
    exposed_upstream: int
    min_tier: int


class PathShare(Payload):
    total: int
    exposed: int


class BcpStanding(Payload):
    request_id: str | None
    states: dict[str, int]


class ExposureRead(Payload):
    incident_id: str
    root: str
    revision: int
    exposed: int
    tiers: list[TierExposure]
    tier1: list[SupplierExposure]
    paths: PathShare
    bcp: BcpStanding


class MatchRead(Payload):
    by: str
    site_id: str | None


class ExposedCompany(Payload):
    company_id: str
    name: str
    tier: int
    chain: list[str]
    bcp_state: str | None
    matched: MatchRead


class ExposedCompanyPage(Payload):
    items: list[ExposedCompany]
    next_cursor: str | None


Category = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                            max_length=100)]


class SurveyCreate(Payload):
    root: str
    due_hours: StrictInt = Field(ge=1, le=24 * 3650)
    id: str | None = Field(default=None, min_length=1, max_length=200, pattern=r"^[^/\s]+$")
    # only links of these categories, as the exposure's `categories=a,b` (None: every link)
    categories: list[Category] | None = Field(default=None, min_length=1, max_length=100)


class SurveyRead(PolicyRequest):
    """The survey request, with the incident it reports on and its due time in hours."""

    incident_id: str
    due_hours: int
    categories: list[str] | None  # the links the exposed cone was computed over
