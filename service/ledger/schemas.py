"""HTTP payloads (`XCreate` / `XUpdate` / `XRead`). Domain models are reused where the
shape is the same; unknown fields are refused everywhere."""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import Field

from graph_models.models import (
    Acknowledgement,
    AckStatus,
    CascadeEvent,
    Evidence,
    Identifier,
    UtcDateTime,
)
from service.http.schemas import Payload

CascadeRead = CascadeEvent
AcknowledgementRead = Acknowledgement


class CascadeRecorded(CascadeEvent):
    """A forward as its POST answers it: the event that holds for the link (the earliest
    `sent_at` ever posted for it) and what this post did to it."""

    outcome: Literal["created", "updated", "unchanged"] = Field(
        description="`created`: the first forward of this link; `updated`: earlier than "
        "the one held, so this `sent_at` now holds; `unchanged`: a forward at or after the "
        "held `sent_at` (the body shows the one that holds)")


class CascadeCreate(Payload):
    request_id: Identifier
    from_id: Identifier
    to_id: Identifier
    sent_at: UtcDateTime | None = None


class AcknowledgementCreate(Payload):
    request_id: Identifier
    company_id: Identifier
    status: AckStatus
    at: UtcDateTime | None = None
    evidence: Evidence = Field(
        default=None, description="`impact`: an incident survey's assessment; "
        "document reference, template version, note; at most "
        "`max_evidence_bytes` (64 KiB by default) as compact JSON")


DEFAULT_MAX_EVIDENCE_BYTES = 64 * 1024
# what a CMRT / EMRT import builds: the declaration and its smelter list (10,000 rows at most)
DEFAULT_MAX_DECLARATION_BYTES = 1_000_000


def evidence_size(evidence: dict[str, Any] | None) -> int:
    """Bytes of `evidence` as compact UTF-8 JSON, the form it is stored in."""
    if evidence is None:
        return 0
    return len(json.dumps(evidence, separators=(",", ":"), ensure_ascii=False).encode())


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

