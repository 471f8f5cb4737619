"""Incidents: a disaster at some place (companies, countries, regions or a circle).

Pure pydantic models; `Incident.area.pure()` is the `graph_models.areas.Area` that decides
which companies it affects.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field, StrictFloat, model_validator

from graph_models.areas import Area, Circle
from graph_models.models import CompanyId, DomainModel, UtcDateTime

Country = Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
Region = Annotated[str, Field(pattern=r"^[A-Z]{2}-[A-Z0-9]{1,3}$")]

__all__ = ["AreaCircle", "Incident", "IncidentArea", "IncidentKind"]


class IncidentKind(StrEnum):
    earthquake = "earthquake"
    flood = "flood"
    storm = "storm"
    fire = "fire"
    pandemic = "pandemic"
    conflict = "conflict"
    cyber = "cyber"
    other = "other"


class AreaCircle(DomainModel):
    # strict: `true` is not a number (JSON integers still are)
    lat: StrictFloat = Field(ge=-90.0, le=90.0)
    lon: StrictFloat = Field(ge=-180.0, le=180.0)
    radius_km: StrictFloat = Field(ge=0.0, le=20_037.6)  # half the Earth's circumference


class IncidentArea(DomainModel):
    """Where the incident happened; at least one criterion, none empty."""

    company_ids: list[CompanyId] | None = Field(default=None, max_length=10_000)
    countries: list[Country] | None = Field(default=None, max_length=300)
    regions: list[Region] | None = Field(default=None, max_length=5_000)
    circle: AreaCircle | None = None

    @model_validator(mode="after")
    def _some_criterion(self) -> IncidentArea:
        lists = (self.company_ids, self.countries, self.regions)
        if not any(lists) and self.circle is None:
            raise ValueError("give at least one non-empty criterion: company_ids, countries, "
                             "regions or circle")
        return self

    def pure(self) -> Area:
        circle = self.circle
        return Area(frozenset(self.company_ids or ()), frozenset(self.countries or ()),
                    frozenset(self.regions or ()),
                    None if circle is None else Circle(circle.lat, circle.lon, circle.radius_km))


class Incident(DomainModel):
    id: str = Field(min_length=1, max_length=200, pattern=r"^[^/\s]+$")
    title: str = Field(min_length=1, max_length=500)
    kind: IncidentKind
    occurred_at: UtcDateTime
    area: IncidentArea
    created_at: UtcDateTime
    closed_at: UtcDateTime | None = None
    surveys: list[str] = Field(default_factory=list)  # ids of its survey requests
