"""Coverage over REST on a small hand-drawn network, with every number worked out by hand
from DESIGN.md ("Coverage semantics").

The network (buyer -> supplier, i.e. the direction requests travel)::

    tier 0   focal-jp
               |  components         |  components        |  construction
    tier 1   acme-pcb              kobe-cable            build-corp
               |  raw   |  comp  |    | raw         | raw
    tier 2   resin-co  chip-fab  solder-paste        copper-wire
             (also supplies kobe-cable: a diamond)
               |raw  |raw  |raw     | comp  ^ comp
    tier 3   tin   mica   cobalt   wafer-works  (chip-fab <-> wafer-works: a 2-cycle)

Request `minerals-q1` applies to components and raw_materials links only, so build-corp
(reached over the one construction link) is `not_applicable`. It is issued 2026-01-05 with
30 days to answer and acceptances valid 60 days. Events (all at 00:00Z)::

    focal-jp  -> acme-pcb     01-06   acme-pcb      accepted 02-01  acknowledged
    focal-jp  -> kobe-cable   01-06   kobe-cable    accepted 02-03  acknowledged
    acme-pcb  -> resin-co     02-02   resin-co      accepted 02-10  acknowledged
    acme-pcb  -> chip-fab     02-02   chip-fab      declined 02-05  declined
    acme-pcb  -> solder-paste 02-02   solder-paste  accepted 02-09  acknowledged (a leaf)
    chip-fab  -> wafer-works  02-03   wafer-works   accepted 02-20  acknowledged, not covered
    resin-co  -> tin-smelter  03-01   tin-smelter   accepted 01-10  expired after 03-11
    resin-co  -> mica-mine    03-10   mica-mine     received 03-12  pending until 04-09
    resin-co  -> cobalt       02-11   cobalt        (no answer)     overdue after 03-13
    kobe-cable -> resin-co, kobe-cable -> copper-wire, wafer-works -> chip-fab: never sent

At AS_OF = 2026-03-20:
- covered: focal-jp, acme-pcb, kobe-cable, resin-co, solder-paste; coverage_ratio 4/10
  (10 companies reachable over applicable links, the issuer excluded);
- gaps (u is the issuer or acknowledged, no cascade): kobe-cable -> resin-co (impact 3:
  tin, mica, cobalt), wafer-works -> chip-fab (impact 2: the cycle; wafer-works is
  acknowledged though its own chain breaks at chip-fab), kobe-cable -> copper-wire (1);
- root-to-leaf paths on the component DAG ({chip-fab, wafer-works} is one group): 5 via
  acme-pcb, 4 via kobe-cable = 9, of which only focal-jp -> acme-pcb -> solder-paste is
  covered.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from api_tests.conftest import signed_in
from service.app import create_app
from service.config.settings import Settings
from service.store.port import CascadeStore

PROBLEM_JSON = "application/problem+json"
AS_OF = "2026-03-20T00:00:00Z"
STATES = ["issuer", "acknowledged", "pending", "overdue", "declined", "expired", "unreached",
          "not_applicable"]

COMPANIES = [
    ("focal-jp", "Focal Electronics KK", "JP", "manufacturer"),
    ("acme-pcb", "Acme PCB Ltd", "TW", "manufacturer"),
    ("kobe-cable", "Kobe Cable Works", "JP", "manufacturer"),
    ("build-corp", "Build Corp Construction", "JP", "contractor"),
    ("resin-co", "Resin Co", "CN", "manufacturer"),
    ("chip-fab", "Chip Fab Inc", "KR", "manufacturer"),
    ("solder-paste", "Solder Paste Sdn Bhd", "MY", "manufacturer"),
    ("copper-wire", "Copper Wire SA", "CL", "manufacturer"),
    ("wafer-works", "Wafer Works Co", "KR", "manufacturer"),
    ("tin-smelter-id", "PT Tin Smelter", "ID", "smelter"),
    ("mica-mine-in", "Mica Mine Pvt Ltd", "IN", "other"),
    ("cobalt-refiner-cd", "Cobalt Refiner SARL", "CD", "smelter"),
]
LINKS = [
    ("focal-jp", "acme-pcb", "components"),
    ("focal-jp", "kobe-cable", "components"),
    ("focal-jp", "build-corp", "construction"),
    ("acme-pcb", "resin-co", "raw_materials"),
    ("kobe-cable", "resin-co", "raw_materials"),
    ("acme-pcb", "chip-fab", "components"),
    ("acme-pcb", "solder-paste", "components"),
    ("kobe-cable", "copper-wire", "raw_materials"),
    ("chip-fab", "wafer-works", "components"),
    ("wafer-works", "chip-fab", "components"),
    ("resin-co", "tin-smelter-id", "raw_materials"),
    ("resin-co", "mica-mine-in", "raw_materials"),
    ("resin-co", "cobalt-refiner-cd", "raw_materials"),
]
CASCADES = [
    ("focal-jp", "acme-pcb", "2026-01-06T00:00:00Z"),
    ("focal-jp", "kobe-cable", "2026-01-06T00:00:00Z"),
    ("acme-pcb", "resin-co", "2026-02-02T00:00:00Z"),
    ("acme-pcb", "chip-fab", "2026-02-02T00:00:00Z"),
    ("acme-pcb", "solder-paste", "2026-02-02T00:00:00Z"),
    ("chip-fab", "wafer-works", "2026-02-03T00:00:00Z"),
    ("resin-co", "tin-smelter-id", "2026-03-01T00:00:00Z"),
    ("resin-co", "mica-mine-in", "2026-03-10T00:00:00Z"),
    ("resin-co", "cobalt-refiner-cd", "2026-02-11T00:00:00Z"),
]
ANSWERS = [
    ("acme-pcb", "accepted", "2026-02-01T00:00:00Z"),
    ("kobe-cable", "accepted", "2026-02-03T00:00:00Z"),
    ("resin-co", "accepted", "2026-02-10T00:00:00Z"),
    ("chip-fab", "declined", "2026-02-05T00:00:00Z"),
    ("solder-paste", "accepted", "2026-02-09T00:00:00Z"),
    ("wafer-works", "accepted", "2026-02-20T00:00:00Z"),
    ("tin-smelter-id", "accepted", "2026-01-10T00:00:00Z"),  # answered before it was reached
    ("mica-mine-in", "received", "2026-03-12T00:00:00Z"),
]
MINERALS = {
    "id": "minerals-q1", "topic": "conflict_minerals", "title": "Responsible minerals Q1",
    "version": "2026.1", "issuer_id": "focal-jp", "issued_at": "2026-01-05T00:00:00Z",
    "due_days": 30, "valid_days": 60, "mandatory": True,
    "applies_to": {"categories": ["components", "raw_materials"], "kinds": None},
}


# -- helpers ------------------------------------------------------------------------------


def post_ok(client: TestClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(path, json=body)
    assert response.status_code in (200, 201), response.text
    return response.json()


def post_network(client: TestClient) -> None:
    for cid, name, country, kind in COMPANIES:
        post_ok(client, "/v1/companies", {"id": cid, "name": name, "country": country,
                                          "kind": kind})
    for buyer, supplier, category in LINKS:
        post_ok(client, "/v1/links", {"buyer_id": buyer, "supplier_id": supplier,
                                      "category": category})


def record_events(client: TestClient, request_id: str) -> None:
    for sender, receiver, sent_at in CASCADES:
        post_ok(client, "/v1/cascades", {"request_id": request_id, "from_id": sender,
                                         "to_id": receiver, "sent_at": sent_at})
    for company_id, status, at in ANSWERS:
        post_ok(client, "/v1/acknowledgements", {"request_id": request_id,
                                                 "company_id": company_id,
                                                 "status": status, "at": at})


@pytest.fixture
def network(client: TestClient) -> TestClient:
    """The hand-drawn network with request minerals-q1 and all its events recorded."""
    post_network(client)
    post_ok(client, "/v1/requests", MINERALS)
    record_events(client, "minerals-q1")
    return client


def get(client: TestClient, path: str, **params: Any) -> Any:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def coverage(client: TestClient, as_of: str = AS_OF) -> dict[str, Any]:
    return get(client, "/v1/requests/minerals-q1/coverage", as_of=as_of)


def standing(client: TestClient, company_id: str, as_of: str = AS_OF) -> dict[str, Any]:
    return get(client, f"/v1/requests/minerals-q1/companies/{company_id}", as_of=as_of)


def gap_rows(page: dict[str, Any]) -> list[tuple[str, str, int, int]]:
    return [(g["from_id"], g["to_id"], g["tier"], g["impact"]) for g in page["items"]]


def path_rows(page: dict[str, Any]) -> list[tuple[tuple[str, ...], int, str]]:
    return [(tuple(p["companies"]), p["break_index"], p["reason"]) for p in page["items"]]


def all_pages(client: TestClient, path: str, limit: int, **params: Any) -> list[dict[str, Any]]:
    """Follow next_cursor to the end; every page but the last is full."""
    pages, cursor = [], None
    for _ in range(100):
        query = params | {"limit": limit} | ({"cursor": cursor} if cursor else {})
        page = get(client, path, **query)
        pages.append(page)
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert len(page["items"]) == limit
    return pages


def assert_problem(
    response: httpx.Response, status: int, field: str | None = None
) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON), response.headers
    problem = response.json()
    assert {"type", "title", "status", "detail"} <= problem.keys()
    assert problem["status"] == status
    if field is not None:
        named = {problem.get("field")} | {e["field"] for e in problem.get("errors", [])}
        assert field in named, problem
    return problem


def zero_states(**counts: int) -> dict[str, int]:
    return {state: 0 for state in STATES} | counts


# -- coverage summary ---------------------------------------------------------------------


def test_coverage_summary_exact(network: TestClient) -> None:
    report = coverage(network)
    assert report["request_id"] == "minerals-q1"
    assert report["root_id"] == "focal-jp"
    assert report["as_of"] in ("2026-03-20T00:00:00Z", "2026-03-20T00:00:00+00:00")
    assert isinstance(report["revision"], int)
    assert report["counts"] == {
        "issuer": 1, "acknowledged": 5, "pending": 1, "overdue": 1, "declined": 1,
        "expired": 1, "unreached": 1, "not_applicable": 1,
    }
    assert report["gaps"] == 3
    assert report["paths"] == {"total": 9, "covered": 1, "uncovered": 8}
    assert report["coverage_ratio"] == pytest.approx(0.4)


def test_tier_table_exact(network: TestClient) -> None:
    tiers = coverage(network)["tiers"]
    assert tiers == [
        {"tier": 0, "companies": 1} | zero_states(issuer=1),
        {"tier": 1, "companies": 3} | zero_states(acknowledged=2, not_applicable=1),
        {"tier": 2, "companies": 4} | zero_states(acknowledged=2, declined=1, unreached=1),
        {"tier": 3, "companies": 4} | zero_states(acknowledged=1, pending=1, overdue=1,
                                                  expired=1),
    ]


def test_as_of_offset_is_normalised_to_utc(network: TestClient) -> None:
    report = coverage(network, as_of="2026-03-20T09:00:00+09:00")
    assert report["as_of"] in ("2026-03-20T00:00:00Z", "2026-03-20T00:00:00+00:00")
    assert report["counts"] == coverage(network)["counts"]


def test_without_as_of_the_answer_is_for_now(network: TestClient) -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    report = get(network, "/v1/requests/minerals-q1/coverage")
    as_of = datetime.fromisoformat(report["as_of"].replace("Z", "+00:00"))
    assert before <= as_of <= datetime.now(UTC) + timedelta(seconds=1)
    # long after 2026-04-11 every 60-day acceptance has expired: nobody is covered any more
    assert report["counts"] == zero_states(issuer=1, expired=6, overdue=2, declined=1,
                                           unreached=1, not_applicable=1)
    assert report["coverage_ratio"] == 0.0
    assert report["gaps"] == 0
    assert report["paths"] == {"total": 9, "covered": 0, "uncovered": 9}


def test_a_request_that_applies_to_all_links_counts_build_corp(network: TestClient) -> None:
    post_ok(network, "/v1/requests", MINERALS | {"id": "bcp-q1", "topic": "business_continuity",
                                                  "applies_to": None})
    record_events(network, "bcp-q1")
    report = get(network, "/v1/requests/bcp-q1/coverage", as_of=AS_OF)
    assert report["counts"] == zero_states(issuer=1, acknowledged=5, pending=1, overdue=1,
                                           declined=1, expired=1, unreached=2)
    assert report["gaps"] == 4  # focal-jp -> build-corp too
    assert report["paths"] == {"total": 10, "covered": 1, "uncovered": 9}
    assert report["coverage_ratio"] == pytest.approx(4 / 11)


def test_an_empty_request_has_nothing_to_cover(network: TestClient) -> None:
    post_ok(network, "/v1/companies", {"id": "lonely-co", "name": "Lonely Co"})
    post_ok(network, "/v1/requests", {"id": "lonely-bcp", "topic": "business_continuity",
                                      "title": "BCP", "issuer_id": "lonely-co"})
    report = get(network, "/v1/requests/lonely-bcp/coverage")
    assert report["counts"] == zero_states(issuer=1)
    assert report["gaps"] == 0
    assert report["paths"] == {"total": 1, "covered": 1, "uncovered": 0}
    assert report["coverage_ratio"] == 1.0
    assert report["tiers"] == [{"tier": 0, "companies": 1} | zero_states(issuer=1)]


# -- gaps ---------------------------------------------------------------------------------

EXPECTED_GAPS = [
    ("kobe-cable", "resin-co", 2, 3),
    ("wafer-works", "chip-fab", 2, 2),
    ("kobe-cable", "copper-wire", 2, 1),
]


def test_gaps_most_impactful_first(network: TestClient) -> None:
    page = get(network, "/v1/requests/minerals-q1/gaps", as_of=AS_OF)
    assert gap_rows(page) == EXPECTED_GAPS
    assert page["next_cursor"] is None


def test_gaps_cursor_pagination(network: TestClient) -> None:
    pages = all_pages(network, "/v1/requests/minerals-q1/gaps", limit=1, as_of=AS_OF)
    assert len(pages) == 3
    assert [row for page in pages for row in gap_rows(page)] == EXPECTED_GAPS
    two = all_pages(network, "/v1/requests/minerals-q1/gaps", limit=2, as_of=AS_OF)
    assert [len(p["items"]) for p in two] == [2, 1]


def test_closing_a_gap_removes_it(network: TestClient) -> None:
    post_ok(network, "/v1/cascades", {"request_id": "minerals-q1", "from_id": "kobe-cable",
                                      "to_id": "copper-wire", "sent_at": "2026-03-01T00:00:00Z"})
    page = get(network, "/v1/requests/minerals-q1/gaps", as_of=AS_OF)
    assert gap_rows(page) == EXPECTED_GAPS[:2]
    # copper-wire is now reached, 19 days in: pending
    assert standing(network, "copper-wire")["state"] == "pending"


# -- uncovered paths ----------------------------------------------------------------------

F, A, K, R = "focal-jp", "acme-pcb", "kobe-cable", "resin-co"
EXPECTED_PATHS = {
    ((F, A, "chip-fab"), 2, "declined"),  # the 2-cycle is one group, entered at chip-fab
    ((F, A, R, "tin-smelter-id"), 3, "expired"),
    ((F, A, R, "mica-mine-in"), 3, "pending"),
    ((F, A, R, "cobalt-refiner-cd"), 3, "overdue"),
    ((F, K, "copper-wire"), 2, "not_cascaded"),
    ((F, K, R, "tin-smelter-id"), 2, "not_cascaded"),
    ((F, K, R, "mica-mine-in"), 2, "not_cascaded"),
    ((F, K, R, "cobalt-refiner-cd"), 2, "not_cascaded"),
}


def test_uncovered_paths_items(network: TestClient) -> None:
    page = get(network, "/v1/requests/minerals-q1/uncovered-paths", as_of=AS_OF)
    rows = path_rows(page)
    assert len(rows) == 8
    assert set(rows) == EXPECTED_PATHS
    assert page["next_cursor"] is None


def assert_break_is_real(client: TestClient, request_id: str, as_of: str,
                         item: dict[str, Any]) -> None:
    """Checker for one uncovered path: before `break_index` every link was cascaded and
    every company acknowledged; at it, the link was not cascaded (`not_cascaded`) or the
    company's state is the reason."""
    cutoff = datetime.fromisoformat(as_of.replace("Z", "+00:00"))
    sent = {(c["from_id"], c["to_id"])
            for c in get(client, "/v1/cascades", request_id=request_id)
            if datetime.fromisoformat(c["sent_at"].replace("Z", "+00:00")) <= cutoff}

    def state(company_id: str) -> str:
        answer = get(client, f"/v1/requests/{request_id}/companies/{company_id}", as_of=as_of)
        return str(answer["state"])

    companies, at, reason = item["companies"], item["break_index"], item["reason"]
    for i in range(1, at):
        assert (companies[i - 1], companies[i]) in sent, item
        assert state(companies[i]) == "acknowledged", item
    if reason == "not_cascaded":
        assert (companies[at - 1], companies[at]) not in sent, item
    else:
        assert (companies[at - 1], companies[at]) in sent, item
        assert state(companies[at]) == reason, item


