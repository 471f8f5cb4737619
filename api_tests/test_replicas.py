"""Replicas on one store (docs/scaling.md): the Neo4j store through the routing scheme
(`neo4j://`, what a cluster is reached by; the local Neo4j answers it as a one-server
cluster) passes a representative part of the store contract, and a client that wrote
through one replica reads its write through another by echoing `Cascade-Bookmark`."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api_tests import test_idempotency as idempotency
from api_tests import test_store_contract as contract
from api_tests import test_store_snapshot as snapshots
from api_tests.conftest import bearer, require_neo4j, warmed
from graph_models.models import Company, utc_now
from service.app import create_app
from service.config.settings import Settings
from service.coverage.freshness import BOOKMARK_HEADER
from service.store.neo4j import Neo4jStore
from service.store.port import CascadeStore, InvalidBookmark
from service.store.sqlite import SqliteStore


def routing_uri() -> str:
    """The test Neo4j's URI with the routing scheme (bolt+s:// becomes neo4j+s://)."""
    uri = str(require_neo4j()["uri"])
    return "neo4j" + uri.removeprefix("bolt") if uri.startswith("bolt") else uri


def routed_store() -> Neo4jStore:
    cfg = require_neo4j()
    return Neo4jStore(routing_uri(), user=cfg["user"], password=cfg["password"],
                      database=cfg["database"] or "neo4j")


@pytest.fixture
def store() -> Iterator[CascadeStore]:
    """Overrides conftest's: an empty Neo4j store reached through `neo4j://`."""
    routed = routed_store()
    routed.clear_all()
    routed.init_schema()
    yield routed
    routed.close()


# The contract, re-collected here on the routing store: every kind of read (keys, pages,
# change log, cold read, idempotency records) and write, and concurrent writers.
test_fresh_store = contract.test_a_fresh_store_is_empty_at_revision_zero
test_upsert = contract.test_upsert_reports_created_updated_and_unchanged
test_company_pages = contract.test_companies_page_by_id_with_a_keyset_cursor
test_existing_ids = contract.test_existing_company_ids_is_the_known_subset
test_links = contract.test_links_report_created_unchanged_and_category_updates
test_cascades = contract.test_a_cascade_is_recorded_once_and_keeps_its_earliest_sent_at
test_answers = contract.test_an_identical_answer_is_a_retry_returning_the_stored_one
test_force_delete = contract.test_force_deletes_the_company_with_its_links_events_and_answers
test_network = contract.test_load_network_has_every_company_kind_every_link_and_the_revision
test_events = contract.test_request_events_hold_everything_of_one_request_only
test_concurrent = contract.test_concurrent_writers_lose_nothing_and_count_every_change
test_change_log = contract.test_requests_and_events_show_up_once_after_the_revision_seen
test_replay = contract.test_replaying_changes_on_a_cached_copy_gives_the_current_state
test_cold_read = snapshots.test_a_snapshot_holds_the_network_and_the_events_asked_for
test_cold_read_churn = snapshots.test_a_snapshot_follows_deletes_and_re_creations
test_idempotency_record = idempotency.test_a_finished_record_is_returned_until_it_expires
test_one_claim_wins = idempotency.test_concurrent_claims_have_one_winner
test_atomic = idempotency.test_atomic_writes_all_or_nothing


def test_a_second_driver_waits_for_the_first_ones_write(store: CascadeStore) -> None:
    writer, reader = store, routed_store()  # two processes' stores: two drivers
    try:
        before = writer.bookmarks()
        writer.upsert_companies([Company(id="acme", name="ACME")])
        written = writer.bookmarks()
        assert written and written != before  # the write's own bookmark
        reader.catch_up(written)
        assert reader.get_company("acme") is not None
        assert reader.revision() == writer.revision() == 1
        with pytest.raises(InvalidBookmark):  # the tokens reach the database
            reader.catch_up(["FB:not-a-bookmark"])
    finally:
        reader.close()


# -- read-your-writes over HTTP, two replicas of the service on one store ---------------

Replicas = tuple[TestClient, TestClient]
SLOW_WATCH = Settings(revision_watch_ms=2_000)  # a poll is a cache hit for seconds


def replica(store: CascadeStore, auth: dict[str, str]) -> TestClient:
    client = TestClient(create_app(SLOW_WATCH, store=store))
    client.headers.update(auth)
    return client


