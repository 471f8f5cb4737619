"""GET /v1/requests/{id}/coverage/history: counts over time, equal to the coverage at
each instant (both stores)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from api_tests.conftest import signed_in
from api_tests.test_coverage_snapshot import NOW, seed
from service.app import create_app
from service.config.settings import Settings
from service.store.port import CascadeStore

HISTORY = "/v1/requests/bcp/coverage/history"


@pytest.fixture
def client(store: CascadeStore) -> Iterator[TestClient]:
    seed(store)  # issued 11 days ago, reached a and c 10 days ago, due 30 days after
    with TestClient(create_app(Settings(), store=store)) as test_client:
        signed_in(test_client)
        answer = {"request_id": "bcp", "company_id": "a", "status": "accepted",
                  "at": (NOW - timedelta(days=3)).isoformat()}
        assert test_client.post("/v1/acknowledgements", json=answer).status_code == 201
        yield test_client


def test_each_point_is_the_coverage_at_that_instant(client: TestClient) -> None:
    start, to = NOW - timedelta(days=12), NOW + timedelta(days=30)
    history = client.get(HISTORY, params={"from": start.isoformat(), "to": to.isoformat(),
                                          "step": "P3D"}).json()
    assert history["from"].startswith(start.strftime("%Y-%m-%dT%H:%M"))
    assert history["step_seconds"] == 3 * 86400
    assert len(history["points"]) == 15
    for point in history["points"]:
        report = client.get("/v1/requests/bcp/coverage", params={"as_of": point["at"]}).json()
        assert point["counts"] == report["counts"]
        assert point["gaps"] == report["gaps"]
        assert point["uncovered_paths"] == report["paths"]["uncovered"]
        assert point["coverage_ratio"] == report["coverage_ratio"]
    first, last = history["points"][0], history["points"][-1]
    assert first["counts"]["unreached"] == 3  # before anything was sent
    assert last["counts"]["overdue"] == 1  # c never answered: overdue after 30 days
    assert {p["counts"]["acknowledged"] for p in history["points"]} == {0, 1}


def test_defaults_run_from_the_issue_to_now_by_day(client: TestClient) -> None:
    history = client.get(HISTORY).json()
    assert len(history["points"]) == 12  # 11 days and a bit, one a day
    issued = datetime.fromisoformat(history["points"][0]["at"].replace("Z", "+00:00"))
    assert abs(issued - (NOW - timedelta(days=11))) < timedelta(seconds=1)
    seconds = client.get(HISTORY, params={"step": "43200"}).json()
    assert len(seconds["points"]) == 23


@pytest.mark.parametrize(("params", "field"), [
    ({"step": "PT1M"}, "step"),
    ({"step": "PT0S"}, "step"),
    ({"step": "-3600"}, "step"),
    ({"from": NOW.isoformat(), "to": (NOW - timedelta(days=1)).isoformat()}, "to"),
    ({"from": NOW.isoformat(), "to": NOW.isoformat()}, "to"),  # from must be before to
    ({"from": (NOW + timedelta(days=1)).isoformat()}, "from"),  # after the default "now"
    ({"from": "2026-01-01T00:00:00"}, "from"),  # no offset
    ({"step": "sometimes"}, "step"),
    ({"step": "1e20"}, "step"),
])
def test_bad_ranges_name_the_field(client: TestClient, params: dict[str, str],
                                   field: str) -> None:
    response = client.get(HISTORY, params=params)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["field"] == field


def test_an_unknown_request_is_404(client: TestClient) -> None:
    assert client.get("/v1/requests/nope/coverage/history").status_code == 404


def test_iso_durations_and_seconds_give_the_same_points(client: TestClient) -> None:
    window = {"from": (NOW - timedelta(days=11)).isoformat(), "to": NOW.isoformat()}
    iso = client.get(HISTORY, params=window | {"step": "PT36H"}).json()
    seconds = client.get(HISTORY, params=window | {"step": str(36 * 3600)}).json()
    assert iso["points"] == seconds["points"] and len(iso["points"]) == 8
    bounded = {"from": (NOW - timedelta(seconds=600 * 999)).isoformat(), "to": NOW.isoformat()}
    assert len(client.get(HISTORY, params=bounded | {"step": "600"}).json()["points"]) == 1000
    assert client.get(HISTORY, params=bounded | {"step": "599"}).status_code == 422


def test_a_long_history_analyses_only_where_something_changed(
    store: CascadeStore, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from loaders.demo import load_demo_if_empty
    from service.coverage import answers
    from service.coverage.snapshot import CoverageSnapshot

    load_demo_if_empty(store)
    snapshot = CoverageSnapshot(store)
    request = store.get_request("demo-climate")
    assert request is not None
    step = (datetime.now(request.issued_at.tzinfo) - request.issued_at) / 999
    real, analysed = answers.analyse, []

    def counted(*args: object) -> object:
        analysed.append(1)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(answers, "analyse", counted)
    history = answers.history(snapshot, request_id="demo-climate", start=None, to=None,
                              step=step, max_points=1000)
    assert len(history.points) >= 999 and len(analysed) < len(history.points) / 2
    _, _, ledger = snapshot.ledger("demo-climate")
    for point in history.points[::37]:  # each point as a fresh analysis at its instant
        fresh = real(ledger, point.at)
        assert point.counts == fresh.state_counts()
        assert point.gaps == fresh.gap_links.size
        assert point.coverage_ratio == fresh.coverage_ratio


def test_histories_cost_more_of_the_rate_limit_than_polls(store: CascadeStore) -> None:
    seed(store)
    settings = Settings(rate_limit_per_minute=600)  # a burst of 60 tokens
    with TestClient(create_app(settings, store=store)) as test_client:
        signed_in(test_client)
        statuses = [test_client.get(HISTORY).status_code for _ in range(3)]
        assert statuses == [200, 200, 429]  # 30 tokens each
    with TestClient(create_app(settings, store=store)) as test_client:
        signed_in(test_client)
        assert {test_client.get("/v1/gap-counts").status_code for _ in range(50)} == {200}
