"""Survey rounds side by side, on both stores: a minerals survey reissued once, each round
read when the next was issued (the last now), with the companies each round covered or lost
and the response band the issuer's roll-up gives in each round."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from api_tests.cmrt_workbooks import Template, build
from api_tests.test_minerals_rollup import seed

ROUND_2 = "minerals-r2027"


def upload(client: TestClient, request_id: str, company: str, effective: str) -> None:
    response = client.post("/v1/imports", data={
        "kind": "cmrt", "request_id": request_id, "company_id": company},
        files={"file": (f"{company}.xlsx", build(Template(company=company.title(),
                                                            effective=effective)))})
    assert response.status_code == 200, response.text


def forward(client: TestClient, request_id: str, suppliers: list[str], at: str) -> None:
    response = client.post("/v1/cascades/batch", json={"items": [
        {"request_id": request_id, "from_id": "focal", "to_id": s, "sent_at": at}
        for s in suppliers]})
    assert response.status_code == 200, response.text


def answer(client: TestClient, request_id: str, company: str, status: str, at: str) -> None:
    assert client.post("/v1/acknowledgements", json={
        "request_id": request_id, "company_id": company, "status": status,
        "at": at}).status_code == 201


def two_rounds(client: TestClient) -> None:
    """Round 1: alpha accepts, beta files a CMRT, gamma never answers (overdue when round 2
    is issued). Round 2, forwarded again to all three: alpha declines, beta and gamma file."""
    seed(client)
    forward(client, "minerals", ["alpha", "beta", "gamma"], "2026-02-02T00:00:00Z")
    answer(client, "minerals", "alpha", "accepted", "2026-02-03T00:00:00Z")
    upload(client, "minerals", "beta", "2026-03-01")
    reissued = client.post("/v1/requests/minerals/reissue", json={
        "recascade": True, "issued_at": "2026-06-01T00:00:00Z"})
    assert reissued.status_code == 201, reissued.text
    answer(client, ROUND_2, "alpha", "declined", "2026-06-03T00:00:00Z")
    upload(client, ROUND_2, "beta", "2026-07-01")
    upload(client, ROUND_2, "gamma", "2026-07-01")


def rounds_of(client: TestClient, request_id: str, **params: str) -> list[dict[str, Any]]:
    response = client.get(f"/v1/requests/{request_id}/rounds", params=params)
    assert response.status_code == 200, response.text
    rounds: list[dict[str, Any]] = response.json()["rounds"]
    return rounds


def test_rounds_show_each_rounds_coverage_when_the_next_was_issued(client: TestClient) -> None:
    two_rounds(client)
    first, second = rounds_of(client, "minerals")
    assert (first["request_id"], first["version"], first["at"]) == (
        "minerals", "2026", "2026-06-01T00:00:00Z")
    # covered: alpha, beta of five; gaps alpha -> alpha-1, alpha-2; gamma overdue
    assert (first["coverage_ratio"], first["gaps"], first["overdue"]) == (0.4, 2, 1)
    assert first["uncovered_paths"] == 3  # to alpha-1, alpha-2 and gamma
    assert first["answered_share"] == 2 / 3
    assert first["response_band"] == {"CMRT": "50% or less"}  # beta's file: 1 of 3
    assert first["changes"] is None
    assert (second["request_id"], second["version"]) == (ROUND_2, "2027")
    # covered: beta, gamma; alpha declined, so nothing past it is a gap
    assert (second["coverage_ratio"], second["gaps"], second["overdue"]) == (0.4, 0, 0)
    assert second["uncovered_paths"] == 2 and second["answered_share"] == 1.0
    assert second["response_band"] == {"CMRT": "Greater than 50%"}  # 2 of 3
    assert second["changes"] == {"newly_covered": {"count": 1, "ids": ["gamma"]},
                                 "lost": {"count": 1, "ids": ["alpha"]}}


def test_any_round_of_the_survey_gives_the_same_rounds(client: TestClient) -> None:
    two_rounds(client)
    assert rounds_of(client, ROUND_2) == rounds_of(client, "minerals")


def test_as_of_leaves_out_later_rounds_and_reads_the_last_one_then(client: TestClient) -> None:
    two_rounds(client)
    (only,) = rounds_of(client, ROUND_2, as_of="2026-03-15T00:00:00Z")
    assert (only["request_id"], only["at"]) == ("minerals", "2026-03-15T00:00:00Z")
    assert only["overdue"] == 0 and only["counts"]["pending"] == 1  # gamma, due on April 3
    (first, second) = rounds_of(client, "minerals", as_of="2026-06-02T00:00:00Z")
    assert second["response_band"] == {"CMRT": "None"}  # no file yet in round 2


def test_a_survey_never_reissued_has_one_round_and_other_topics_no_band(
    client: TestClient
) -> None:
    seed(client)
    assert client.post("/v1/requests", json={
        "id": "bcp", "catalog_id": "bcp", "issuer_id": "focal",
        "issued_at": "2026-02-01T00:00:00Z"}).status_code == 201
    (only,) = rounds_of(client, "bcp")
    assert only["response_band"] is None and only["answered_share"] is None
    assert client.get("/v1/requests/nope/rounds").status_code == 404


def test_a_retried_reissue_replays_its_answer_and_leaves_one_new_round(
    client: TestClient
) -> None:
    seed(client)
    forward(client, "minerals", ["alpha", "beta", "gamma"], "2026-02-02T00:00:00Z")
    key, body = {"Idempotency-Key": "round-2027"}, {"recascade": True}
    first = client.post("/v1/requests/minerals/reissue", json=body, headers=key)
    again = client.post("/v1/requests/minerals/reissue", json=body, headers=key)
    assert (first.status_code, again.status_code) == (201, 201), again.text
    assert again.headers["Idempotent-Replayed"] == "true" and again.json() == first.json()
    assert first.json()["recascaded"] == 3
    assert [r["request_id"] for r in rounds_of(client, "minerals")] == ["minerals", ROUND_2]
    assert len(client.get("/v1/cascades", params={"request_id": ROUND_2}).json()) == 3

    other = client.post("/v1/requests/minerals/reissue", json={"recascade": False},
                        headers=key)
    assert other.status_code == 422
    assert other.json()["type"].endswith("/problems/idempotency-key-reused")
    unkeyed = client.post("/v1/requests/minerals/reissue", json=body)
    assert unkeyed.status_code == 409 and unkeyed.json()["field"] == "id"
    assert len(rounds_of(client, "minerals")) == 2