@pytest.fixture(params=["sqlite", "neo4j"])
def replicas(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Replicas]:
    """Two apps, each with its own store object (its own connection or driver) on one
    database, as two replicas behind a load balancer; the same admin key works on both."""
    opened: Callable[[], CascadeStore]
    if request.param == "sqlite":
        path = str(tmp_path / "cascade.db")
        opened = lambda: SqliteStore(path)  # noqa: E731
    else:
        opened = routed_store
    first = opened()
    if request.param == "neo4j":
        first.clear_all()
    first.init_schema()
    second = opened()
    try:
        auth = bearer(first)
        with replica(first, auth) as a, replica(second, auth) as b:
            yield warmed(a), warmed(b)
    finally:
        first.close()
        second.close()


def pending(client: TestClient, headers: dict[str, str] | None = None) -> int:
    answer = client.get("/v1/gap-counts", headers=headers or {})
    assert answer.status_code == 200
    [row] = answer.json()["requests"]
    return int(row["pending"])


def seed(client: TestClient) -> None:
    for company in ("focal", "tier1"):
        created = client.post("/v1/companies", json={"id": company, "name": company})
        assert created.status_code == 201
    assert client.post("/v1/links", json={"buyer_id": "focal", "supplier_id": "tier1"}
                       ).status_code == 201
    issued = (utc_now() - timedelta(days=1)).isoformat()
    assert client.post("/v1/requests", json={
        "id": "bcp", "topic": "business_continuity", "title": "BCP", "issuer_id": "focal",
        "issued_at": issued, "due_days": 30}).status_code == 201
    assert client.post("/v1/cascades", json={
        "request_id": "bcp", "from_id": "focal", "to_id": "tier1", "sent_at": issued,
    }).status_code == 201


def test_a_client_echoing_its_bookmark_reads_its_write_on_another_replica(
    replicas: Replicas,
) -> None:
    a, b = replicas
    seed(a)
    b_dashboard = b.app.state.services.dashboard  # type: ignore[attr-defined]
    deadline = utc_now() + timedelta(seconds=10)
    while b_dashboard.cached_body() is None:  # b's polls are now answered from memory
        assert utc_now() < deadline, "replica b never served a poll from its cache"
        assert pending(b) == 1
        time.sleep(0.2)  # (polling flat out would meet the rate limit)
    answered = a.post("/v1/acknowledgements",
                      json={"request_id": "bcp", "company_id": "tier1", "status": "accepted"})
    assert answered.status_code == 201
    bookmark = answered.headers[BOOKMARK_HEADER]
    assert pending(b, {BOOKMARK_HEADER: bookmark}) == 0  # at once, not after the watch
    assert pending(a) == 0


def test_a_malformed_bookmark_is_refused_naming_the_header(replicas: Replicas) -> None:
    a, _ = replicas
    refused = a.get("/v1/gap-counts", headers={BOOKMARK_HEADER: "two words"})
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["field"] == BOOKMARK_HEADER


def test_the_api_document_says_where_the_bookmark_goes(replicas: Replicas) -> None:
    a, _ = replicas
    document = a.get("/openapi.json").json()
    header = {"$ref": "#/components/headers/CascadeBookmark"}
    answered = document["paths"]["/v1/acknowledgements"]["post"]["responses"]["201"]
    assert answered["headers"][BOOKMARK_HEADER] == header  # a write answers with it
    sent = {"$ref": "#/components/parameters/CascadeBookmark"}
    assert sent in document["paths"]["/v1/gap-counts"]["get"]["parameters"]  # a read sends it
    pattern = document["components"]["parameters"]["CascadeBookmark"]["schema"]["pattern"]
    assert re.fullmatch(pattern, "FB:kcwQ46jm2BsZ, FB:kcwQ46jm2Bs")
    assert not re.fullmatch(pattern, "two words")  # what the service refuses, the schema does


def test_a_bookmark_the_database_refuses_is_a_422_not_a_500() -> None:
    store = routed_store()
    store.init_schema()
    try:
        with replica(store, bearer(store)) as client:
            refused = warmed(client).get("/v1/requests",
                                         headers={BOOKMARK_HEADER: "FB:not-a-bookmark"})
        assert refused.status_code == 422
        assert refused.json()["field"] == BOOKMARK_HEADER
    finally:
        store.close()
