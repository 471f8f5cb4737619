"""Answers do not depend on the order things were posted in (DESIGN: of several forwards
of one link the earliest `sent_at` holds; the current answer is the latest `at`).

One cascade of forwards and answers is posted twice, as two requests over the same
network: once in time order (a batch of forwards, then one of answers); once in a random
order (retries included) split into random single POSTs and `/batch` calls, coverage read between
them so the worker's snapshot folds each part from the change log. Both give the same
coverage (counts, tiers, gaps, paths) and the same standing of every company at every
instant where an answer could turn, read from the warm snapshot and from a cold one. No
two answers of one company share an `at` (there DESIGN's tie rule goes by recording
order). Runs on both stores.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api_tests.conftest import signed_in, warmed
from service.app import create_app
from service.config.settings import Settings
from service.coverage import answers
from service.coverage.snapshot import CoverageSnapshot
from service.store.port import CascadeStore

T0 = datetime(2026, 3, 2, tzinfo=UTC)
HOUR = timedelta(hours=1)
MICROSECOND = timedelta(microseconds=1)
DUE_DAYS, VALID_DAYS = 2, 5
SUPPLIERS = ["a", "b", "c", "d"]
LINKS = [("focal", "a"), ("focal", "b"), ("a", "c"), ("b", "c"), ("c", "d"), ("d", "c")]
PROPERTY = settings(max_examples=20, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])

# Posts: ("cascades", body) or ("acknowledgements", body), without the request id.
Post = tuple[str, dict[str, Any]]


@dataclass(frozen=True)
class Plan:
    """The events, and how the second posting orders and splits them."""

    events: list[tuple[Post, datetime]]  # each with its instant
    order: list[int]  # positions into `events`; a repeat is a retry
    parts: list[tuple[int, bool]]  # (number of posts, as one /batch?)


def _hours(draw: st.DrawFn, count: int) -> list[int]:
    return draw(st.lists(st.integers(0, 240), min_size=count, max_size=count, unique=True))


@st.composite
def plans(draw: st.DrawFn) -> Plan:
    events: list[tuple[Post, datetime]] = []
    for from_id, to_id in LINKS:  # 0-2 forwards of each link
        for hour in _hours(draw, draw(st.integers(0, 2))):
            sent = T0 + hour * HOUR
            events.append((("cascades", {"from_id": from_id, "to_id": to_id,
                                         "sent_at": sent.isoformat()}), sent))
    for company in SUPPLIERS:  # 0-2 answers of each company, at distinct instants
        for hour in _hours(draw, draw(st.integers(0, 2))):
            at = T0 + hour * HOUR
            status = draw(st.sampled_from(["received", "accepted", "declined"]))
            events.append((("acknowledgements", {"company_id": company, "status": status,
                                                 "at": at.isoformat()}), at))
    retries = draw(st.lists(st.integers(0, max(len(events) - 1, 0)), max_size=3)
                   if events else st.just([]))
    order = draw(st.permutations([*range(len(events)), *retries]))
    parts: list[tuple[int, bool]] = []
    left = len(order)
    while left:
        size = draw(st.integers(1, left))
        parts.append((size, draw(st.booleans())))
        left -= size
    return Plan(events, order, parts)


@pytest.fixture
def api(store: CascadeStore) -> Iterator[TestClient]:
    """The service over one store for all examples (each posts under new request ids)."""
    app = create_app(Settings(rate_limit_per_minute=1_000_000), store=store)
    with TestClient(app) as client:
        warmed(client)
        signed_in(client)
        for batch, items in (
            ("companies", [{"id": cid, "name": cid.upper()} for cid in ["focal", *SUPPLIERS]]),
            ("links", [{"buyer_id": b, "supplier_id": s} for b, s in LINKS]),
        ):
            response = client.post(f"/v1/{batch}/batch", json={"items": items})
            assert {r["status"] for r in response.json()["results"]} == {"created"}
        yield client


_numbers = itertools.count()


def issue(client: TestClient) -> str:
    request_id = f"bcp-{next(_numbers)}"
    response = client.post("/v1/requests", json={
        "id": request_id, "topic": "business_continuity", "title": "BCP", "version": "2026",
        "issuer_id": "focal", "issued_at": T0.isoformat(), "due_days": DUE_DAYS,
        "valid_days": VALID_DAYS})
    assert response.status_code == 201, response.text
    return request_id


def post(client: TestClient, request_id: str, posts: list[Post], as_batch: bool) -> None:
    """Post forwards and answers (one batch per resource, or one POST each); each is
    accepted (a retry or a later forward too)."""
    if as_batch:
        for resource in ("cascades", "acknowledgements"):
            items = [body | {"request_id": request_id} for kind, body in posts
                     if kind == resource]
            if items:
                results = client.post(f"/v1/{resource}/batch", json={"items": items}).json()
                assert "error" not in {r["status"] for r in results["results"]}, results
        return
    for resource, body in posts:
        response = client.post(f"/v1/{resource}", json=body | {"request_id": request_id})
        assert response.status_code in (200, 201), response.text


def instants(plan: Plan) -> list[datetime]:
    """Where an answer can turn: at each event (and just before), at each deadline a
    forward starts and each expiry an answer starts (and just after: both are strict)."""
    found = {T0 - HOUR}
    for _, at in plan.events:
        found |= {at - MICROSECOND, at}
        for turn in (at + DUE_DAYS * 24 * HOUR, at + VALID_DAYS * 24 * HOUR):
            found |= {turn, turn + MICROSECOND}
    return sorted(found)


def coverage_answers(snapshot: CoverageSnapshot, request_id: str, at: datetime
                     ) -> dict[str, Any]:
    """What the coverage and standing endpoints answer at `at` (their own functions),
    without what names the request or the revision."""
    reading = snapshot.read(request_id, at)
    coverage = answers.coverage_read(reading, as_of=at).model_dump(
        exclude={"request_id", "revision"})
    standings = {cid: answers.standing(reading, company_id=cid).model_dump(
        exclude={"request_id"}) for cid in SUPPLIERS}
    return {"coverage": coverage, "standings": standings,
            "gaps": sorted(snapshot.gaps(reading))}


@PROPERTY
@given(plan=plans())
def test_any_posting_order_and_batch_split_gives_the_same_answers(
    api: TestClient, store: CascadeStore, plan: Plan
) -> None:
    snapshot: CoverageSnapshot = api.app.state.services.coverage  # type: ignore[attr-defined]
    in_time_order = issue(api)
    post(api, in_time_order, [p for p, _ in sorted(plan.events, key=lambda e: e[1])],
         as_batch=True)
    shuffled = issue(api)
    snapshot.read(shuffled, None)  # its ledger is held: later parts come by the change log
    start = 0
    for size, as_batch in plan.parts:
        post(api, shuffled, [plan.events[i][0] for i in plan.order[start:start + size]],
             as_batch)
        start += size
        snapshot.read(shuffled, None)
    cold = CoverageSnapshot(store)  # a new worker: the store's own rows, nothing folded
    for at in instants(plan):
        expected = coverage_answers(snapshot, in_time_order, at)
        assert coverage_answers(snapshot, shuffled, at) == expected, at
        assert coverage_answers(cold, shuffled, at) == expected, at
    assert held_forwards(api, shuffled) == held_forwards(api, in_time_order)


def held_forwards(client: TestClient, request_id: str) -> list[tuple[str, str, str]]:
    listed = client.get("/v1/cascades", params={"request_id": request_id}).json()
    return [(e["from_id"], e["to_id"], e["sent_at"]) for e in listed]
