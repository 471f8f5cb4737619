"""The incidents role port: incidents and where companies are.

Every incident write bumps the store revision, like any other write (caches keyed by
revision see it). Both adapters mix in an implementation: `sqlite_incidents`,
`neo4j_incidents`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from graph_models.incidents import Incident
from graph_models.models import Site

__all__ = ["CompanyLocation", "IncidentStore"]

CompanyLocation = tuple[str, str | None, list[Site]]
"""(company id, its own country, its sites)."""


class IncidentStore(Protocol):
    def create_incident(self, incident: Incident) -> None:
        """Insert an incident; raise `AlreadyExists` if the id is taken."""

    def get_incident(self, incident_id: str) -> Incident | None: ...

    def list_incidents(self, *, limit: int = 100, after: str | None = None) -> list[Incident]:
        """Incidents ordered by id, starting after the id `after`."""

    def replace_incident(self, incident: Incident) -> bool:
        """Overwrite a stored incident (closing it, adding a survey); False if unknown."""

    def company_locations(self, ids: Sequence[str] | None = None) -> list[CompanyLocation]:
        """Where the companies `ids` are (None: every company); unknown ids are left out."""

    def request_creation(self, request_ids: Sequence[str]) -> dict[str, int]:
        """The revision each request was created at (its creation order; 0 when the store
        predates the change log); unknown ids are left out."""
