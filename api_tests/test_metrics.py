"""GET /metrics: Prometheus text with per-request coverage gauges, HTTP metrics and the
store gauge (both stores)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from api_tests.conftest import bearer, signed_in
from api_tests.test_coverage_snapshot import NOW, seed
from graph_models.models import Company, PolicyRequest, SupplyLink
from service.access.keys import Role
from service.app import create_app
from service.config.settings import Settings
from service.store.port import CascadeStore


@pytest.fixture
def client(store: CascadeStore) -> Iterator[TestClient]:
    seed(store)  # no revision watch: the tests write to the store and read at once
    with TestClient(create_app(Settings(revision_watch_ms=0), store=store)) as test_client:
        yield signed_in(test_client)


def samples(client: TestClient, headers: dict[str, str] | None = None) -> dict[tuple, float]:  # type: ignore[type-arg]
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(response.text)
            for s in family.samples}


def gauge(figures: dict[tuple, float], name: str, **labels: str) -> float:  # type: ignore[type-arg]
    return figures[(name, tuple(sorted({"request_id": "bcp", "topic": "business_continuity",
                                        **labels}.items())))]


def test_request_gauges_equal_the_gap_counts(client: TestClient) -> None:
    answer = {"request_id": "bcp", "company_id": "a", "status": "accepted",
              "at": (NOW - timedelta(days=1)).isoformat()}
    client.post("/v1/acknowledgements", json=answer)
    row = client.get("/v1/gap-counts").json()["requests"][0]
    figures = samples(client)
    for state in ["unreached", "pending", "overdue", "declined", "expired"]:
        assert gauge(figures, "cascade_request_companies", state=state) == row[state]
    assert gauge(figures, "cascade_request_companies", state="acknowledged") == 1
    assert gauge(figures, "cascade_request_gaps") == row["gaps"]
    assert gauge(figures, "cascade_request_uncovered_paths") == row["uncovered_paths"]
    assert gauge(figures, "cascade_request_coverage_ratio") == pytest.approx(row["coverage_ratio"])
    assert figures[("cascade_store_up", ())] == 1


def test_http_requests_are_counted_by_route_template(client: TestClient) -> None:
    client.get("/v1/requests/bcp/companies/a")
    client.get("/v1/requests/bcp/companies/b")
    client.get("/v1/companies/nobody")
    figures = samples(client)
    standing = (("method", "GET"), ("route", "/v1/requests/{request_id}/companies/{company_id}"),
                ("status", "200"))
    assert figures[("cascade_http_requests_total", standing)] == 2
    missing = (("method", "GET"), ("route", "/v1/companies/{company_id}"), ("status", "404"))
    assert figures[("cascade_http_requests_total", missing)] == 1
    labels = {value for (_, pairs) in figures for key, value in pairs if key != "le"}
    assert not labels & {"a", "b", "nobody"}  # no company ever becomes a label


def test_a_viewer_may_scrape(client: TestClient, store: CascadeStore) -> None:
    assert samples(client, bearer(store, Role.viewer))[("cascade_store_up", ())] == 1


def test_more_paths_than_a_float_holds_are_exported_as_infinity(
    client: TestClient, store: CascadeStore
) -> None:
    # 1,030 layers of two suppliers, each buying from both below: 2**1030 paths (> 1.8e308)
    layers = [[f"deep-{n}-{side}" for side in "lr"] for n in range(1030)]
    store.upsert_companies([Company(id="deep-focal", name="Deep")]
                           + [Company(id=c, name=c) for layer in layers for c in layer])
    buyers = [["deep-focal"], *layers[:-1]]
    store.add_links([SupplyLink(buyer_id=b, supplier_id=s)
                     for above, below in zip(buyers, layers, strict=True)
                     for b in above for s in below])
    store.create_request(PolicyRequest(id="deep", topic="csr_guideline", title="CSR",
                                       issuer_id="deep-focal", issued_at=NOW))
    rows = {row["request_id"]: row for row in client.get("/v1/gap-counts").json()["requests"]}
    assert rows["deep"]["uncovered_paths"] == 2**1030  # exact in JSON
    figures = samples(client)
    deep = {"request_id": "deep", "topic": "csr_guideline"}
    assert gauge(figures, "cascade_request_uncovered_paths", **deep) == math.inf
    assert gauge(figures, "cascade_request_companies", state="unreached", **deep) == 2060
    assert gauge(figures, "cascade_request_gaps") == rows["bcp"]["gaps"]  # the others as usual
