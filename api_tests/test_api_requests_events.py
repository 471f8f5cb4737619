"""REST contract of the catalog, policy requests, cascade events and acknowledgements.

Every test runs on the embedded SQLite store and on a real Neo4j (the `client` fixture).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

PROBLEM_JSON = "application/problem+json"
ISSUED = "2026-01-05T00:00:00Z"


def assert_problem(
    response: httpx.Response, status: int, field: str | None = None
) -> dict[str, Any]:
    """An RFC 9457 problem with the given status, naming `field` when one is given."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    problem = response.json()
    assert {"type", "title", "status", "detail"} <= problem.keys()
    if field is not None:
        named = {problem.get("field")} | {e["field"] for e in problem.get("errors", [])}
        assert field in named, problem
    return problem


def parse(instant: str) -> datetime:
    return datetime.fromisoformat(instant.replace("Z", "+00:00"))


def post_network(client: TestClient, links: list[tuple[str, str, str]]) -> None:
    """Companies named in `links` (buyer, supplier, category), then the links."""
    for cid in dict.fromkeys(c for link in links for c in link[:2]):
        kind = "smelter" if "smelter" in cid else "manufacturer"
        response = client.post("/v1/companies", json={"id": cid, "name": cid.title(),
                                                      "kind": kind})
        assert response.status_code == 201, response.text
    for buyer, supplier, category in links:
        response = client.post("/v1/links", json={"buyer_id": buyer, "supplier_id": supplier,
                                                  "category": category})
        assert response.status_code == 201, response.text


CHAIN = [
    ("focal-jp", "acme-pcb", "components"),
    ("acme-pcb", "resin-co", "raw_materials"),
    ("resin-co", "tin-smelter-id", "raw_materials"),
]


