"""The `incident.created` webhook event: the incident and the exposure summary of every
registered root (the issuers of requests). `service.record_incident` enqueues it in the
same store transaction as the incident (the outbox), so both commit or neither does."""

from __future__ import annotations

from typing import Any

from service.incidents.schemas import IncidentRead
from service.integrations.webhooks import event
from service.store.port import WebhookEvent

__all__ = ["incident_created"]


def incident_created(created: IncidentRead, exposure: list[dict[str, Any]]) -> WebhookEvent:
    """The event, named by the incident: the outbox keeps one per incident id."""
    data = {"incident": created.model_dump(mode="json"), "exposure": exposure}
    return event("incident.created", f"incident.created:{created.id}", data)