def test_every_uncovered_path_names_a_real_break(network: TestClient) -> None:
    page = get(network, "/v1/requests/minerals-q1/uncovered-paths", as_of=AS_OF)
    for item in page["items"]:
        assert_break_is_real(network, "minerals-q1", AS_OF, item)


def test_uncovered_path_into_a_cycle_names_the_real_break(client: TestClient) -> None:
    """focal-jp -> acme-pcb -> chip-fab <-> wafer-works; the request reached chip-fab, which
    accepted but never forwarded it to wafer-works."""
    for cid, name, country, kind in COMPANIES:
        if cid in ("focal-jp", "acme-pcb", "chip-fab", "wafer-works"):
            post_ok(client, "/v1/companies", {"id": cid, "name": name, "country": country,
                                              "kind": kind})
    for buyer, supplier in (("focal-jp", "acme-pcb"), ("acme-pcb", "chip-fab"),
                            ("chip-fab", "wafer-works"), ("wafer-works", "chip-fab")):
        post_ok(client, "/v1/links", {"buyer_id": buyer, "supplier_id": supplier})
    post_ok(client, "/v1/requests", MINERALS)
    for sender, receiver in (("focal-jp", "acme-pcb"), ("acme-pcb", "chip-fab")):
        post_ok(client, "/v1/cascades", {"request_id": "minerals-q1", "from_id": sender,
                                         "to_id": receiver, "sent_at": "2026-01-06T00:00:00Z"})
    for company_id in ("acme-pcb", "chip-fab"):
        post_ok(client, "/v1/acknowledgements", {"request_id": "minerals-q1",
                                                 "company_id": company_id,
                                                 "status": "accepted",
                                                 "at": "2026-01-07T00:00:00Z"})
    as_of = "2026-01-10T00:00:00Z"
    gaps = gap_rows(get(client, "/v1/requests/minerals-q1/gaps", as_of=as_of))
    assert gaps == [("chip-fab", "wafer-works", 3, 1)]
    page = get(client, "/v1/requests/minerals-q1/uncovered-paths", as_of=as_of)
    assert len(page["items"]) == 1
    # the break is the gap chip-fab -> wafer-works, not the cascaded acme-pcb -> chip-fab
    assert_break_is_real(client, "minerals-q1", as_of, page["items"][0])
    assert path_rows(page) == [((F, A, "chip-fab", "wafer-works"), 3, "not_cascaded")]


