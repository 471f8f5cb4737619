"""HTTP payloads (`XCreate` / `XUpdate` / `XRead`). Domain models are reused where the
shape is the same; unknown fields are refused everywhere."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from graph_models.models import (
    Acknowledgement,
    AckStatus,
    CascadeEvent,
    Evidence,
    UtcDateTime,
)
from service.http.schemas import Payload

CascadeRead = CascadeEvent
AcknowledgementRead = Acknowledgement


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
    evidence: Evidence = None  # `impact`: an incident survey's assessment


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

