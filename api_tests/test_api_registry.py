"""REST contract of the supplier registry: /v1/companies, /v1/links and upstream.

Every test runs on the embedded SQLite store and on a real Neo4j (the `client` fixture).
"""

from __future__ import annotations

from typing import Any

import httpx
from fastapi.testclient import TestClient

PROBLEM_JSON = "application/problem+json"


def add_company(client: TestClient, company_id: str, **fields: Any) -> dict[str, Any]:
    body = {"id": company_id, "name": fields.pop("name", company_id.title())} | fields
    response = client.post("/v1/companies", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def add_link(
    client: TestClient, buyer_id: str, supplier_id: str, category: str = "components"
) -> httpx.Response:
    body = {"buyer_id": buyer_id, "supplier_id": supplier_id, "category": category}
    response = client.post("/v1/links", json=body)
    assert response.status_code in (200, 201), response.text
    return response


def assert_problem(
    response: httpx.Response, status: int, field: str | None = None
) -> dict[str, Any]:
    """An RFC 9457 problem with the given status, naming `field` when one is given."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    problem = response.json()
    assert {"type", "title", "status", "detail"} <= problem.keys()
    assert problem["status"] == status
    if field is not None:
        named = {problem.get("field")} | {e["field"] for e in problem.get("errors", [])}
        assert field in named, problem
    return problem


def issue_bcp(client: TestClient, issuer_id: str, request_id: str = "bcp-2026") -> None:
    response = client.post("/v1/requests", json={"id": request_id, "catalog_id": "bcp",
                                                 "issuer_id": issuer_id})
    assert response.status_code == 201, response.text


# -- companies: create, read, replace ------------------------------------------------------


def test_create_company_returns_201_and_every_field(client: TestClient) -> None:
    body = {
        "id": "acme-pcb",
        "name": "Acme PCB Ltd",
        "country": "TW",
        "kind": "manufacturer",
        "identifiers": {"duns": "123456789", "lei": "5493001KJTIIGC8Y1R12"},
        "tags": ["pcb", "tier-1"],
    }
    response = client.post("/v1/companies", json=body)
    assert response.status_code == 201
    assert response.json() == body | {"sites": []}
    assert client.get("/v1/companies/acme-pcb").json() == body | {"sites": []}


def test_create_company_defaults(client: TestClient) -> None:
    created = add_company(client, "kobe-cable", name="Kobe Cable Works")
    assert created == {"id": "kobe-cable", "name": "Kobe Cable Works", "country": None,
                       "kind": "manufacturer", "identifiers": {}, "tags": [],
                       "sites": []}


def test_create_duplicate_company_is_409_and_keeps_the_first(client: TestClient) -> None:
    add_company(client, "acme-pcb", name="Acme PCB Ltd")
    response = client.post("/v1/companies", json={"id": "acme-pcb", "name": "Impostor"})
    assert_problem(response, 409)
    assert client.get("/v1/companies/acme-pcb").json()["name"] == "Acme PCB Ltd"


def test_put_creates_with_201_then_replaces_with_200(client: TestClient) -> None:
    first = client.put("/v1/companies/tin-smelter-id",
                       json={"name": "PT Timah", "country": "ID", "kind": "smelter",
                             "identifiers": {"rmi_cid": "CID001482"}, "tags": ["3TG"]})
    assert first.status_code == 201
    assert first.json()["id"] == "tin-smelter-id"

    second = client.put("/v1/companies/tin-smelter-id",
                        json={"name": "PT Timah Tbk", "kind": "smelter"})
    assert second.status_code == 200
    # a PUT replaces: fields left out go back to their defaults
    assert second.json() == {"id": "tin-smelter-id", "name": "PT Timah Tbk", "country": None,
                             "kind": "smelter", "identifiers": {}, "tags": [],
                             "sites": []}
    assert client.get("/v1/companies/tin-smelter-id").json() == second.json()


def test_put_refuses_an_id_in_the_body(client: TestClient) -> None:
    response = client.put("/v1/companies/acme-pcb", json={"id": "other", "name": "Acme"})
    assert_problem(response, 422, "id")
    assert client.get("/v1/companies/acme-pcb").status_code == 404


def test_get_unknown_company_is_404(client: TestClient) -> None:
    assert_problem(client.get("/v1/companies/no-such-supplier"), 404)


# -- companies: partial update ------------------------------------------------------------


def test_patch_changes_only_the_fields_sent(client: TestClient) -> None:
    add_company(client, "resin-co", name="Resin Co", country="CN", kind="manufacturer",
                tags=["resin"], identifiers={"duns": "987654321"})
    response = client.patch("/v1/companies/resin-co", json={"country": "VN"})
    assert response.status_code == 200
    assert response.json() == {"id": "resin-co", "name": "Resin Co", "country": "VN",
                               "kind": "manufacturer", "identifiers": {"duns": "987654321"},
                               "tags": ["resin"], "sites": []}
    assert client.get("/v1/companies/resin-co").json()["country"] == "VN"


def test_patch_may_clear_the_country_but_not_the_name(client: TestClient) -> None:
    add_company(client, "resin-co", name="Resin Co", country="CN")
    assert client.patch("/v1/companies/resin-co", json={"country": None}).json()["country"] is None

    assert_problem(client.patch("/v1/companies/resin-co", json={"name": None}), 422, "name")
    assert client.get("/v1/companies/resin-co").json()["name"] == "Resin Co"


def test_patch_unknown_company_is_404(client: TestClient) -> None:
    assert_problem(client.patch("/v1/companies/ghost", json={"name": "Ghost"}), 404)


def test_patch_with_unknown_field_is_422(client: TestClient) -> None:
    add_company(client, "resin-co")
    assert_problem(client.patch("/v1/companies/resin-co", json={"colour": "red"}), 422, "colour")


# -- companies: payload validation --------------------------------------------------------


def test_unknown_field_in_body_is_422_naming_it(client: TestClient) -> None:
    response = client.post("/v1/companies",
                           json={"id": "acme-pcb", "name": "Acme", "vat_number": "TW123"})
    assert_problem(response, 422, "vat_number")
    assert client.get("/v1/companies/acme-pcb").status_code == 404


def test_bad_country_code_is_422_naming_country(client: TestClient) -> None:
    for country in ("jp", "JPN", "J1"):
        response = client.post("/v1/companies",
                               json={"id": "focal-jp", "name": "Focal", "country": country})
        assert_problem(response, 422, "country")
    assert_problem(client.put("/v1/companies/focal-jp", json={"name": "F", "country": "Japan"}),
                   422, "country")


def test_unknown_kind_and_missing_name_are_422(client: TestClient) -> None:
    response = client.post("/v1/companies", json={"id": "x1", "name": "X", "kind": "mine"})
    assert_problem(response, 422, "kind")
    assert_problem(client.post("/v1/companies", json={"id": "x1"}), 422, "name")


# -- companies: delete --------------------------------------------------------------------


def test_delete_company_is_204_then_404(client: TestClient) -> None:
    add_company(client, "acme-pcb")
    response = client.delete("/v1/companies/acme-pcb")
    assert response.status_code == 204
    assert response.content == b""
    assert client.get("/v1/companies/acme-pcb").status_code == 404
    assert_problem(client.delete("/v1/companies/acme-pcb"), 404)


def test_delete_refused_with_409_while_a_link_references_it(client: TestClient) -> None:
    add_company(client, "focal-jp")
    add_company(client, "acme-pcb")
    add_link(client, "focal-jp", "acme-pcb")
    assert_problem(client.delete("/v1/companies/acme-pcb"), 409)
    assert_problem(client.delete("/v1/companies/focal-jp"), 409)
    assert client.get("/v1/companies/acme-pcb").status_code == 200
    assert len(client.get("/v1/links").json()["items"]) == 1


def test_delete_refused_while_events_reference_it(client: TestClient) -> None:
    add_company(client, "focal-jp")
    add_company(client, "acme-pcb")
    add_link(client, "focal-jp", "acme-pcb")
    issue_bcp(client, "focal-jp")
    ack = client.post("/v1/acknowledgements", json={
        "request_id": "bcp-2026", "company_id": "acme-pcb", "status": "accepted",
        "at": "2026-02-01T00:00:00Z"})
    assert ack.status_code == 201
    assert client.delete("/v1/links/focal-jp/acme-pcb").status_code == 204
    # no link any more, but its answer still references it
    assert_problem(client.delete("/v1/companies/acme-pcb"), 409)


def test_force_delete_removes_its_links_and_events(client: TestClient) -> None:
    for cid in ("focal-jp", "acme-pcb", "resin-co", "kobe-cable"):
        add_company(client, cid)
    add_link(client, "focal-jp", "acme-pcb")
    add_link(client, "focal-jp", "kobe-cable")
    add_link(client, "acme-pcb", "resin-co", "raw_materials")
    issue_bcp(client, "focal-jp")
    for sender, receiver in (("focal-jp", "acme-pcb"), ("acme-pcb", "resin-co"),
                             ("focal-jp", "kobe-cable")):
        response = client.post("/v1/cascades", json={
            "request_id": "bcp-2026", "from_id": sender, "to_id": receiver,
            "sent_at": "2026-01-10T00:00:00Z"})
        assert response.status_code == 201
    client.post("/v1/acknowledgements", json={"request_id": "bcp-2026",
                "company_id": "acme-pcb", "status": "accepted", "at": "2026-01-12T00:00:00Z"})

    response = client.delete("/v1/companies/acme-pcb", params={"force": "true"})
    assert response.status_code == 204
    assert client.get("/v1/companies/acme-pcb").status_code == 404
    links = client.get("/v1/links").json()["items"]
    assert [(lk["buyer_id"], lk["supplier_id"]) for lk in links] == [("focal-jp", "kobe-cable")]
    cascades = client.get("/v1/cascades", params={"request_id": "bcp-2026"}).json()
    assert [(c["from_id"], c["to_id"]) for c in cascades] == [("focal-jp", "kobe-cable")]
    assert client.get("/v1/acknowledgements", params={"company_id": "acme-pcb"}).json() == []
    # the other companies stay
    assert client.get("/v1/companies/resin-co").status_code == 200


def test_force_delete_unknown_company_is_404(client: TestClient) -> None:
    assert_problem(client.delete("/v1/companies/ghost", params={"force": "true"}), 404)


# -- companies: listing -------------------------------------------------------------------


def sample_registry(client: TestClient) -> None:
    add_company(client, "focal-jp", name="Focal Electronics KK", country="JP")
    add_company(client, "acme-pcb", name="Acme PCB Ltd", country="TW")
    add_company(client, "kobe-cable", name="Kobe Cable Works", country="JP")
    add_company(client, "tin-smelter-id", name="PT Timah", country="ID", kind="smelter")
    add_company(client, "gold-refiner-ch", name="Swiss Gold Refinery", country="CH",
                kind="smelter")
    add_company(client, "build-corp", name="Build Corp", country="JP", kind="contractor")


def ids(page: dict[str, Any]) -> list[str]:
    return [c["id"] for c in page["items"]]


def test_list_companies_ordered_by_id(client: TestClient) -> None:
    sample_registry(client)
    page = client.get("/v1/companies").json()
    assert ids(page) == ["acme-pcb", "build-corp", "focal-jp", "gold-refiner-ch",
                         "kobe-cable", "tin-smelter-id"]
    assert page["next_cursor"] is None


def test_list_companies_filters(client: TestClient) -> None:
    sample_registry(client)
    assert ids(client.get("/v1/companies", params={"kind": "smelter"}).json()) == [
        "gold-refiner-ch", "tin-smelter-id"]
    assert ids(client.get("/v1/companies", params={"country": "JP"}).json()) == [
        "build-corp", "focal-jp", "kobe-cable"]
    assert ids(client.get("/v1/companies",
                          params={"country": "JP", "kind": "contractor"}).json()) == ["build-corp"]
    # q matches id or name, case-insensitively
    assert ids(client.get("/v1/companies", params={"q": "refin"}).json()) == ["gold-refiner-ch"]
    assert ids(client.get("/v1/companies", params={"q": "TIMAH"}).json()) == ["tin-smelter-id"]
    assert ids(client.get("/v1/companies", params={"q": "cable"}).json()) == ["kobe-cable"]
    assert ids(client.get("/v1/companies", params={"q": "nothing-like-it"}).json()) == []


def test_list_companies_bad_filters_are_422(client: TestClient) -> None:
    assert_problem(client.get("/v1/companies", params={"kind": "mine"}), 422, "kind")
    assert_problem(client.get("/v1/companies", params={"country": "jpn"}), 422, "country")
    assert_problem(client.get("/v1/companies", params={"limit": 0}), 422, "limit")
    assert_problem(client.get("/v1/companies", params={"cursor": "not a cursor"}), 422, "cursor")


def test_list_companies_by_ids_names_a_page_in_one_call(client: TestClient) -> None:
    sample_registry(client)
    named = {"ids": ["kobe-cable", "acme-pcb", "no-such-co", "tin-smelter-id"]}
    assert ids(client.get("/v1/companies", params=named).json()) == [
        "acme-pcb", "kobe-cable", "tin-smelter-id"]  # by id; an unknown id is left out
    first = client.get("/v1/companies", params=named | {"limit": 2}).json()
    rest = client.get("/v1/companies", params=named | {"cursor": first["next_cursor"]}).json()
    assert ids(first) + ids(rest) == ["acme-pcb", "kobe-cable", "tin-smelter-id"]
    assert ids(client.get("/v1/companies", params=named | {"country": "JP"}).json()) == [
        "kobe-cable"]
    too_many = {"ids": [f"c{i}" for i in range(501)]}
    assert_problem(client.get("/v1/companies", params=too_many), 422, "ids")
    assert_problem(client.get("/v1/companies", params={"ids": ["bad\nid"]}), 422, "ids[0]")


def test_list_companies_cursor_pagination_visits_each_once(client: TestClient) -> None:
    wanted = [f"supplier-{i:02d}" for i in range(11)]
    for cid in reversed(wanted):
        add_company(client, cid, name=f"Supplier {cid}")
    seen: list[str] = []
    pages = 0
    cursor = None
    while True:
        params = {"limit": 4} | ({"cursor": cursor} if cursor else {})
        page = client.get("/v1/companies", params=params).json()
        pages += 1
        seen += ids(page)
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == wanted


def test_list_companies_pagination_with_a_filter(client: TestClient) -> None:
    sample_registry(client)
    first = client.get("/v1/companies", params={"country": "JP", "limit": 2}).json()
    assert ids(first) == ["build-corp", "focal-jp"]
    second = client.get("/v1/companies", params={"country": "JP", "limit": 2,
                                                 "cursor": first["next_cursor"]}).json()
    assert ids(second) == ["kobe-cable"]
    assert second["next_cursor"] is None


# -- links --------------------------------------------------------------------------------


def test_link_is_201_then_200_for_the_same_link(client: TestClient) -> None:
    add_company(client, "focal-jp")
    add_company(client, "acme-pcb")
    body = {"buyer_id": "focal-jp", "supplier_id": "acme-pcb", "category": "components"}
    first = client.post("/v1/links", json=body)
    assert first.status_code == 201
    assert first.json() == body
    again = client.post("/v1/links", json=body)
    assert again.status_code == 200
    assert again.json() == body
    assert client.get("/v1/links").json()["items"] == [body]


def test_link_category_defaults_and_can_change(client: TestClient) -> None:
    add_company(client, "focal-jp")
    add_company(client, "build-corp", kind="contractor")
    created = client.post("/v1/links", json={"buyer_id": "focal-jp", "supplier_id": "build-corp"})
    assert created.status_code == 201
    assert created.json()["category"] == "components"
    changed = client.post("/v1/links", json={"buyer_id": "focal-jp", "supplier_id": "build-corp",
                                             "category": "construction"})
    assert changed.status_code == 200
    assert client.get("/v1/links").json()["items"] == [
        {"buyer_id": "focal-jp", "supplier_id": "build-corp", "category": "construction"}]


def test_link_to_unknown_company_is_422_naming_the_field(client: TestClient) -> None:
    add_company(client, "focal-jp")
    response = client.post("/v1/links", json={"buyer_id": "focal-jp", "supplier_id": "ghost"})
    assert_problem(response, 422, "supplier_id")
    response = client.post("/v1/links", json={"buyer_id": "ghost", "supplier_id": "focal-jp"})
    assert_problem(response, 422, "buyer_id")
    assert client.get("/v1/links").json()["items"] == []


def test_self_link_is_422(client: TestClient) -> None:
    add_company(client, "focal-jp")
    response = client.post("/v1/links", json={"buyer_id": "focal-jp", "supplier_id": "focal-jp"})
    assert_problem(response, 422)
    assert client.get("/v1/links").json()["items"] == []


def test_link_with_unknown_field_is_422(client: TestClient) -> None:
    add_company(client, "focal-jp")
    add_company(client, "acme-pcb")
    response = client.post("/v1/links", json={"buyer_id": "focal-jp", "supplier_id": "acme-pcb",
                                              "volume": 12})
    assert_problem(response, 422, "volume")


def link_pairs(page: dict[str, Any]) -> list[tuple[str, str]]:
    return [(lk["buyer_id"], lk["supplier_id"]) for lk in page["items"]]


def test_list_links_filters(client: TestClient) -> None:
    for cid in ("focal-jp", "acme-pcb", "kobe-cable", "resin-co"):
        add_company(client, cid)
    add_link(client, "focal-jp", "acme-pcb")
    add_link(client, "focal-jp", "kobe-cable")
    add_link(client, "acme-pcb", "resin-co", "raw_materials")
    add_link(client, "kobe-cable", "resin-co", "raw_materials")

    assert sorted(link_pairs(client.get("/v1/links").json())) == [
        ("acme-pcb", "resin-co"), ("focal-jp", "acme-pcb"), ("focal-jp", "kobe-cable"),
        ("kobe-cable", "resin-co")]
    by_buyer = client.get("/v1/links", params={"buyer_id": "focal-jp"}).json()
    assert sorted(link_pairs(by_buyer)) == [("focal-jp", "acme-pcb"), ("focal-jp", "kobe-cable")]
    by_supplier = client.get("/v1/links", params={"supplier_id": "resin-co"}).json()
    assert sorted(link_pairs(by_supplier)) == [("acme-pcb", "resin-co"),
                                               ("kobe-cable", "resin-co")]
    both = client.get("/v1/links", params={"buyer_id": "kobe-cable", "supplier_id": "resin-co"})
    assert both.json()["items"] == [{"buyer_id": "kobe-cable", "supplier_id": "resin-co",
                                     "category": "raw_materials"}]
    assert client.get("/v1/links", params={"buyer_id": "ghost"}).json()["items"] == []


def test_list_links_pagination(client: TestClient) -> None:
    add_company(client, "focal-jp")
    suppliers = [f"supplier-{i}" for i in range(5)]
    for cid in suppliers:
        add_company(client, cid)
        add_link(client, "focal-jp", cid)
    seen: list[tuple[str, str]] = []
    cursor = None
    for _ in range(10):
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = client.get("/v1/links", params=params).json()
        assert len(page["items"]) <= 2
        seen += link_pairs(page)
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == [("focal-jp", s) for s in suppliers]
    assert len(seen) == len(set(seen))


def test_delete_link_is_204_then_404(client: TestClient) -> None:
    add_company(client, "focal-jp")
    add_company(client, "acme-pcb")
    add_link(client, "focal-jp", "acme-pcb")
    response = client.delete("/v1/links/focal-jp/acme-pcb")
    assert response.status_code == 204
    assert client.get("/v1/links").json()["items"] == []
    assert_problem(client.delete("/v1/links/focal-jp/acme-pcb"), 404)
    # the companies themselves stay, and can now be deleted
    assert client.delete("/v1/companies/acme-pcb").status_code == 204


# -- upstream -----------------------------------------------------------------------------


def small_chain(client: TestClient) -> None:
    """focal-jp <- acme-pcb <- resin-co <- tin-smelter-id, plus a 2-cycle and a shortcut."""
    for cid in ("focal-jp", "acme-pcb", "kobe-cable", "resin-co", "tin-smelter-id"):
        add_company(client, cid)
    add_link(client, "focal-jp", "acme-pcb")
    add_link(client, "focal-jp", "kobe-cable")
    add_link(client, "acme-pcb", "resin-co", "raw_materials")
    add_link(client, "resin-co", "tin-smelter-id", "raw_materials")
    add_link(client, "tin-smelter-id", "resin-co", "raw_materials")  # a 2-cycle
    add_link(client, "kobe-cable", "acme-pcb")  # acme-pcb stays tier 1


def test_upstream_lists_suppliers_with_tiers_up_to_depth(client: TestClient) -> None:
    small_chain(client)
    one = client.get("/v1/companies/focal-jp/upstream", params={"depth": 1})
    assert one.status_code == 200
    assert sorted((c["id"], c["tier"]) for c in one.json()) == [("acme-pcb", 1),
                                                                ("kobe-cable", 1)]
    three = client.get("/v1/companies/focal-jp/upstream", params={"depth": 3}).json()
    assert sorted((c["id"], c["tier"]) for c in three) == [
        ("acme-pcb", 1), ("kobe-cable", 1), ("resin-co", 2), ("tin-smelter-id", 3)]
    assert [c["tier"] for c in three] == sorted(c["tier"] for c in three)  # nearest first
    # from the middle of the chain; the cycle does not bring the company back as its own
    # supplier
    mid = client.get("/v1/companies/acme-pcb/upstream", params={"depth": 5}).json()
    assert mid == [{"id": "resin-co", "tier": 1}, {"id": "tin-smelter-id", "tier": 2}]


def test_upstream_of_a_company_without_suppliers_is_empty(client: TestClient) -> None:
    small_chain(client)
    add_company(client, "lonely-co")
    assert client.get("/v1/companies/lonely-co/upstream").json() == []


def test_upstream_unknown_company_is_404_and_bad_depth_422(client: TestClient) -> None:
    small_chain(client)
    assert_problem(client.get("/v1/companies/ghost/upstream"), 404)
    assert_problem(client.get("/v1/companies/focal-jp/upstream", params={"depth": 0}),
                   422, "depth")
    assert_problem(client.get("/v1/companies/focal-jp/upstream", params={"depth": "x"}),
                   422, "depth")