def test_uncovered_paths_pagination(network: TestClient) -> None:
    path = "/v1/requests/minerals-q1/uncovered-paths"
    whole = path_rows(get(network, path, as_of=AS_OF))
    pages = all_pages(network, path, limit=3, as_of=AS_OF)
    assert [len(p["items"]) for p in pages] == [3, 3, 2]
    assert [row for page in pages for row in path_rows(page)] == whole  # no repeats, same order
    first = get(network, path, as_of=AS_OF, limit=8)
    assert first["next_cursor"] is None
    assert_problem(network.get(path, params={"cursor": "garbage!"}), 422, "cursor")


def test_uncovered_paths_to_a_target(network: TestClient) -> None:
    path = "/v1/requests/minerals-q1/uncovered-paths"
    to_resin = get(network, path, as_of=AS_OF, target="resin-co")
    assert path_rows(to_resin) == [((F, K, R), 2, "not_cascaded")]
    to_tin = get(network, path, as_of=AS_OF, target="tin-smelter-id")
    assert set(path_rows(to_tin)) == {((F, A, R, "tin-smelter-id"), 3, "expired"),
                                      ((F, K, R, "tin-smelter-id"), 2, "not_cascaded")}
    paged = all_pages(network, path, limit=1, as_of=AS_OF, target="tin-smelter-id")
    assert len(paged) == 2
    # the only path to solder-paste is covered end to end
    to_solder = get(network, path, as_of=AS_OF, target="solder-paste")
    assert to_solder == {"items": [], "next_cursor": None}


