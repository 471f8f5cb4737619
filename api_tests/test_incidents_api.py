"""/v1/incidents on both stores: the earthquake of a small network drawn by hand, its
exposure, the exposed companies, the survey and its answers, the access rules."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api_tests.conftest import bearer
from service.access.keys import Role
from service.coverage.snapshot import CoverageSnapshot
from service.incidents.atlas import IncidentAtlas
from service.store.port import StoreUnavailable

TOKYO = {"lat": 35.6895, "lon": 139.6917}
NOW = datetime.now(UTC).replace(microsecond=0)


def at(hours: float) -> str:
    return (NOW - timedelta(hours=10) + timedelta(hours=hours)).isoformat()


def site(sid: str, region: str | None, lat: float | None = None,
         lon: float | None = None, country: str = "JP") -> dict[str, Any]:
    return {"id": sid, "name": sid, "country": country, "region": region, "lat": lat,
            "lon": lon}


COMPANIES = [
    {"id": "focal", "name": "Focal Electronics", "country": "JP"},
    {"id": "a", "name": "A Tokyo", "sites": [site("a-hq", "JP-13", **TOKYO)]},
    {"id": "b", "name": "B Munich", "country": "DE"},
    {"id": "c", "name": "C Kanagawa", "sites": [site("yok", "JP-14", 35.4437, 139.6380),
                                               site("osk", "JP-27", 34.6937, 135.5023)]},
    {"id": "d", "name": "D Taipei", "country": "TW"},
    {"id": "e", "name": "E Sendai", "country": "JP"},
]
# focal -> a -> c <-> d ; focal -> b -> c ; b -> e (e is a leaf)
LINKS = [("focal", "a"), ("focal", "b"), ("a", "c"), ("b", "c"), ("c", "d"), ("d", "c"),
         ("b", "e")]
QUAKE = {"id": "quake", "title": "Kanto earthquake", "kind": "earthquake",
         "occurred_at": at(0),
         "area": {"regions": ["JP-13"], "countries": ["TW"],
                  "circle": {**TOKYO, "radius_km": 40.0}}}


@pytest.fixture
def network(client: TestClient) -> TestClient:
    for company in COMPANIES:
        assert client.post("/v1/companies", json=company).status_code == 201, company
    for buyer, supplier in LINKS:
        response = client.post("/v1/links", json={"buyer_id": buyer, "supplier_id": supplier})
        assert response.status_code == 201
    return client


def test_the_earthquake_exposure(network: TestClient) -> None:
    created = network.post("/v1/incidents", json=QUAKE)
    assert created.status_code == 201, created.text
    assert created.json()["affected"] == 3  # a (region), c (circle), d (own country)
    bcp = network.post("/v1/requests", json={
        "id": "bcp", "topic": "business_continuity", "title": "BCP", "issuer_id": "focal",
        "issued_at": at(0)}).json()
    network.post("/v1/cascades", json={"request_id": bcp["id"], "from_id": "focal",
                                       "to_id": "a", "sent_at": at(1)})
    network.post("/v1/acknowledgements", json={"request_id": "bcp", "company_id": "a",
                                               "status": "accepted", "at": at(2)})
    body = network.get("/v1/incidents/quake/exposure", params={"root": "focal"}).json()
    assert body["exposed"] == 3
    assert body["tiers"] == [{"tier": 1, "exposed": 1}, {"tier": 2, "exposed": 1},
                             {"tier": 3, "exposed": 1}]
    assert body["tier1"] == [{"company_id": "a", "exposed_upstream": 3, "min_tier": 1},
                             {"company_id": "b", "exposed_upstream": 2, "min_tier": 2}]
    assert body["paths"] == {"total": 3, "exposed": 2}  # focal-b-e is clear
    assert body["bcp"] == {"request_id": "bcp", "states": {"acknowledged": 1, "unreached": 2}}

    page = network.get("/v1/incidents/quake/exposure/companies",
                       params={"root": "focal", "limit": 2}).json()
    assert [(c["company_id"], c["tier"], c["chain"], c["bcp_state"], c["matched"])
            for c in page["items"]] == [
        ("a", 1, ["focal", "a"], "acknowledged", {"by": "regions", "site_id": "a-hq"}),
        ("c", 2, ["focal", "a", "c"], "unreached", {"by": "circle", "site_id": "yok"})]
    rest = network.get("/v1/incidents/quake/exposure/companies",
                       params={"root": "focal", "cursor": page["next_cursor"]}).json()
    assert [(c["company_id"], c["chain"], c["matched"]) for c in rest["items"]] == [
        ("d", ["focal", "a", "c", "d"], {"by": "countries", "site_id": None})]
    assert rest["next_cursor"] is None


def test_exposure_follows_only_the_listed_categories(network: TestClient) -> None:
    network.post("/v1/links", json={"buyer_id": "e", "supplier_id": "d",
                                    "category": "logistics"})
    network.post("/v1/incidents", json=QUAKE)
    body = network.get("/v1/incidents/quake/exposure",
                       params={"root": "b", "categories": "logistics"}).json()
    assert (body["exposed"], body["tier1"], body["paths"]) == (0, [], {"total": 1, "exposed": 0})
    everything = network.get("/v1/incidents/quake/exposure", params={"root": "b"}).json()
    assert everything["tiers"] == [{"tier": 1, "exposed": 1}, {"tier": 2, "exposed": 1}]
    assert everything["bcp"] == {"request_id": None, "states": {}}


def test_affected_is_recomputed_when_a_company_moves(network: TestClient) -> None:
    network.post("/v1/incidents", json=QUAKE)
    moved = network.patch("/v1/companies/e", json={"sites": [site("sendai", "JP-13")]})
    assert moved.status_code == 200 and moved.json()["sites"][0]["region"] == "JP-13"
    assert network.get("/v1/incidents/quake").json()["affected"] == 4
    network.patch("/v1/companies/e", json={"sites": []})
    assert network.get("/v1/incidents/quake").json()["affected"] == 3


def test_the_survey_runs_like_any_request(network: TestClient) -> None:
    network.post("/v1/incidents", json=QUAKE)
    survey = network.post("/v1/incidents/quake/survey",
                          json={"root": "focal", "due_hours": 48, "id": "report"})
    assert survey.status_code == 201, survey.text
    request = survey.json()
    assert (request["topic"], request["incident_id"], request["due_hours"],
            request["valid_days"]) == ("incident_report", "quake", 48, None)
    assert network.get("/v1/incidents/quake").json()["surveys"] == ["report"]
    for frm, to, hours in (("focal", "a", 1), ("a", "c", 2)):
        network.post("/v1/cascades", json={"request_id": "report", "from_id": frm,
                                           "to_id": to, "sent_at": at(hours)})
    for company, hours, impact in (("a", 3, "severe"), ("c", 6, "none")):
        answer = network.post("/v1/acknowledgements", json={
            "request_id": "report", "company_id": company, "status": "accepted",
            "at": at(hours), "evidence": {"impact": impact}})
        assert answer.status_code == 201, answer.text
    coverage = network.get("/v1/requests/report/coverage").json()
    # e is reached by focal but reaches nothing exposed: outside the cone
    assert coverage["counts"]["not_applicable"] == 1
    assert coverage["counts"]["acknowledged"] == 2
    assert coverage["impact"] == {"none": 1, "partial": 0, "severe": 1, "unknown": 0}
    assert coverage["time_to_report_hours"] == {"median": 3.0, "p90": pytest.approx(3.8)}
    gaps = network.get("/v1/requests/report/gaps").json()["items"]
    assert {(g["from_id"], g["to_id"]) for g in gaps} == {("focal", "b"), ("c", "d")}


def test_the_survey_covers_the_cone_over_the_exposures_categories(network: TestClient) -> None:
    # e reaches the exposed d over a logistics link only
    network.post("/v1/links", json={"buyer_id": "e", "supplier_id": "d",
                                    "category": "logistics"})
    network.post("/v1/incidents", json=QUAKE)
    survey = network.post("/v1/incidents/quake/survey", json={
        "root": "b", "due_hours": 24, "id": "components-report",
        "categories": [" components "]})
    assert survey.status_code == 201, survey.text
    assert survey.json()["categories"] == ["components"]
    stored = network.get("/v1/requests/components-report").json()
    assert stored["applies_to"]["categories"] == ["components"]
    assert sorted(stored["applies_to"]["companies"]) == ["b", "c", "d"]
    every_link = network.post("/v1/incidents/quake/survey", json={
        "root": "b", "due_hours": 24, "id": "full-report"}).json()
    assert (every_link["categories"], sorted(every_link["applies_to"]["companies"])) == (
        None, ["b", "c", "d", "e"])
    counts = network.get("/v1/requests/components-report/coverage").json()["counts"]
    assert (counts["not_applicable"], counts["unreached"]) == (1, 2)  # e; c and d
    refused = network.post("/v1/incidents/quake/survey", json={
        "root": "b", "due_hours": 24, "categories": []})
    assert refused.status_code == 422 and refused.json()["field"].startswith("categories")


def test_bad_input_names_the_field(network: TestClient) -> None:
    def problem(response: Any, status: int) -> str:
        assert response.status_code == status, response.text
        return str(response.json())

    assert "area" in problem(network.post("/v1/incidents", json={**QUAKE, "area": {}}), 422)
    assert "area" in problem(network.post("/v1/incidents", json={
        **QUAKE, "area": {"countries": [], "company_ids": []}}), 422)
    assert "ghost" in problem(network.post("/v1/incidents", json={
        **QUAKE, "area": {"company_ids": ["a", "ghost"]}}), 422)
    assert "kind" in problem(network.post("/v1/incidents", json={**QUAKE, "kind": "meteor"}),
                             422)
    assert "lat" in problem(network.post("/v1/companies", json={
        "id": "x", "name": "X", "sites": [{"id": "s", "name": "S", "country": "JP",
                                           "lat": 35.0}]}), 422)
    network.post("/v1/incidents", json=QUAKE)
    assert problem(network.post("/v1/incidents", json=QUAKE), 409)
    problem(network.get("/v1/incidents/quake/exposure", params={"root": "nobody"}), 404)
    problem(network.get("/v1/incidents/none/exposure", params={"root": "focal"}), 404)
    assert "impact" in problem(network.post("/v1/acknowledgements", json={
        "request_id": "x", "company_id": "a", "status": "accepted",
        "evidence": {"impact": "catastrophic"}}), 422)


def test_close_and_list(network: TestClient) -> None:
    network.post("/v1/incidents", json=QUAKE)
    network.post("/v1/incidents", json={**QUAKE, "id": "flood", "kind": "flood"})
    closed = network.patch("/v1/incidents/quake", json={"closed_at": at(30)})
    assert closed.status_code == 200 and closed.json()["closed_at"] is not None
    first = network.get("/v1/incidents", params={"limit": 1}).json()
    assert [i["id"] for i in first["items"]] == ["flood"]
    second = network.get("/v1/incidents", params={"cursor": first["next_cursor"]}).json()
    assert [i["id"] for i in second["items"]] == ["quake"]


def test_viewers_read_and_only_staff_write(network: TestClient) -> None:
    store = network.app.state.services.store  # type: ignore[attr-defined]
    viewer, staff = bearer(store, Role.viewer), bearer(store, Role.procurement)
    assert network.post("/v1/incidents", json=QUAKE, headers=viewer).status_code == 403
    assert network.post("/v1/incidents", json=QUAKE, headers=staff).status_code == 201
    assert network.get("/v1/incidents/quake/exposure", params={"root": "focal"},
                       headers=viewer).status_code == 200
    assert network.post("/v1/incidents/quake/survey", json={"root": "focal", "due_hours": 24},
                        headers=viewer).status_code == 403


def test_incident_created_webhook_carries_the_exposure(network: TestClient) -> None:
    network.post("/v1/requests", json={"id": "bcp", "topic": "business_continuity",
                                       "title": "BCP", "issuer_id": "focal"})
    hook = network.post("/v1/webhooks", json={"url": "https://hooks.example.com/incidents",
                                              "events": ["incident.created"]}).json()
    network.post("/v1/incidents", json=QUAKE)
    store = network.app.state.services.store  # type: ignore[attr-defined]
    [delivery] = store.list_deliveries(hook["id"])
    data = json.loads(delivery.payload)["data"]
    assert (delivery.event_type, data["incident"]["id"]) == ("incident.created", "quake")
    [summary] = data["exposure"]
    assert (summary["root"], summary["exposed"], summary["paths"]) == \
        ("focal", 3, {"total": 3, "exposed": 2})


def test_a_starting_worker_computes_open_incidents_exposure(
        network: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    network.post("/v1/requests", json={"id": "bcp", "topic": "business_continuity",
                                       "title": "BCP", "issuer_id": "focal"})
    network.post("/v1/incidents", json=QUAKE)
    network.post("/v1/incidents", json={**QUAKE, "id": "old", "title": "Closed flood",
                                        "area": {"countries": ["DE"]}})
    network.patch("/v1/incidents/old", json={"closed_at": at(30)})
    store = network.app.state.services.store  # type: ignore[attr-defined]
    atlas = IncidentAtlas(store, CoverageSnapshot(store))  # a worker's, fresh
    assert atlas.warm() == 1  # the open quake for the one issuer; the closed flood not
    network.patch("/v1/incidents/quake", json={"closed_at": at(31)})
    fresh = IncidentAtlas(store, CoverageSnapshot(store))
    reads: list[object] = []
    read_locations = store.company_locations
    monkeypatch.setattr(store, "company_locations",
                        lambda *ids: reads.append(ids) or read_locations(*ids))
    assert fresh.warm() == 0  # nothing open: no exposure, but the BCP issuer's reach bits
    assert fresh.base("focal", None).has_reach_bits  # ready for the next incident
    assert len(reads) == 1  # and where companies are, read once while starting
    area = store.get_incident("quake").area.pure()
    assert fresh.exposure(fresh.base("focal", None), area).count == 3
    assert len(reads) == 1  # the next incident's exposure reads nothing more


def incident_hook(network: TestClient) -> tuple[Any, str]:
    """The app's store and a webhook subscribed to `incident.created`."""
    network.post("/v1/requests", json={"id": "bcp", "topic": "business_continuity",
                                       "title": "BCP", "issuer_id": "focal"})
    hook = network.post("/v1/webhooks", json={"url": "https://hooks.example.com/incidents",
                                              "events": ["incident.created"]}).json()
    return network.app.state.services.store, hook["id"]  # type: ignore[attr-defined]


