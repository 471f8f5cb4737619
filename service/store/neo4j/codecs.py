"""Neo4j records <-> domain models, for the Neo4j store. JSON columns hold the nested
values Neo4j properties cannot (identifiers, evidence, applicability); timestamps travel
as epoch microseconds, which the driver decodes far faster than its DateTime type."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TypeVar

from graph_models.models import (
    Acknowledgement,
    Applicability,
    CascadeEvent,
    Company,
    PolicyRequest,
    from_epoch_us,
    to_epoch_us,
)
from service.store import planning

BATCH = 1000  # rows per UNWIND
ACK_BATCH = 10_000  # answers per query: columns of them (a tenth of the round trips)
_T = TypeVar("_T")


def chunks(items: Sequence[_T], size: int = BATCH) -> Iterator[Sequence[_T]]:
    """`planning.chunks`, BATCH rows at a time unless told."""
    return planning.chunks(items, size)


def to_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


# --- row <-> model codecs -----------------------------------------------------------------


def company_row(company: Company) -> dict[str, Any]:
    return {
        "id": company.id,
        "name": company.name,
        "country": company.country or "",  # '' for none: the location index holds it
        "kind": str(company.kind),
        "identifiers_json": to_json(company.identifiers),
        "tags": list(company.tags),
        "sites_json": to_json([site.model_dump(mode="json", exclude_none=True)
                               for site in company.sites]),
        "sited": bool(company.sites),
    }


def company_from(record: Any) -> Company:
    return Company(
        id=record["id"],
        name=record["name"],
        country=record["country"] or None,
        kind=record["kind"],
        identifiers=json.loads(record["identifiers_json"] or "{}"),
        tags=list(record["tags"] or []),
        sites=json.loads(record["sites_json"] or "[]"),
    )


def request_row(request: PolicyRequest) -> dict[str, Any]:
    row = request.model_dump(exclude={"applies_to"})
    row["applies_to_json"] = request.applies_to.model_dump_json()
    return row


def request_from(record: Any) -> PolicyRequest:
    fields = dict(record)
    fields["issued_at"] = from_epoch_us(fields["issued_at"])
    fields["applies_to"] = Applicability.model_validate_json(fields.pop("applies_to_json"))
    return PolicyRequest.model_validate(fields)


def cascade_key(event: CascadeEvent) -> str:
    return to_json([event.request_id, event.from_id, event.to_id])


def cascade_row(key: str, event: CascadeEvent) -> dict[str, Any]:
    """ADD_CASCADES / ANTEDATE_CASCADES row of `event`: its time as epoch µs and as whole
    seconds and nanoseconds, never a `datetime` (slow for the driver to pack)."""
    sent_us = to_epoch_us(event.sent_at)
    return {"key": key, "request_id": event.request_id, "from_id": event.from_id,
            "to_id": event.to_id, "sent_us": sent_us, "sent_seconds": sent_us // 1_000_000,
            "sent_nanos": sent_us % 1_000_000 * 1000}


def cascade_key_prefix(request_id: str) -> str:
    """What every `cascade_key` of the request starts with, and no other's does."""
    return to_json([request_id])[:-1] + ","


def cascade_from(record: Any) -> CascadeEvent:
    return CascadeEvent(
        request_id=record["request_id"],
        from_id=record["from_id"],
        to_id=record["to_id"],
        sent_at=from_epoch_us(record["sent_at"]),
    )


def ack_identity(ack: Acknowledgement) -> str:
    request_id, company_id, status, at = ack.identity
    return to_json([request_id, company_id, status, at.isoformat(timespec="microseconds")])


def ack_columns(answers: Sequence[tuple[str, Acknowledgement]]) -> dict[str, Any]:
    """ADD_ACKNOWLEDGEMENTS parameters for (identity, answer) pairs with consecutive seqs."""
    at = [to_epoch_us(ack.at) for _, ack in answers]
    recorded_at = answers[0][1].recorded_at
    recorded = 0 if recorded_at is None else to_epoch_us(recorded_at)
    return {
        "identities": [identity for identity, _ in answers],
        "request_ids": [ack.request_id for _, ack in answers],
        "company_ids": [ack.company_id for _, ack in answers],
        "statuses": [str(ack.status) for _, ack in answers],
        "at_seconds": [us // 1_000_000 for us in at],
        "at_nanos": [us % 1_000_000 * 1000 for us in at],
        "at_us": at,
        "evidence_jsons": [None if a.evidence is None else to_json(a.evidence) for _, a in answers],
        "posted_bys": [ack.posted_by for _, ack in answers],
        "first_seq": answers[0][1].seq,
        "recorded_seconds": recorded // 1_000_000,
        "recorded_nanos": recorded % 1_000_000 * 1000,
    }


def stored_ack(
    asked: Acknowledgement,
    seq: int,
    recorded_at: int | None,
    evidence_json: str | None,
    posted_by: str | None,
) -> Acknowledgement:
    """The stored answer with the identity of `asked`, from what ACKS_WITH_IDENTITY read
    (no validation: both halves were validated on their way in)."""
    return asked.model_copy(
        update={
            "seq": seq,
            "recorded_at": None if recorded_at is None else from_epoch_us(recorded_at),
            "evidence": None if evidence_json is None else json.loads(evidence_json),
            "posted_by": posted_by,
        }
    )


def tombstone_rows(deleted: Iterable[tuple[str, str, str]]) -> list[dict[str, str]]:
    """ADD_TOMBSTONES rows for (entity, key, key2) triples."""
    return [
        {"id": to_json([entity, key, key2]), "entity": entity, "key": key, "key2": key2}
        for entity, key, key2 in deleted
    ]


def ack_from(record: Any) -> Acknowledgement:
    evidence, recorded = record["evidence_json"], record["recorded_at"]
    return Acknowledgement(
        request_id=record["request_id"],
        company_id=record["company_id"],
        status=record["status"],
        at=from_epoch_us(record["at"]),
        evidence=None if evidence is None else json.loads(evidence),
        seq=record["seq"],
        recorded_at=None if recorded is None else from_epoch_us(recorded),
        posted_by=record["posted_by"],
    )