def test_uncovered_path_to_a_target_inside_a_cycle_ends_at_the_target(
    network: TestClient,
) -> None:
    page = get(network, "/v1/requests/minerals-q1/uncovered-paths", as_of=AS_OF,
               target="wafer-works")
    assert path_rows(page) == [((F, A, "chip-fab", "wafer-works"), 2, "declined")]


def test_a_covered_leaf_has_no_uncovered_path_but_others_do(network: TestClient) -> None:
    rows = path_rows(get(network, "/v1/requests/minerals-q1/uncovered-paths", as_of=AS_OF))
    assert not any(companies[-1] == "solder-paste" for companies, _, _ in rows)
    # every listed path follows real links from the issuer
    links = {(b, s) for b, s, _ in LINKS}
    for companies, break_index, _ in rows:
        assert companies[0] == "focal-jp"
        assert all(pair in links for pair in zip(companies, companies[1:], strict=False))
        assert 1 <= break_index < len(companies)


# -- company standing ---------------------------------------------------------------------


STANDINGS = [  # company, state, tier, covered, path
    ("focal-jp", "issuer", 0, True, [F]),
    ("acme-pcb", "acknowledged", 1, True, [F, A]),
    ("kobe-cable", "acknowledged", 1, True, [F, K]),
    ("resin-co", "acknowledged", 2, True, [F, A, R]),  # the covered chain, via acme-pcb
    ("solder-paste", "acknowledged", 2, True, [F, A, "solder-paste"]),
    ("chip-fab", "declined", 2, False, [F, A, "chip-fab"]),
    ("wafer-works", "acknowledged", 3, False, [F, A, "chip-fab", "wafer-works"]),
    ("copper-wire", "unreached", 2, False, [F, K, "copper-wire"]),
    ("build-corp", "not_applicable", 1, False, [F, "build-corp"]),
]