def test_an_incident_and_its_webhook_delivery_commit_together(
    network: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, hook_id = incident_hook(network)

    def store_lost(events: Any) -> int:  # the store goes away between the two writes
        raise StoreUnavailable("connection lost")

    monkeypatch.setattr(store, "enqueue_events", store_lost)
    assert network.post("/v1/incidents", json=QUAKE).status_code == 503
    monkeypatch.undo()
    assert network.get("/v1/incidents/quake").status_code == 404  # neither was kept
    assert store.list_deliveries(hook_id) == []
    assert network.post("/v1/incidents", json=QUAKE).status_code == 201  # the retry
    [delivery] = store.list_deliveries(hook_id)
    assert json.loads(delivery.payload)["data"]["incident"]["id"] == "quake"


def test_a_retried_post_enqueues_one_delivery(network: TestClient) -> None:
    store, hook_id = incident_hook(network)
    unnamed = {key: value for key, value in QUAKE.items() if key != "id"}
    key = {"Idempotency-Key": "quake-report-1"}
    first = network.post("/v1/incidents", json=unnamed, headers=key)
    again = network.post("/v1/incidents", json=unnamed, headers=key)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["Idempotent-Replayed"] == "true" and again.json() == first.json()
    assert [i["id"] for i in network.get("/v1/incidents").json()["items"]] == [
        first.json()["id"]]
    named = network.post("/v1/incidents", json=QUAKE)
    assert network.post("/v1/incidents", json=QUAKE).status_code == 409  # same id again
    deliveries = store.list_deliveries(hook_id)
    assert sorted(json.loads(d.payload)["data"]["incident"]["id"] for d in deliveries) == \
        sorted([first.json()["id"], named.json()["id"]])


def test_a_retried_survey_replays_its_answer_and_issues_one_survey(network: TestClient) -> None:
    network.post("/v1/incidents", json=QUAKE)
    key, body = {"Idempotency-Key": "quake-survey-1"}, {"root": "focal", "due_hours": 24}
    first = network.post("/v1/incidents/quake/survey", json=body, headers=key)
    again = network.post("/v1/incidents/quake/survey", json=body, headers=key)
    assert (first.status_code, again.status_code) == (201, 201), again.text
    assert again.headers["Idempotent-Replayed"] == "true" and again.json() == first.json()
    assert network.get("/v1/incidents/quake").json()["surveys"] == [first.json()["id"]]
    assert [r["id"] for r in network.get("/v1/requests").json()
            if r["topic"] == "incident_report"] == [first.json()["id"]]

    other = network.post("/v1/incidents/quake/survey", json={**body, "due_hours": 48},
                         headers=key)
    assert other.status_code == 422
    assert other.json()["type"].endswith("/problems/idempotency-key-reused")
    assert network.get("/v1/incidents/quake").json()["surveys"] == [first.json()["id"]]


def test_a_survey_and_its_incident_commit_together(
    network: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    network.post("/v1/incidents", json=QUAKE)
    store = network.app.state.services.store  # type: ignore[attr-defined]

    def store_lost(incident: Any) -> bool:  # the store goes away between the two writes
        raise StoreUnavailable("connection lost")

    monkeypatch.setattr(store, "replace_incident", store_lost)
    survey = {"root": "focal", "due_hours": 24, "id": "report"}
    assert network.post("/v1/incidents/quake/survey", json=survey).status_code == 503
    monkeypatch.undo()
    assert network.get("/v1/requests/report").status_code == 404  # neither was kept
    assert network.post("/v1/incidents/quake/survey", json=survey).status_code == 201
    assert network.get("/v1/incidents/quake").json()["surveys"] == ["report"]
