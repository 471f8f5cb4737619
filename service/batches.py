"""Batch writes: one result per item, in input order; valid items are written in store
batches even when others fail, and a retried batch reports `unchanged`, never doubles."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from graph_models.models import Acknowledgement, CascadeEvent, Company, SupplyLink, utc_now
from service.schemas import AcknowledgementCreate, BatchResult, CascadeCreate
from service.store.port import CascadeStore, WriteOutcome

__all__ = ["write_acknowledgements", "write_cascades", "write_companies", "write_links"]

STORE_BATCH = 1000
Item = TypeVar("Item", bound=BaseModel)


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
    return [BatchResult(index=i, status="error") for i in range(count)]


def write_companies(*, store: CascadeStore, items: Sequence[Any]) -> list[BatchResult]:
    results = _empty_results(len(items))
    valid = _parse(items, Company, results)
    _write(store.upsert_companies, valid, results)
    return results


def _known_companies(store: CascadeStore, ids: set[str]) -> set[str]:
    return store.existing_company_ids(ids) if ids else set()


def write_links(*, store: CascadeStore, items: Sequence[Any]) -> list[BatchResult]:
    results = _empty_results(len(items))
    parsed = _parse(items, SupplyLink, results)
    known = _known_companies(store, {c for _, lk in parsed for c in lk.key})
    valid = []
    for index, link in parsed:
        if link.buyer_id == link.supplier_id:
            _refuse(results, index, "a company cannot supply itself", "supplier_id")
        elif (missing := _first_unknown(link, ("buyer_id", "supplier_id"), known)):
            _refuse(results, index, f"unknown company {getattr(link, missing)!r}", missing)
        else:
            valid.append((index, link))
    _write(store.add_links, valid, results)
    return results


def _first_unknown(item: BaseModel, fields: tuple[str, ...], known: set[str]) -> str | None:
    return next((f for f in fields if getattr(item, f) not in known), None)


def _known_requests(store: CascadeStore, ids: set[str]) -> set[str]:
    return {rid for rid in ids if store.get_request(rid) is not None}


def write_cascades(*, store: CascadeStore, items: Sequence[Any]) -> list[BatchResult]:
    results = _empty_results(len(items))
    parsed = _parse(items, CascadeCreate, results)
    requests = _known_requests(store, {c.request_id for _, c in parsed})
    known = _known_companies(store, {x for _, c in parsed for x in (c.from_id, c.to_id)})
    links = store.existing_links({(c.from_id, c.to_id) for _, c in parsed})
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
    _write(store.add_cascades, valid, results)
    return results


def write_acknowledgements(
    *, store: CascadeStore, items: Sequence[Any], posted_by: str | None = None
) -> list[BatchResult]:
    results = _empty_results(len(items))
    parsed = _parse(items, AcknowledgementCreate, results)
    requests = _known_requests(store, {a.request_id for _, a in parsed})
    known = _known_companies(store, {a.company_id for _, a in parsed})
    valid = []
    for index, body in parsed:
        if body.request_id not in requests:
            _refuse(results, index, f"unknown request {body.request_id!r}", "request_id")
        elif body.company_id not in known:
            _refuse(results, index, f"unknown company {body.company_id!r}", "company_id")
        else:
            valid.append((index, Acknowledgement(
                request_id=body.request_id, company_id=body.company_id, status=body.status,
                at=body.at or utc_now(), evidence=body.evidence, posted_by=posted_by)))

    def add(acks: list[Acknowledgement]) -> list[WriteOutcome]:
        return [outcome for outcome, _ in store.add_acknowledgements(acks)]

    _write(add, valid, results)
    return results
