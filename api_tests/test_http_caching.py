"""ETag, Cache-Control and 304 on the gap counts and the coverage reads (both stores)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api_tests.conftest import signed_in, warmed
from api_tests.test_coverage_snapshot import NOW, seed
from service.app import create_app
from service.config.settings import Settings
from service.coverage import snapshot as coverage_module
from service.store.port import CascadeStore

COVERAGE_READS = [
    "/v1/requests/bcp/coverage",
    "/v1/requests/bcp/gaps",
    "/v1/requests/bcp/uncovered-paths",
    "/v1/requests/bcp/companies/a",
]
ANSWER = {"request_id": "bcp", "company_id": "a", "status": "accepted",
          "at": (NOW - timedelta(days=1)).isoformat()}


@pytest.fixture
def client(store: CascadeStore) -> Iterator[TestClient]:
    seed(store)
    with TestClient(create_app(Settings(revision_watch_ms=0), store=store)) as test_client:
        yield signed_in(warmed(test_client))


def revalidate(client: TestClient, path: str, tag: str) -> int:
    return client.get(path, headers={"If-None-Match": tag}).status_code


@pytest.mark.parametrize("path", ["/v1/gap-counts", *COVERAGE_READS])
def test_a_current_tag_gets_304_without_a_body(client: TestClient, path: str) -> None:
    first = client.get(path)
    tag = first.headers["ETag"]
    assert first.status_code == 200
    assert tag.startswith('"') and not tag.startswith("W/")  # strong
    assert first.headers["Cache-Control"] == "private, no-cache"
    again = client.get(path, headers={"If-None-Match": f'"other", {tag}'})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["ETag"] == tag
    assert client.get(path).content == first.content  # same tag, same bytes
    assert revalidate(client, path, '"stale"') == 200


@pytest.mark.parametrize("path", ["/v1/gap-counts", *COVERAGE_READS])
def test_an_acknowledgement_changes_the_tag(client: TestClient, path: str) -> None:
    tag = client.get(path).headers["ETag"]
    assert client.post("/v1/acknowledgements", json=ANSWER).status_code == 201
    assert revalidate(client, path, tag) == 200
    assert client.get(path).headers["ETag"] != tag


def test_a_304_on_coverage_does_not_recompute(client: TestClient) -> None:
    path = COVERAGE_READS[0]
    tag = client.get(path).headers["ETag"]
    service = client.app.state.services.coverage  # type: ignore[attr-defined]
    computed = service.analyses
    assert [revalidate(client, path, tag) for _ in range(5)] == [304] * 5
    assert service.analyses == computed


@pytest.mark.parametrize("path", ["/v1/gap-counts", COVERAGE_READS[0]])
def test_the_tag_changes_when_the_clock_turns_a_state(
    client: TestClient, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    tag = client.get(path).headers["ETag"]
    a_day_later = NOW + timedelta(days=1)  # nobody's answer falls due: same answer
    monkeypatch.setattr(coverage_module, "utc_now", lambda: a_day_later)
    assert revalidate(client, path, tag) == 304
    overdue = NOW + timedelta(days=21)  # reached 10 days ago, due in 30: now overdue
    monkeypatch.setattr(coverage_module, "utc_now", lambda: overdue)
    assert revalidate(client, path, tag) == 200


def test_an_explicit_as_of_has_its_own_tag(client: TestClient) -> None:
    path = COVERAGE_READS[0]
    now_tag = client.get(path).headers["ETag"]
    earlier = client.get(path, params={"as_of": (NOW - timedelta(days=5)).isoformat()})
    assert earlier.headers["ETag"] != now_tag
    assert client.get(path, params={"as_of": (NOW - timedelta(days=5)).isoformat()},
                      headers={"If-None-Match": earlier.headers["ETag"]}).status_code == 304


@pytest.mark.parametrize("path", COVERAGE_READS)
def test_an_as_of_answer_is_analysed_once_and_its_304_not_at_all(
    client: TestClient, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    analysed: list[datetime] = []

    def counted(ledger: Any, as_of: datetime, previous: Any = None) -> Any:
        analysed.append(as_of)
        return real(ledger, as_of, previous)

    real = coverage_module.analyse
    monkeypatch.setattr(coverage_module, "analyse", counted)
    as_of = {"as_of": (NOW - timedelta(days=2)).isoformat()}
    tag = client.get(path, params=as_of).headers["ETag"]
    assert len(analysed) == 1  # the tag needs no analysis: only the body ran one
    response = client.get(path, params=as_of, headers={"If-None-Match": tag})
    assert response.status_code == 304
    assert len(analysed) == 1


def test_each_page_and_target_has_its_own_tag(client: TestClient) -> None:
    path = "/v1/requests/bcp/uncovered-paths"  # focal -> a -> b and focal -> c: 2 paths
    first = client.get(path, params={"limit": 1})
    cursor = first.json()["next_cursor"]
    variants = [{"limit": 1}, {"limit": 2}, {"limit": 1, "cursor": cursor},
                {"limit": 1, "target": "c"}]
    tags = [client.get(path, params=query).headers["ETag"] for query in variants]
    assert len(set(tags)) == len(variants)
    # the first page's tag does not stand for a longer page: that one comes in full
    wider = client.get(path, params={"limit": 2}, headers={"If-None-Match": tags[0]})
    assert wider.status_code == 200 and len(wider.json()["items"]) == 2


def test_an_unknown_request_is_404_not_a_tag(client: TestClient) -> None:
    as_of = {"as_of": NOW.isoformat()}
    for params in ({}, as_of):
        response = client.get("/v1/requests/nope/coverage", params=params)
        assert response.status_code == 404
        assert "ETag" not in response.headers
