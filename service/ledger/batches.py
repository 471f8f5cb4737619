"""Batch writes: one result per item, in input order; valid items are written in store
batches even when others fail, and a retried batch reports `unchanged`, never doubles."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, NamedTuple, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from graph_models.models import Acknowledgement, CascadeEvent, Company, SupplyLink, utc_now
from service.integrations.webhooks import acknowledgements_recorded
from service.ledger.schemas import (
    DEFAULT_MAX_EVIDENCE_BYTES,
    AcknowledgementCreate,
    BatchResult,
    CascadeCreate,
    evidence_size,
)
from service.store.port import CascadeStore, WriteOutcome

__all__ = [
    "Checked",
    "Pending",
    "check_acknowledgements",
    "check_cascades",
    "check_companies",
    "check_links",
    "write_acknowledgements",
    "write_cascades",
    "write_companies",
    "write_links",
]

STORE_BATCH = 1000
Item = TypeVar("Item", bound=BaseModel)
Model = TypeVar("Model")


@dataclass(frozen=True)
class Pending:
    """References that count as existing besides the store's own: what a file import
    writes before the items being checked (companies and links defined earlier in the
    same file, requests it creates)."""

    companies: frozenset[str] = frozenset()
    links: frozenset[tuple[str, str]] = frozenset()
    requests: frozenset[str] = frozenset()


NOTHING_PENDING = Pending()


class Checked(NamedTuple, Generic[Model]):
    """The outcome of checking a batch: a result per item (errors filled in, the rest
    still to be written) and the valid items as (index, domain object)."""

    results: list[BatchResult]
    valid: list[tuple[int, Model]]


def _problem(detail: str, field: str | None, status: int = 422) -> dict[str, Any]:
    return {"type": "/problems/invalid-field", "title": "Invalid item", "status": status,
            "detail": detail, "field": field}


def _parse(
    raw: Sequence[Any], model: type[Item], results: list[BatchResult]
) -> list[tuple[int, Item]]:
    """Validate each item on its own; failures become per-item results."""
    adapter = TypeAdapter(model)
    parsed = []
    for index, item in enumerate(raw):
        try:
            parsed.append((index, adapter.validate_python(item)))
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"]) or None
            results[index] = BatchResult(index=index, status="error",
                                         problem=_problem(first["msg"], field))
    return parsed


def _write(
    store_write: Callable[[list[Any]], list[WriteOutcome]],
    valid: list[tuple[int, Any]],
    results: list[BatchResult],
) -> None:
    for start in range(0, len(valid), STORE_BATCH):
        chunk = valid[start : start + STORE_BATCH]
        outcomes = store_write([obj for _, obj in chunk])
        for (index, _), outcome in zip(chunk, outcomes, strict=True):
            results[index] = BatchResult(index=index, status=outcome.value)


def _refuse(results: list[BatchResult], index: int, detail: str, field: str) -> None:
    results[index] = BatchResult(index=index, status="error", problem=_problem(detail, field))


def _empty_results(count: int) -> list[BatchResult]:
    # Placeholders every item's outcome or refusal replaces: built unvalidated, as a
    # file of a million rows would otherwise spend seconds validating them.
    return [BatchResult.model_construct(index=i, status="error") for i in range(count)]


def check_companies(
    *, store: CascadeStore, items: Sequence[Any], pending: Pending = NOTHING_PENDING
) -> Checked[Company]:
    """Validate companies on their own (nothing they reference can be missing)."""
    results = _empty_results(len(items))
    return Checked(results, _parse(items, Company, results))


def write_companies(*, store: CascadeStore, items: Sequence[Any]) -> list[BatchResult]:
    checked = check_companies(store=store, items=items)
    _write(store.upsert_companies, checked.valid, checked.results)
    return checked.results


def _known_companies(store: CascadeStore, ids: set[str], pending: Pending) -> set[str]:
    asked = ids - pending.companies
    return (store.existing_company_ids(asked) if asked else set()) | (ids & pending.companies)


def check_links(
    *, store: CascadeStore, items: Sequence[Any], pending: Pending = NOTHING_PENDING
) -> Checked[SupplyLink]:
    """Validate links: both companies known (stored or pending); a self-link is refused
    when it is parsed (`SupplyLink`)."""
    results = _empty_results(len(items))
    parsed = _parse(items, SupplyLink, results)
    known = _known_companies(store, {c for _, lk in parsed for c in lk.key}, pending)
    valid = []
    for index, link in parsed:
        if (missing := _first_unknown(link, ("buyer_id", "supplier_id"), known)):
            _refuse(results, index, f"unknown company {getattr(link, missing)!r}", missing)
        else:
            valid.append((index, link))
    return Checked(results, valid)


def write_links(*, store: CascadeStore, items: Sequence[Any]) -> list[BatchResult]:
    checked = check_links(store=store, items=items)
    _write(store.add_links, checked.valid, checked.results)
    return checked.results


def _first_unknown(item: BaseModel, fields: tuple[str, ...], known: set[str]) -> str | None:
    return next((f for f in fields if getattr(item, f) not in known), None)


def _known_requests(store: CascadeStore, ids: set[str], pending: Pending) -> set[str]:
    stored = {rid for rid in ids - pending.requests if store.get_request(rid) is not None}
    return stored | (ids & pending.requests)


def _known_links(
    store: CascadeStore, pairs: set[tuple[str, str]], pending: Pending
) -> set[tuple[str, str]]:
    asked = pairs - pending.links
    return (store.existing_links(asked) if asked else set()) | (pairs & pending.links)


def check_cascades(
    *, store: CascadeStore, items: Sequence[Any], pending: Pending = NOTHING_PENDING
) -> Checked[CascadeEvent]:
    """Validate cascade events: known request and companies, over an existing link."""
    results = _empty_results(len(items))
    parsed = _parse(items, CascadeCreate, results)
    requests = _known_requests(store, {c.request_id for _, c in parsed}, pending)
    known = _known_companies(store, {x for _, c in parsed for x in (c.from_id, c.to_id)},
                             pending)
    links = _known_links(store, {(c.from_id, c.to_id) for _, c in parsed}, pending)
    valid = []
    for index, body in parsed:
        if body.request_id not in requests:
            _refuse(results, index, f"unknown request {body.request_id!r}", "request_id")
        elif (missing := _first_unknown(body, ("from_id", "to_id"), known)):
            _refuse(results, index, f"unknown company {getattr(body, missing)!r}", missing)
        elif (body.from_id, body.to_id) not in links:
            _refuse(results, index, f"{body.to_id!r} is not a supplier of {body.from_id!r}",
                    "to_id")
        else:
            event = CascadeEvent(request_id=body.request_id, from_id=body.from_id,
                                 to_id=body.to_id, sent_at=body.sent_at or utc_now())
            valid.append((index, event))
    return Checked(results, valid)


def write_cascades(*, store: CascadeStore, items: Sequence[Any]) -> list[BatchResult]:
    checked = check_cascades(store=store, items=items)
    _write(store.add_cascades, checked.valid, checked.results)
    return checked.results


def check_acknowledgements(
    *,
    store: CascadeStore,
    items: Sequence[Any],
    posted_by: str | None = None,
    pending: Pending = NOTHING_PENDING,
    max_evidence_bytes: int = DEFAULT_MAX_EVIDENCE_BYTES,
) -> Checked[Acknowledgement]:
    """Validate answers: known request and company, evidence within its cap."""
    results = _empty_results(len(items))
    parsed = _parse(items, AcknowledgementCreate, results)
    requests = _known_requests(store, {a.request_id for _, a in parsed}, pending)
    known = _known_companies(store, {a.company_id for _, a in parsed}, pending)
    valid = []
    for index, body in parsed:
        if (size := evidence_size(body.evidence)) > max_evidence_bytes:
            _refuse(results, index, f"evidence is {size:,} bytes as JSON, at most "
                    f"{max_evidence_bytes:,} are kept", "evidence")
        elif body.request_id not in requests:
            _refuse(results, index, f"unknown request {body.request_id!r}", "request_id")
        elif body.company_id not in known:
            _refuse(results, index, f"unknown company {body.company_id!r}", "company_id")
        else:
            valid.append((index, Acknowledgement(
                request_id=body.request_id, company_id=body.company_id, status=body.status,
                at=body.at or utc_now(), evidence=body.evidence, posted_by=posted_by)))
    return Checked(results, valid)


def add_acknowledgements(store: CascadeStore, acks: list[Acknowledgement]) -> list[WriteOutcome]:
    """`store.add_acknowledgements` reduced to outcomes, like the other writes; each new
    answer also enqueues its `acknowledgement.recorded` webhook event."""
    written = store.add_acknowledgements(acks)
    store.enqueue_events(acknowledgements_recorded(
        [ack for outcome, ack in written if outcome == WriteOutcome.created]))
    return [outcome for outcome, _ in written]


def write_acknowledgements(
    *, store: CascadeStore, items: Sequence[Any], posted_by: str | None = None,
    max_evidence_bytes: int = DEFAULT_MAX_EVIDENCE_BYTES,
) -> list[BatchResult]:
    checked = check_acknowledgements(store=store, items=items, posted_by=posted_by,
                                     max_evidence_bytes=max_evidence_bytes)
    _write(lambda acks: add_acknowledgements(store, acks), checked.valid, checked.results)
    return checked.results