def test_company_standing(network: TestClient) -> None:
    for company_id, state, tier, covered, path in STANDINGS:
        answer = standing(network, company_id)
        assert (answer["state"], answer["tier"], answer["covered"], answer["path"]) == (
            state, tier, covered, path), company_id


def test_standing_of_an_uncovered_tier3_company_shows_a_shortest_chain(
    network: TestClient,
) -> None:
    for company_id, state in (("tin-smelter-id", "expired"), ("mica-mine-in", "pending"),
                              ("cobalt-refiner-cd", "overdue")):
        answer = standing(network, company_id)
        assert (answer["state"], answer["tier"], answer["covered"]) == (state, 3, False)
        # two shortest chains (through acme-pcb or kobe-cable); either is a right answer
        assert answer["path"] in ([F, A, R, company_id], [F, K, R, company_id]), company_id


def test_standing_of_unknown_company_is_404(network: TestClient) -> None:
    assert_problem(network.get("/v1/requests/minerals-q1/companies/ghost-corp",
                               params={"as_of": AS_OF}), 404)


def test_standing_of_a_company_outside_the_request_is_404(network: TestClient) -> None:
    post_ok(network, "/v1/companies", {"id": "lonely-co", "name": "Lonely Co"})
    assert_problem(network.get("/v1/requests/minerals-q1/companies/lonely-co"), 404)


