"""The `incident.created` webhook event: the exposure summary of every registered root
(the issuers of requests), enqueued when an incident is recorded."""

from __future__ import annotations

from typing import Any

from service.incidents import service as incidents
from service.incidents.atlas import IncidentAtlas
from service.incidents.schemas import IncidentRead
from service.integrations.webhooks import event

__all__ = ["incident_created", "summaries"]


def summaries(atlas: IncidentAtlas, incident_id: str) -> list[dict[str, Any]]:
    """Per registered root: exposed companies, tiers, paths and the tier-1 suppliers."""
    roots = sorted({request.issuer_id for request in atlas.store.list_requests()})
    out = []
    for root in roots:
        if not atlas.store.existing_company_ids([root]):
            continue
        found = incidents.exposure(atlas=atlas, incident_id=incident_id, root=root,
                                   categories=None, as_of=None)
        out.append(found.model_dump(mode="json", include={
            "root", "exposed", "tiers", "tier1", "paths", "bcp"}))
    return out


def incident_created(atlas: IncidentAtlas, created: IncidentRead) -> None:
    data = {"incident": created.model_dump(mode="json"),
            "exposure": summaries(atlas, created.id)}
    atlas.store.enqueue_events([event("incident.created", f"incident.created:{created.id}",
                                      data)])