def issue(client: TestClient, request_id: str = "bcp-2026", **fields: Any) -> dict[str, Any]:
    body = {"id": request_id, "topic": "business_continuity", "title": "BCP 2026",
            "issuer_id": "focal-jp", "issued_at": ISSUED, "due_days": 30} | fields
    response = client.post("/v1/requests", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def cascade(client: TestClient, sender: str, receiver: str, sent_at: str | None = None,
            request_id: str = "bcp-2026") -> httpx.Response:
    body = {"request_id": request_id, "from_id": sender, "to_id": receiver}
    if sent_at is not None:
        body["sent_at"] = sent_at
    return client.post("/v1/cascades", json=body)


def acknowledge(client: TestClient, company_id: str, status: str | None, at: str | None = None,
                request_id: str = "bcp-2026", **extra: Any) -> httpx.Response:
    body = {"request_id": request_id, "company_id": company_id, "status": status} | extra
    if at is not None:
        body["at"] = at
    return client.post("/v1/acknowledgements", json=body)


def standing(client: TestClient, company_id: str, as_of: str = "2026-01-20T00:00:00Z",
             request_id: str = "bcp-2026") -> dict[str, Any]:
    response = client.get(f"/v1/requests/{request_id}/companies/{company_id}",
                          params={"as_of": as_of})
    assert response.status_code == 200, response.text
    return response.json()


# -- catalog ------------------------------------------------------------------------------

POLICIES = {
    "bcp": ("business_continuity", None),
    "minerals-2026": ("conflict_minerals", ["components", "raw_materials"]),
    "conflict-minerals-2017": ("conflict_minerals", ["components", "raw_materials"]),
    "reach": ("reach", ["components", "raw_materials"]),
    "climate": ("climate_change", None),
    "construction-ohs": ("construction_safety", ["construction"]),
    "modern-slavery": ("modern_slavery", None),
}
ESSENTIAL_ITEMS = [
    "I-1", "I-2", "I-3", *[f"II-{i}" for i in range(1, 10)], *[f"III-{i}" for i in range(1, 9)],
    "IV-1", "IV-2", "V-1", "V-2", "V-3", "VI-1", "VI-2", "VI-9", *[f"VII-{i}" for i in range(1, 8)],
]
RECOMMENDED_ITEMS = ["VI-3", "VI-4", "VI-5", "VI-6", "VI-7", "VI-8", "VI-10", "VI-11", "VI-12",
                     "VI-13", "VI-14"]


@pytest.fixture
def catalog(client: TestClient) -> dict[str, dict[str, Any]]:
    response = client.get("/v1/catalog")
    assert response.status_code == 200
    entries = response.json()
    by_id = {e["catalog_id"]: e for e in entries}
    assert len(by_id) == len(entries), "catalog ids are unique"
    return by_id


def test_catalog_lists_every_part2_policy_with_topic_and_applicability(catalog) -> None:
    for catalog_id, (topic, categories) in POLICIES.items():
        entry = catalog[catalog_id]
        assert entry["topic"] == topic, catalog_id
        assert sorted(entry["applies_to"]["categories"] or []) == sorted(categories or []), \
            catalog_id
        assert (entry["applies_to"]["categories"] is None) == (categories is None), catalog_id
        assert entry["applies_to"]["kinds"] is None, catalog_id
        assert entry["title"] and entry["description"], catalog_id


def test_catalog_minerals_2026_supersedes_2017_with_yearly_surveys(catalog) -> None:
    minerals = catalog["minerals-2026"]
    assert minerals["supersedes"] == "conflict-minerals-2017"
    assert minerals["valid_days"] == 365
    for mineral in ("tin", "tantalum", "tungsten", "gold", "cobalt", "mica"):
        assert mineral in minerals["description"].lower()


def test_catalog_part1_items_with_mandatory_as_the_guideline_says(catalog) -> None:
    items = {e["title"].split(" ", 1)[0]: e for e in catalog.values()
             if e["part"] == "action_item"}
    for item in ESSENTIAL_ITEMS:
        assert items[item]["mandatory"] is True, item
    for item in RECOMMENDED_ITEMS:
        assert items[item]["mandatory"] is False, item
    # every listed item, plus "disclose appropriate company information" (clause illegible)
    assert set(items) >= set(ESSENTIAL_ITEMS) | set(RECOMMENDED_ITEMS)
    assert len(items) == len(ESSENTIAL_ITEMS) + len(RECOMMENDED_ITEMS) + 1
    assert all(e["topic"] == "csr_guideline" for e in items.values())
    assert items["II-3"]["iso26000"] == "6.3"
    assert items["III-1"]["iso26000"] == "6.4"
    assert items["VI-1"]["iso26000"] == "6.5"
    assert items["VII-1"]["iso26000"] == "6.6"
    assert items["IV-1"]["iso26000"] == "6.7"
    assert items["I-3"]["iso26000"] == "6.8"
    assert items["I-1"]["iso26000"] == "6.2"


def test_catalog_offers_part1_as_one_request(catalog) -> None:
    whole = [e for e in catalog.values()
             if e["topic"] == "csr_guideline" and e["part"] != "action_item"]
    assert len(whole) == 1


def test_construction_ohs_applies_to_construction_links_only(client: TestClient) -> None:
    post_network(client, [("focal-jp", "acme-pcb", "components"),
                          ("focal-jp", "build-corp", "construction"),
                          ("build-corp", "scaffold-sub", "construction")])
    response = client.post("/v1/requests", json={"id": "ohs", "catalog_id": "construction-ohs",
                                                 "issuer_id": "focal-jp", "issued_at": ISSUED})
    assert response.status_code == 201
    assert response.json()["applies_to"]["categories"] == ["construction"]
    counts = client.get("/v1/requests/ohs/coverage",
                        params={"as_of": "2026-01-06T00:00:00Z"}).json()["counts"]
    assert counts["unreached"] == 2  # build-corp and its subcontractor
    assert counts["not_applicable"] == 1  # acme-pcb
    assert standing(client, "acme-pcb", request_id="ohs")["state"] == "not_applicable"
    assert standing(client, "scaffold-sub", request_id="ohs")["state"] == "unreached"


# -- requests -----------------------------------------------------------------------------


def test_issue_a_request_in_full(client: TestClient) -> None:
    post_network(client, CHAIN)
    body = {
        "id": "reach-2026", "topic": "reach", "title": "REACH SVHC information 2026",
        "version": "2026.1", "issuer_id": "focal-jp", "issued_at": "2026-01-05T09:00:00+09:00",
        "due_days": 45, "valid_days": None, "mandatory": False,
        "applies_to": {"categories": ["raw_materials"], "kinds": ["smelter", "manufacturer"]},
    }
    response = client.post("/v1/requests", json=body)
    assert response.status_code == 201
    created = response.json()
    expected = body | {"issued_at": "2026-01-05T00:00:00Z", "supersedes": None}
    assert {k: created[k] for k in expected} == expected
    assert client.get("/v1/requests/reach-2026").json() == created
    assert client.get("/v1/requests").json() == [created]


def test_request_defaults(client: TestClient) -> None:
    post_network(client, CHAIN)
    before = datetime.now(UTC) - timedelta(seconds=1)
    response = client.post("/v1/requests", json={"id": "custom", "topic": "water_stewardship",
                                                 "title": "Water stewardship",
                                                 "issuer_id": "focal-jp"})
    assert response.status_code == 201
    created = response.json()
    assert created["topic"] == "water_stewardship"  # a custom topic is allowed
    assert before <= parse(created["issued_at"]) <= datetime.now(UTC) + timedelta(seconds=1)
    assert created["applies_to"] == {"categories": None, "kinds": None}
    assert created["supersedes"] is None
    assert isinstance(created["mandatory"], bool)
    assert isinstance(created["due_days"], int)


def test_issue_from_catalog(client: TestClient) -> None:
    post_network(client, CHAIN)
    response = client.post("/v1/requests", json={"catalog_id": "reach", "issuer_id": "focal-jp"})
    assert response.status_code == 201
    created = response.json()
    assert created["topic"] == "reach"
    assert created["issuer_id"] == "focal-jp"
    assert sorted(created["applies_to"]["categories"]) == ["components", "raw_materials"]
    assert created["id"]  # generated
    assert client.get(f"/v1/requests/{created['id']}").json() == created
    # a second issue gets another generated id
    again = client.post("/v1/requests", json={"catalog_id": "reach", "issuer_id": "focal-jp"})
    assert again.status_code == 201
    assert again.json()["id"] != created["id"]
    assert len(client.get("/v1/requests").json()) == 2


def test_catalog_issue_with_overrides(client: TestClient) -> None:
    post_network(client, CHAIN)
    response = client.post("/v1/requests", json={
        "id": "climate-fy26", "catalog_id": "climate", "issuer_id": "focal-jp",
        "due_days": 90, "valid_days": None, "title": "CO2 disclosure FY2026"})
    assert response.status_code == 201
    created = response.json()
    assert (created["id"], created["topic"], created["due_days"], created["valid_days"],
            created["title"]) == ("climate-fy26", "climate_change", 90, None,
                                  "CO2 disclosure FY2026")


def test_minerals_2026_supersedes_the_issuers_2017_request(client: TestClient) -> None:
    post_network(client, CHAIN + [("kobe-cable", "resin-co", "raw_materials")])
    old = client.post("/v1/requests", json={"id": "cm-2017", "catalog_id":
                                            "conflict-minerals-2017", "issuer_id": "focal-jp",
                                            "issued_at": "2017-04-01T00:00:00Z"})
    assert old.status_code == 201
    assert old.json()["supersedes"] is None
    new = client.post("/v1/requests", json={"id": "minerals-2026", "catalog_id":
                                            "minerals-2026", "issuer_id": "focal-jp"})
    assert new.status_code == 201
    assert new.json()["supersedes"] == "cm-2017"
    assert new.json()["topic"] == "conflict_minerals"
    # another issuer has nothing to supersede
    other = client.post("/v1/requests", json={"catalog_id": "minerals-2026",
                                              "issuer_id": "kobe-cable"})
    assert other.status_code == 201
    assert other.json()["supersedes"] is None


def test_acceptance_of_the_superseded_version_does_not_count(client: TestClient) -> None:
    post_network(client, CHAIN)
    for request_id, catalog_id in (("cm-2017", "conflict-minerals-2017"),
                                   ("minerals-2026", "minerals-2026")):
        response = client.post("/v1/requests", json={"id": request_id, "catalog_id": catalog_id,
                                                     "issuer_id": "focal-jp",
                                                     "issued_at": ISSUED})
        assert response.status_code == 201
        assert cascade(client, "focal-jp", "acme-pcb", "2026-01-06T00:00:00Z",
                       request_id=request_id).status_code == 201
    assert acknowledge(client, "acme-pcb", "accepted", "2026-01-07T00:00:00Z",
                       request_id="cm-2017").status_code == 201
    assert standing(client, "acme-pcb", request_id="cm-2017")["state"] == "acknowledged"
    assert standing(client, "acme-pcb", request_id="minerals-2026")["state"] == "pending"


def test_duplicate_request_id_is_409(client: TestClient) -> None:
    post_network(client, CHAIN)
    issue(client, "bcp-2026", title="BCP 2026")
    response = client.post("/v1/requests", json={"id": "bcp-2026", "topic": "climate_change",
                                                 "title": "Other", "issuer_id": "focal-jp"})
    assert_problem(response, 409)
    assert client.get("/v1/requests/bcp-2026").json()["title"] == "BCP 2026"


def test_unknown_issuer_is_422_naming_issuer_id(client: TestClient) -> None:
    post_network(client, CHAIN)
    response = client.post("/v1/requests", json={"id": "bcp", "topic": "business_continuity",
                                                 "title": "BCP", "issuer_id": "ghost-corp"})
    assert_problem(response, 422, "issuer_id")
    response = client.post("/v1/requests", json={"catalog_id": "bcp", "issuer_id": "ghost-corp"})
    assert_problem(response, 422, "issuer_id")
    assert client.get("/v1/requests").json() == []


def test_unknown_catalog_id_is_422(client: TestClient) -> None:
    post_network(client, CHAIN)
    response = client.post("/v1/requests", json={"catalog_id": "minerals-1999",
                                                 "issuer_id": "focal-jp"})
    assert_problem(response, 422, "catalog_id")
    assert client.get("/v1/requests").json() == []


def test_missing_topic_or_title_without_catalog_is_422(client: TestClient) -> None:
    post_network(client, CHAIN)
    response = client.post("/v1/requests", json={"id": "x", "title": "No topic",
                                                 "issuer_id": "focal-jp"})
    assert_problem(response, 422, "topic")
    response = client.post("/v1/requests", json={"id": "x", "topic": "reach",
                                                 "issuer_id": "focal-jp"})
    assert_problem(response, 422, "title")
    assert client.get("/v1/requests").json() == []


def test_request_payload_validation(client: TestClient) -> None:
    post_network(client, CHAIN)
    base = {"id": "bcp", "topic": "business_continuity", "title": "BCP", "issuer_id": "focal-jp"}
    assert_problem(client.post("/v1/requests", json=base | {"priority": "high"}), 422, "priority")
    assert_problem(client.post("/v1/requests", json=base | {"due_days": -1}), 422, "due_days")
    assert_problem(client.post("/v1/requests", json=base | {"valid_days": 0}), 422, "valid_days")
    assert_problem(client.post("/v1/requests", json=base | {"issued_at": "2026-01-05T00:00:00"}),
                   422, "issued_at")
    assert_problem(client.post("/v1/requests", json=base | {"supersedes": "nothing"}),
                   422, "supersedes")
    assert_problem(client.post("/v1/requests",
                               json=base | {"applies_to": {"kinds": ["mine"]}}), 422)
    assert client.get("/v1/requests").json() == []


def test_get_unknown_request_is_404(client: TestClient) -> None:
    assert_problem(client.get("/v1/requests/no-such-request"), 404)


def test_list_requests(client: TestClient) -> None:
    post_network(client, CHAIN)
    issue(client, "bcp-2026")
    issue(client, "climate-2026", topic="climate_change", title="Climate")
    listed = client.get("/v1/requests").json()
    assert sorted(r["id"] for r in listed) == ["bcp-2026", "climate-2026"]


# -- cascades -----------------------------------------------------------------------------


@pytest.fixture
def chain(client: TestClient) -> TestClient:
    """focal-jp -> acme-pcb -> resin-co -> tin-smelter-id with request bcp-2026 issued."""
    post_network(client, CHAIN)
    issue(client)
    return client


def test_cascade_is_201_then_200_without_double_counting(chain: TestClient) -> None:
    first = cascade(chain, "focal-jp", "acme-pcb", "2026-01-06T00:00:00Z")
    assert first.status_code == 201
    assert first.json() == {"request_id": "bcp-2026", "from_id": "focal-jp",
                            "to_id": "acme-pcb", "sent_at": "2026-01-06T00:00:00Z",
                            "outcome": "created"}
    again = cascade(chain, "focal-jp", "acme-pcb", "2026-01-09T00:00:00Z")
    assert again.status_code == 200
    # the earlier one holds, and the answer shows it
    assert again.json() == first.json() | {"outcome": "unchanged"}
    assert len(chain.get("/v1/cascades", params={"request_id": "bcp-2026"}).json()) == 1
    # first reached stays at the earliest sending: overdue 30 days after Jan 6th
    assert standing(chain, "acme-pcb", "2026-02-05T00:00:01Z")["state"] == "overdue"
    counts = chain.get("/v1/requests/bcp-2026/coverage",
                       params={"as_of": "2026-01-20T00:00:00Z"}).json()["counts"]
    assert counts["pending"] == 1


def test_a_backfilled_earlier_forward_holds_whatever_the_posting_order(chain: TestClient) -> None:
    late = cascade(chain, "focal-jp", "acme-pcb", "2026-01-20T00:00:00Z")
    backfill = cascade(chain, "focal-jp", "acme-pcb", "2026-01-06T00:00:00Z")
    assert (late.status_code, backfill.status_code) == (201, 200)
    assert backfill.json() == {"request_id": "bcp-2026", "from_id": "focal-jp",
                               "to_id": "acme-pcb", "sent_at": "2026-01-06T00:00:00Z",
                               "outcome": "updated"}
    listed = chain.get("/v1/cascades", params={"request_id": "bcp-2026"}).json()
    assert [e["sent_at"] for e in listed] == ["2026-01-06T00:00:00Z"]
    # reached on Jan 6th, not the 20th: pending on the 10th, overdue 30 days after the 6th
    assert standing(chain, "acme-pcb", "2026-01-10T00:00:00Z")["state"] == "pending"
    assert standing(chain, "acme-pcb", "2026-02-05T00:00:01Z")["state"] == "overdue"
    batch = chain.post("/v1/cascades/batch", json={"items": [
        {"request_id": "bcp-2026", "from_id": "focal-jp", "to_id": "acme-pcb",
         "sent_at": sent} for sent in ("2026-01-07T00:00:00Z", "2026-01-05T00:00:00Z")]})
    assert [r["status"] for r in batch.json()["results"]] == ["unchanged", "updated"]
    assert standing(chain, "acme-pcb", "2026-02-04T00:00:01Z")["state"] == "overdue"


def test_cascade_to_a_company_that_is_not_a_supplier_is_422_naming_to_id(
    chain: TestClient,
) -> None:
    assert_problem(cascade(chain, "focal-jp", "resin-co"), 422, "to_id")  # tier 2, not direct
    assert_problem(cascade(chain, "acme-pcb", "focal-jp"), 422, "to_id")  # against the link
    assert chain.get("/v1/cascades").json() == []


def test_cascade_unknown_request_or_company_is_422(chain: TestClient) -> None:
    assert_problem(cascade(chain, "focal-jp", "acme-pcb", request_id="ghost-request"),
                   422, "request_id")
    assert_problem(cascade(chain, "ghost-corp", "acme-pcb"), 422, "from_id")
    assert_problem(cascade(chain, "focal-jp", "ghost-corp"), 422, "to_id")
    response = chain.post("/v1/cascades", json={"request_id": "bcp-2026", "from_id": "focal-jp",
                                                "to_id": "acme-pcb", "channel": "email"})
    assert_problem(response, 422, "channel")
    assert chain.get("/v1/cascades").json() == []


def test_naive_sent_at_is_422_naming_sent_at(chain: TestClient) -> None:
    assert_problem(cascade(chain, "focal-jp", "acme-pcb", "2026-01-06T09:00:00"), 422, "sent_at")
    assert_problem(cascade(chain, "focal-jp", "acme-pcb", "next tuesday"), 422, "sent_at")
    assert chain.get("/v1/cascades").json() == []


def test_sent_at_offset_is_normalised_to_utc(chain: TestClient) -> None:
    response = cascade(chain, "focal-jp", "acme-pcb", "2026-01-06T09:00:00+09:00")
    assert response.status_code == 201
    assert parse(response.json()["sent_at"]) == datetime(2026, 1, 6, tzinfo=UTC)
    assert response.json()["sent_at"].endswith(("Z", "+00:00"))
    listed = chain.get("/v1/cascades").json()
    assert parse(listed[0]["sent_at"]) == datetime(2026, 1, 6, tzinfo=UTC)
    assert listed[0]["sent_at"].endswith(("Z", "+00:00"))
    response = cascade(chain, "acme-pcb", "resin-co", "2026-01-06T00:00:00-05:30")
    assert response.json()["sent_at"] in ("2026-01-06T05:30:00Z", "2026-01-06T05:30:00+00:00")


def test_sent_at_defaults_to_now(chain: TestClient) -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    response = cascade(chain, "focal-jp", "acme-pcb")
    after = datetime.now(UTC) + timedelta(seconds=1)
    assert response.status_code == 201
    assert before <= parse(response.json()["sent_at"]) <= after


def test_list_cascades_filters(chain: TestClient) -> None:
    issue(chain, "climate-2026", topic="climate_change", title="Climate")
    cascade(chain, "focal-jp", "acme-pcb", "2026-01-06T00:00:00Z")
    cascade(chain, "acme-pcb", "resin-co", "2026-01-07T00:00:00Z")
    cascade(chain, "resin-co", "tin-smelter-id", "2026-01-08T00:00:00Z")
    cascade(chain, "focal-jp", "acme-pcb", "2026-01-06T00:00:00Z", request_id="climate-2026")

    def pairs(**params: str) -> list[tuple[str, str, str]]:
        listed = chain.get("/v1/cascades", params=params).json()
        return sorted((c["request_id"], c["from_id"], c["to_id"]) for c in listed)

    assert len(pairs()) == 4
    assert pairs(request_id="climate-2026") == [("climate-2026", "focal-jp", "acme-pcb")]
    assert pairs(from_id="acme-pcb") == [("bcp-2026", "acme-pcb", "resin-co")]
    assert pairs(to_id="acme-pcb") == [("bcp-2026", "focal-jp", "acme-pcb"),
                                       ("climate-2026", "focal-jp", "acme-pcb")]
    assert pairs(request_id="bcp-2026", to_id="tin-smelter-id") == [
        ("bcp-2026", "resin-co", "tin-smelter-id")]


def test_cascade_from_a_company_not_yet_reached_counts_once_it_is(chain: TestClient) -> None:
    assert cascade(chain, "acme-pcb", "resin-co", "2026-01-07T00:00:00Z").status_code == 201
    assert standing(chain, "resin-co")["state"] == "unreached"
    assert cascade(chain, "focal-jp", "acme-pcb", "2026-01-08T00:00:00Z").status_code == 201
    assert standing(chain, "resin-co")["state"] == "pending"
    # before the chain closed it was not reached yet
    assert standing(chain, "resin-co", "2026-01-07T12:00:00Z")["state"] == "unreached"


# -- acknowledgements ---------------------------------------------------------------------


def test_acknowledgement_is_201_and_identical_repeat_200_with_same_seq(chain: TestClient) -> None:
    cascade(chain, "focal-jp", "acme-pcb", "2026-01-06T00:00:00Z")
    first = acknowledge(chain, "acme-pcb", "accepted", "2026-01-10T00:00:00Z")
    assert first.status_code == 201
    body = first.json()
    assert (body["request_id"], body["company_id"], body["status"], body["at"]) == (
        "bcp-2026", "acme-pcb", "accepted", "2026-01-10T00:00:00Z")
    again = acknowledge(chain, "acme-pcb", "accepted", "2026-01-10T00:00:00Z")
    assert again.status_code == 200
    assert again.json()["seq"] == body["seq"]
    history = chain.get("/v1/acknowledgements",
                        params={"request_id": "bcp-2026", "company_id": "acme-pcb"}).json()
    assert len(history) == 1


def test_acknowledgement_history_is_newest_first(chain: TestClient) -> None:
    cascade(chain, "focal-jp", "acme-pcb", "2026-01-06T00:00:00Z")
    # recorded out of order: the answers' own time decides
    for status, at in (("received", "2026-01-07T00:00:00Z"), ("accepted", "2026-01-15T00:00:00Z"),
                       ("declined", "2026-01-10T00:00:00Z")):
        assert acknowledge(chain, "acme-pcb", status, at).status_code == 201
    history = chain.get("/v1/acknowledgements",
                        params={"request_id": "bcp-2026", "company_id": "acme-pcb"}).json()
    assert [(a["status"], a["at"]) for a in history] == [
        ("accepted", "2026-01-15T00:00:00Z"), ("declined", "2026-01-10T00:00:00Z"),
        ("received", "2026-01-07T00:00:00Z")]
    # the current answer is the latest `at`, whatever the recording order
    assert standing(chain, "acme-pcb")["state"] == "acknowledged"
    assert standing(chain, "acme-pcb", "2026-01-12T00:00:00Z")["state"] == "declined"
    assert standing(chain, "acme-pcb", "2026-01-08T00:00:00Z")["state"] == "pending"


def test_same_instant_answers_the_later_recorded_wins(chain: TestClient) -> None:
    cascade(chain, "focal-jp", "acme-pcb", "2026-01-06T00:00:00Z")
    acknowledge(chain, "acme-pcb", "declined", "2026-01-10T00:00:00Z")
    acknowledge(chain, "acme-pcb", "accepted", "2026-01-10T00:00:00Z")
    assert standing(chain, "acme-pcb")["state"] == "acknowledged"
    history = chain.get("/v1/acknowledgements", params={"company_id": "acme-pcb"}).json()
    assert [a["status"] for a in history] == ["accepted", "declined"]


def test_list_acknowledgements_filters(chain: TestClient) -> None:
    issue(chain, "climate-2026", topic="climate_change", title="Climate")
    acknowledge(chain, "acme-pcb", "accepted", "2026-01-10T00:00:00Z")
    acknowledge(chain, "resin-co", "received", "2026-01-11T00:00:00Z")
    acknowledge(chain, "acme-pcb", "declined", "2026-01-12T00:00:00Z", request_id="climate-2026")

    def rows(**params: str) -> list[tuple[str, str, str]]:
        listed = chain.get("/v1/acknowledgements", params=params).json()
        return [(a["request_id"], a["company_id"], a["status"]) for a in listed]

    assert rows() == [("climate-2026", "acme-pcb", "declined"),
                      ("bcp-2026", "resin-co", "received"),
                      ("bcp-2026", "acme-pcb", "accepted")]
    assert rows(request_id="bcp-2026") == [("bcp-2026", "resin-co", "received"),
                                           ("bcp-2026", "acme-pcb", "accepted")]
    assert rows(company_id="acme-pcb") == [("climate-2026", "acme-pcb", "declined"),
                                           ("bcp-2026", "acme-pcb", "accepted")]
    assert rows(request_id="climate-2026", company_id="resin-co") == []


def test_acknowledgement_status_must_be_one_of_the_three(chain: TestClient) -> None:
    for status in ("approved", "ACCEPTED", "", None):
        assert_problem(acknowledge(chain, "acme-pcb", status), 422, "status")
    for status in ("received", "accepted", "declined"):
        at = {"received": "2026-01-07T00:00:00Z", "accepted": "2026-01-08T00:00:00Z",
              "declined": "2026-01-09T00:00:00Z"}[status]
        assert acknowledge(chain, "acme-pcb", status, at).status_code == 201


def test_acknowledgement_validation(chain: TestClient) -> None:
    assert_problem(acknowledge(chain, "ghost-corp", "accepted"), 422, "company_id")
    assert_problem(acknowledge(chain, "acme-pcb", "accepted", request_id="ghost"),
                   422, "request_id")
    assert_problem(acknowledge(chain, "acme-pcb", "accepted", "2026-01-10T00:00:00"), 422, "at")
    assert_problem(acknowledge(chain, "acme-pcb", "accepted", signed_by="cfo"), 422, "signed_by")
    assert_problem(acknowledge(chain, "acme-pcb", "accepted", evidence="cmrt.xlsx"),
                   422, "evidence")
    assert chain.get("/v1/acknowledgements").json() == []


def test_acknowledgement_at_defaults_to_now_and_offsets_become_utc(chain: TestClient) -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    response = acknowledge(chain, "acme-pcb", "received")
    assert response.status_code == 201
    assert before <= parse(response.json()["at"]) <= datetime.now(UTC) + timedelta(seconds=1)
    shifted = acknowledge(chain, "resin-co", "accepted", "2026-01-10T08:00:00+08:00")
    assert shifted.json()["at"] in ("2026-01-10T00:00:00Z", "2026-01-10T00:00:00+00:00")


def test_evidence_round_trips(chain: TestClient) -> None:
    evidence = {
        "document": "https://portal.example.com/docs/cmrt-acme-2026.xlsx",
        "template": "CMRT", "template_version": "6.4",
        "note": "Smelter list checked against the RMI conformant list (Sn, Ta, W, Au).",
        "smelters": ["CID001482", "CID002180"], "conformant": True, "pages": 12,
        "nested": {"reviewer": "k.tanaka", "scores": [1, 2.5, None]},
    }
    response = acknowledge(chain, "tin-smelter-id", "accepted", "2026-01-10T00:00:00Z",
                           evidence=evidence)
    assert response.status_code == 201
    assert response.json()["evidence"] == evidence
    listed = chain.get("/v1/acknowledgements", params={"company_id": "tin-smelter-id"}).json()
    assert listed[0]["evidence"] == evidence
    plain = acknowledge(chain, "acme-pcb", "received", "2026-01-10T00:00:00Z")
    assert plain.json()["evidence"] is None


def test_acknowledgement_before_the_cascade_counts_once_reached(chain: TestClient) -> None:
    assert acknowledge(chain, "acme-pcb", "accepted", "2026-01-06T00:00:00Z").status_code == 201
    before = standing(chain, "acme-pcb")
    assert (before["state"], before["covered"]) == ("unreached", False)
    assert cascade(chain, "focal-jp", "acme-pcb", "2026-01-08T00:00:00Z").status_code == 201
    after = standing(chain, "acme-pcb")
    assert (after["state"], after["covered"]) == ("acknowledged", True)
    assert after["path"] == ["focal-jp", "acme-pcb"]
    coverage = chain.get("/v1/requests/bcp-2026/coverage",
                         params={"as_of": "2026-01-20T00:00:00Z"}).json()
    assert coverage["counts"]["acknowledged"] == 1
    assert coverage["coverage_ratio"] == pytest.approx(1 / 3)


def test_received_stays_pending_and_declined_is_final(chain: TestClient) -> None:
    cascade(chain, "focal-jp", "acme-pcb", "2026-01-06T00:00:00Z")
    acknowledge(chain, "acme-pcb", "received", "2026-01-07T00:00:00Z")
    assert standing(chain, "acme-pcb")["state"] == "pending"
    assert standing(chain, "acme-pcb", "2026-02-06T00:00:00Z")["state"] == "overdue"
    acknowledge(chain, "acme-pcb", "declined", "2026-01-08T00:00:00Z")
    assert standing(chain, "acme-pcb", "2026-02-06T00:00:00Z")["state"] == "declined"