# -- as_of --------------------------------------------------------------------------------


def test_as_of_in_the_past_ignores_later_events(network: TestClient) -> None:
    # On 02-15: tin and mica not sent yet, wafer-works' acceptance (02-20) not given yet
    report = coverage(network, as_of="2026-02-15T00:00:00Z")
    assert report["counts"] == zero_states(issuer=1, acknowledged=4, pending=2, declined=1,
                                           unreached=3, not_applicable=1)
    assert report["gaps"] == 4
    assert report["coverage_ratio"] == pytest.approx(0.4)
    assert standing(network, "wafer-works", "2026-02-15T00:00:00Z")["state"] == "pending"
    assert standing(network, "tin-smelter-id", "2026-02-15T00:00:00Z")["state"] == "unreached"
    gaps = gap_rows(get(network, "/v1/requests/minerals-q1/gaps",
                        as_of="2026-02-15T00:00:00Z"))
    assert gaps[0] == ("kobe-cable", "resin-co", 2, 3)
    assert set(gaps[1:]) == {("kobe-cable", "copper-wire", 2, 1),
                             ("resin-co", "tin-smelter-id", 3, 1),
                             ("resin-co", "mica-mine-in", 3, 1)}


def test_before_anything_was_sent_everyone_is_unreached(network: TestClient) -> None:
    report = coverage(network, as_of="2026-01-05T12:00:00Z")
    assert report["counts"] == zero_states(issuer=1, unreached=10, not_applicable=1)
    assert report["coverage_ratio"] == 0.0
    gaps = gap_rows(get(network, "/v1/requests/minerals-q1/gaps",
                        as_of="2026-01-05T12:00:00Z"))
    # only the issuer's own links are gaps; acme-pcb has 8 companies upstream (itself,
    # resin-co, chip-fab, wafer-works, solder-paste, tin, mica, cobalt), kobe-cable 6
    assert gaps == [("focal-jp", "acme-pcb", 1, 8), ("focal-jp", "kobe-cable", 1, 6)]


