"""Neo4j records <-> domain models, for the Neo4j store. JSON columns hold the nested
values Neo4j properties cannot (identifiers, evidence, applicability); timestamps travel
as epoch microseconds, which the driver decodes far faster than its DateTime type."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from graph_models.models import (
    Acknowledgement,
    Applicability,
    CascadeEvent,
    Company,
    PolicyRequest,
)

BATCH = 1000  # rows per UNWIND
_T = TypeVar("_T")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def chunks(items: Sequence[_T], size: int = BATCH) -> Iterator[Sequence[_T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def utc_from_epoch_us(epoch_us: int) -> datetime:
    """Microseconds since the epoch (as the queries return timestamps) as aware UTC."""
    return _EPOCH + timedelta(microseconds=epoch_us)


def to_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


# --- row <-> model codecs -----------------------------------------------------------------


def company_row(company: Company) -> dict[str, Any]:
    return {
        "id": company.id,
        "name": company.name,
        "country": company.country,
        "kind": str(company.kind),
        "identifiers_json": to_json(company.identifiers),
        "tags": list(company.tags),
    }


def company_from(record: Any) -> Company:
    return Company(
        id=record["id"],
        name=record["name"],
        country=record["country"],
        kind=record["kind"],
        identifiers=json.loads(record["identifiers_json"] or "{}"),
        tags=list(record["tags"] or []),
    )


def request_row(request: PolicyRequest) -> dict[str, Any]:
    row = request.model_dump(exclude={"applies_to"})
    row["applies_to_json"] = request.applies_to.model_dump_json()
    return row


def request_from(record: Any) -> PolicyRequest:
    fields = dict(record)
    fields["issued_at"] = utc_from_epoch_us(fields["issued_at"])
    fields["applies_to"] = Applicability.model_validate_json(fields.pop("applies_to_json"))
    return PolicyRequest.model_validate(fields)


def cascade_key(event: CascadeEvent) -> str:
    return to_json([event.request_id, event.from_id, event.to_id])


def cascade_from(record: Any) -> CascadeEvent:
    return CascadeEvent(
        request_id=record["request_id"],
        from_id=record["from_id"],
        to_id=record["to_id"],
        sent_at=utc_from_epoch_us(record["sent_at"]),
    )


def ack_identity(ack: Acknowledgement) -> str:
    request_id, company_id, status, at = ack.identity
    return to_json([request_id, company_id, status, at.isoformat(timespec="microseconds")])


def ack_row(ack: Acknowledgement) -> dict[str, Any]:
    return {
        "identity": ack_identity(ack),
        "request_id": ack.request_id,
        "company_id": ack.company_id,
        "status": str(ack.status),
        "at": ack.at,
        "evidence_json": None if ack.evidence is None else to_json(ack.evidence),
        "seq": ack.seq,
        "recorded_at": ack.recorded_at,
        "posted_by": ack.posted_by,
    }


def ack_from(record: Any) -> Acknowledgement:
    evidence, recorded = record["evidence_json"], record["recorded_at"]
    return Acknowledgement(
        request_id=record["request_id"],
        company_id=record["company_id"],
        status=record["status"],
        at=utc_from_epoch_us(record["at"]),
        evidence=None if evidence is None else json.loads(evidence),
        seq=record["seq"],
        recorded_at=None if recorded is None else utc_from_epoch_us(recorded),
        posted_by=record["posted_by"],
    )
