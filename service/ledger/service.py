"""Service functions for cascade events and acknowledgements."""

from __future__ import annotations

from datetime import datetime

from graph_models.models import (
    Acknowledgement,
    CascadeEvent,
    from_epoch_us,
    to_epoch_us,
    utc_now,
)
from service.http.errors import InvalidField
from service.http.pagination import decode_cursor, encode_cursor
from service.integrations.webhooks import acknowledgements_recorded
from service.ledger.schemas import (
    DEFAULT_MAX_EVIDENCE_BYTES,
    AcknowledgementCreate,
    CascadeCreate,
    CascadeRecorded,
    evidence_size,
)
from service.registry.service import require_companies
from service.store.port import CascadeStore, WriteOutcome

__all__ = ["acknowledgement_page", "check_evidence", "list_cascades",
           "record_acknowledgement", "record_cascade"]


def check_evidence(body: AcknowledgementCreate, max_bytes: int) -> None:
    """Evidence is a reference and a note, not the document: one answer must not grow the
    store (and every page listing it) by megabytes."""
    size = evidence_size(body.evidence)
    if size > max_bytes:
        raise InvalidField(f"evidence is {size} bytes as JSON, at most {max_bytes} are kept: "
                           "store the document elsewhere and send its reference",
                           field="evidence")


def _require_request(store: CascadeStore, request_id: str) -> None:
    if store.get_request(request_id) is None:
        raise InvalidField(f"unknown request {request_id!r}", field="request_id")


def record_cascade(*, store: CascadeStore, body: CascadeCreate) -> CascadeRecorded:
    """Record that `from_id` forwarded the request to its supplier `to_id`: the event
    that holds for the link afterwards (the earliest forward of it, whatever order they
    were posted in) and what this one did (created, updated: now the earliest, or
    unchanged)."""
    _require_request(store, body.request_id)
    require_companies(store, {"from_id": body.from_id, "to_id": body.to_id})
    if not store.existing_links([(body.from_id, body.to_id)]):
        raise InvalidField(
            f"{body.to_id!r} is not a supplier of {body.from_id!r}", field="to_id"
        )
    event = CascadeEvent(
        request_id=body.request_id,
        from_id=body.from_id,
        to_id=body.to_id,
        sent_at=body.sent_at or utc_now(),
    )
    (outcome,) = store.add_cascades([event])
    if outcome == WriteOutcome.unchanged:
        stored = store.list_cascades(request_id=event.request_id, from_id=event.from_id,
                                     to_id=event.to_id, limit=1)
        event = stored[0] if stored else event
    return CascadeRecorded(**event.model_dump(), outcome=outcome.value)


def record_acknowledgement(
    *, store: CascadeStore, body: AcknowledgementCreate, posted_by: str | None = None,
    max_evidence_bytes: int = DEFAULT_MAX_EVIDENCE_BYTES,
) -> tuple[Acknowledgement, bool]:
    """Append an answer; an identical repeat returns the stored one and False."""
    check_evidence(body, max_evidence_bytes)
    _require_request(store, body.request_id)
    require_companies(store, {"company_id": body.company_id})
    ack = Acknowledgement(
        request_id=body.request_id,
        company_id=body.company_id,
        status=body.status,
        at=body.at or utc_now(),
        evidence=body.evidence,
        posted_by=posted_by,
    )
    ((outcome, stored),) = store.add_acknowledgements([ack])
    created = outcome == WriteOutcome.created
    if created:
        store.enqueue_events(acknowledgements_recorded([stored]))
    return stored, created


def list_cascades(
    *, store: CascadeStore, request_id: str | None, from_id: str | None, to_id: str | None,
    limit: int,
) -> list[CascadeEvent]:
    return store.list_cascades(request_id=request_id, from_id=from_id, to_id=to_id, limit=limit)


ANSWERS_READ = 100  # answers read from the store at a time while a page fills


def acknowledgement_page(
    *, store: CascadeStore, request_id: str | None, company_id: str | None, limit: int,
    cursor: str | None, max_bytes: int,
) -> tuple[list[Acknowledgement], str | None]:
    """A page of history, newest first, and the cursor of the next one (None: no more).
    The page ends at `limit` answers or before its JSON body would exceed `max_bytes`
    (it always holds one), reading the store a few answers at a time."""
    before = _position(cursor)
    page: list[Acknowledgement] = []
    size = 2  # the list's brackets
    while True:
        asked = min(ANSWERS_READ, limit + 1 - len(page))  # one more: is there a next page?
        found = store.list_acknowledgements(request_id=request_id, company_id=company_id,
                                            limit=asked, before=before)
        for ack in found:
            size += len(ack.model_dump_json().encode()) + 1
            if len(page) == limit or (page and size > max_bytes):
                return page, encode_cursor([to_epoch_us(page[-1].at), page[-1].seq])
            page.append(ack)
        if len(found) < asked:
            return page, None
        before = (page[-1].at, page[-1].seq or 0)


def _position(cursor: str | None) -> tuple[datetime, int] | None:
    """The (at, seq) a cursor continues after."""
    value = decode_cursor(cursor)
    if value is None:
        return None
    if not (isinstance(value, list) and len(value) == 2
            and all(type(v) is int for v in value)):  # (a bool is no position)
        raise InvalidField("cursor is not one this service issued", field="cursor")
    try:
        return from_epoch_us(value[0]), value[1]
    except (OverflowError, ValueError, OSError):
        raise InvalidField("cursor is not one this service issued", field="cursor") from None