def test_pending_until_the_due_date_then_overdue(network: TestClient) -> None:
    # cobalt-refiner-cd first reached 02-11, 30 days to answer: due 03-13T00:00Z
    assert standing(network, "cobalt-refiner-cd", "2026-03-13T00:00:00Z")["state"] == "pending"
    assert standing(network, "cobalt-refiner-cd", "2026-03-13T00:00:01Z")["state"] == "overdue"
    assert coverage(network, "2026-03-13T00:00:00Z")["counts"]["overdue"] == 0


def test_acceptance_expires_after_valid_days(network: TestClient) -> None:
    # tin-smelter-id accepted 01-10 (before it was reached on 03-01), valid 60 days
    at_limit = standing(network, "tin-smelter-id", "2026-03-11T00:00:00Z")
    assert (at_limit["state"], at_limit["covered"]) == ("acknowledged", True)
    assert at_limit["path"] == [F, A, R, "tin-smelter-id"]
    assert standing(network, "tin-smelter-id", "2026-03-11T00:00:01Z")["state"] == "expired"
    before = coverage(network, "2026-03-11T00:00:00Z")
    assert before["paths"] == {"total": 9, "covered": 2, "uncovered": 7}


def test_naive_as_of_is_422_naming_as_of(network: TestClient) -> None:
    for path in ("/v1/requests/minerals-q1/coverage", "/v1/requests/minerals-q1/gaps",
                 "/v1/requests/minerals-q1/uncovered-paths",
                 "/v1/requests/minerals-q1/companies/acme-pcb"):
        assert_problem(network.get(path, params={"as_of": "2026-03-20T00:00:00"}), 422, "as_of")
        assert_problem(network.get(path, params={"as_of": "last week"}), 422, "as_of")


def test_unknown_request_is_404(network: TestClient) -> None:
    for suffix in ("coverage", "gaps", "uncovered-paths", "companies/acme-pcb"):
        assert_problem(network.get(f"/v1/requests/minerals-1999/{suffix}"), 404)


# -- gap counts ---------------------------------------------------------------------------


def test_gap_counts_for_every_request(network: TestClient) -> None:
    # a request whose answers never expire and that allows ten years to answer
    post_ok(network, "/v1/requests", MINERALS | {
        "id": "bcp-open", "topic": "business_continuity", "version": "3",
        "valid_days": None, "due_days": 3650, "applies_to": None})
    record_events(network, "bcp-open")
    body = get(network, "/v1/gap-counts")
    assert isinstance(body["revision"], int)
    rows = {row["request_id"]: row for row in body["requests"]}
    assert set(rows) == {"minerals-q1", "bcp-open"}
    # bcp-open now: tin-smelter-id's acceptance still counts, mica and cobalt have time left
    assert rows["bcp-open"] == {
        "request_id": "bcp-open", "topic": "business_continuity", "version": "3",
        "unreached": 2, "pending": 2, "overdue": 0, "declined": 1, "expired": 0,
        "gaps": 4, "uncovered_paths": 8, "coverage_ratio": pytest.approx(5 / 11),
    }
    # minerals-q1 now (long after April 2026): every acceptance has expired
    assert rows["minerals-q1"] == {
        "request_id": "minerals-q1", "topic": "conflict_minerals", "version": "2026.1",
        "unreached": 1, "pending": 0, "overdue": 2, "declined": 1, "expired": 6,
        "gaps": 0, "uncovered_paths": 9, "coverage_ratio": 0.0,
    }


def test_gap_counts_revision_increases_after_a_write(network: TestClient) -> None:
    first = get(network, "/v1/gap-counts")["revision"]
    assert get(network, "/v1/gap-counts")["revision"] == first  # reads change nothing
    post_ok(network, "/v1/acknowledgements", {"request_id": "minerals-q1",
                                              "company_id": "cobalt-refiner-cd",
                                              "status": "received"})
    second = get(network, "/v1/gap-counts")["revision"]
    assert second > first
    assert get(network, "/v1/requests/minerals-q1/coverage")["revision"] == second
    post_ok(network, "/v1/companies", {"id": "nagoya-metal", "name": "Nagoya Metal"})
    assert get(network, "/v1/gap-counts")["revision"] > second


def test_a_refused_write_changes_nothing(network: TestClient) -> None:
    before = get(network, "/v1/gap-counts")
    report = coverage(network)
    assert_problem(network.post("/v1/cascades", json={
        "request_id": "minerals-q1", "from_id": "focal-jp", "to_id": "resin-co"}), 422, "to_id")
    assert_problem(network.post("/v1/links", json={
        "buyer_id": "resin-co", "supplier_id": "ghost-corp"}), 422, "supplier_id")
    assert get(network, "/v1/gap-counts") == before
    assert coverage(network) == report


# -- errors, health, docs -----------------------------------------------------------------


def test_every_error_is_problem_json(network: TestClient) -> None:
    responses = [
        (network.get("/v1/companies/ghost-corp"), 404),
        (network.get("/v1/requests/ghost"), 404),
        (network.get("/v1/requests/ghost/coverage"), 404),
        (network.get("/v1/requests/minerals-q1/gaps", params={"limit": 0}), 422),
        (network.get("/v1/requests/minerals-q1/uncovered-paths", params={"limit": "many"}), 422),
        (network.post("/v1/companies", json={"id": "acme-pcb", "name": "Acme"}), 409),
        (network.post("/v1/companies", content=b"{not json",
                      headers={"content-type": "application/json"}), 422),
        (network.delete("/v1/companies/acme-pcb"), 409),
        (network.delete("/v1/links/focal-jp/ghost-corp"), 404),
        (network.post("/v1/requests", json=MINERALS), 409),
        (network.post("/v1/acknowledgements", json={"request_id": "minerals-q1",
                                                    "company_id": "acme-pcb",
                                                    "status": "maybe"}), 422),
        (network.get("/v1/no-such-resource"), 404),
        (network.delete("/v1/gap-counts"), 405),
    ]
    for response, status in responses:
        assert_problem(response, status)


def test_healthz_and_readyz(client: TestClient) -> None:
    health = client.get("/healthz")
    assert health.status_code == 200
    assert health.json()["status"] == "ok"
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"


def test_openapi_lists_every_v1_path(client: TestClient) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    wanted = {
        "/v1/companies": {"get", "post"},
        "/v1/companies/{company_id}": {"get", "put", "patch", "delete"},
        "/v1/companies/{company_id}/upstream": {"get"},
        "/v1/links": {"get", "post"},
        "/v1/links/{buyer_id}/{supplier_id}": {"delete"},
        "/v1/requests": {"get", "post"},
        "/v1/requests/{request_id}": {"get"},
        "/v1/catalog": {"get"},
        "/v1/cascades": {"get", "post"},
        "/v1/acknowledgements": {"get", "post"},
        "/v1/requests/{request_id}/coverage": {"get"},
        "/v1/requests/{request_id}/gaps": {"get"},
        "/v1/requests/{request_id}/uncovered-paths": {"get"},
        "/v1/requests/{request_id}/companies/{company_id}": {"get"},
        "/v1/gap-counts": {"get"},
        "/healthz": {"get"},
        "/readyz": {"get"},
    }
    for path, methods in wanted.items():
        assert path in paths, path
        assert methods <= set(paths[path]), (path, set(paths[path]))


def test_docs_page(client: TestClient) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    assert "text/html" in response.headers["content-type"]


def test_readyz_is_503_until_the_snapshot_is_read(store: CascadeStore) -> None:
    import threading

    from loaders.demo import load_demo_if_empty

    load_demo_if_empty(store)
    release = threading.Event()
    load = store.load_snapshot

    def slow_cold_read(request_ids: Any) -> Any:
        release.wait(30)
        return load(request_ids)

    store.load_snapshot = slow_cold_read  # type: ignore[method-assign]
    with TestClient(create_app(Settings(), store=store)) as warming:
        still = warming.get("/readyz")
        assert still.status_code == 503 and still.headers["retry-after"]
        assert warming.get("/healthz").status_code == 200  # alive, not ready
        release.set()
        assert warming.app.state.services.warmup.wait(30)  # type: ignore[attr-defined]
        assert warming.get("/readyz").json()["status"] == "ready"
        reloads = warming.app.state.services.coverage.reloads  # type: ignore[attr-defined]
        signed_in(warming).get("/v1/gap-counts")
        after = warming.app.state.services.coverage.reloads  # type: ignore[attr-defined]
        assert after == reloads == 1  # the first request found the snapshot warm
