"""The minerals roll-up on both stores: three tier-1 suppliers (one without a file), two
tier-2 suppliers under one of them, smelters listed at both tiers (one unidentified), and
a declared response share the cascade contradicts."""

from __future__ import annotations

import csv
import io
from typing import Any

from fastapi.testclient import TestClient

from api_tests.cmrt_workbooks import SmelterRow, Template, build

TIMAH = SmelterRow("Tin", typed_id="CID001482", lookup="Smelter not listed",
                   name="PT Timah Tbk Mentok", country="INDONESIA")
GAM = SmelterRow("Tantalum", typed_id="CID000211", lookup="Smelter not listed",
                 name="Global Advanced Metals Boyertown", country="UNITED STATES OF AMERICA")
BACKYARD = SmelterRow("Tin", lookup="Smelter not listed", name="Backyard Tin Works",
                      country="CONGO, DEMOCRATIC REPUBLIC OF THE")  # no RMI id
NOT_YET = SmelterRow("Gold", lookup="Smelter not yet identified")


def seed(client: TestClient) -> None:
    """focal <- alpha, beta, gamma; alpha <- alpha-1, alpha-2 (components)."""
    ids = ["focal", "alpha", "beta", "gamma", "alpha-1", "alpha-2"]
    client.post("/v1/companies/batch", json={"items": [{"id": c, "name": c.title()} for c in ids]})
    links = [("focal", "alpha"), ("focal", "beta"), ("focal", "gamma"), ("alpha", "alpha-1"),
             ("alpha", "alpha-2")]
    client.post("/v1/links/batch", json={"items": [
        {"buyer_id": b, "supplier_id": s, "category": "components"} for b, s in links]})
    assert client.post("/v1/requests", json={
        "id": "minerals", "catalog_id": "minerals-2026", "issuer_id": "focal",
        "issued_at": "2026-02-01T00:00:00Z"}).status_code == 201


def upload(client: TestClient, company: str, spec: Template) -> None:
    response = client.post("/v1/imports", data={
        "kind": "cmrt", "request_id": "minerals", "company_id": company},
        files={"file": (f"{company}.xlsx", build(spec))})
    assert response.status_code == 200, response.text


def every_metal(question: int, answer: str) -> dict[tuple[int, str], str]:
    return {(question, m): answer for m in ("Tantalum", "Tin", "Gold", "Tungsten")}


def supplier_files(client: TestClient) -> None:
    # alpha declares that all its suppliers answered and all smelters are identified
    upload(client, "alpha", Template(company="Alpha", answers={
        **every_metal(6, "100%"), **every_metal(7, "Yes"), (1, "Tantalum"): "Yes"},
        smelters=[GAM]))
    upload(client, "alpha-1", Template(company="Alpha-1", smelters=[TIMAH, BACKYARD, NOT_YET],
                                       answers={(1, "Tin"): "Yes"}))
    upload(client, "beta", Template(company="Beta", smelters=[TIMAH],
                                    answers={(1, "Tin"): "Yes", (6, "Tin"): "100%"}))
    upload(client, "beta", Template(company="Beta", template="EMRT", version="2.1",
                                    answers={(1, "Cobalt"): "Yes"}))


def question(template: dict[str, Any], key: str) -> dict[str, Any]:
    return next(q for q in template["questions"] if q["key"] == key)


def test_the_focal_declaration_is_rolled_up_from_its_direct_suppliers(
    client: TestClient
) -> None:
    seed(client)
    supplier_files(client)
    body = client.get("/v1/requests/minerals/minerals/declaration").json()
    assert body["company_id"] == "focal"
    cmrt, emrt = body["templates"]
    assert (cmrt["template"], cmrt["version"], cmrt["responded"], cmrt["missing"]) == (
        "CMRT", "6.5", 2, ["gamma"])
    share = question(cmrt, "response_share")
    assert share["number"] == 6 and share["question"].startswith("What percentage of relevant")
    assert set(share["answers"].values()) == {"Greater than 50%"}  # 2 of 3
    added = question(cmrt, "intentionally_added")["answers"]
    assert added["Tin"] == "Yes"  # beta said Yes
    assert added["Gold"] == "Unknown"  # alpha and beta said No, gamma said nothing
    identified = question(cmrt, "smelters_identified")["answers"]
    assert identified["Tin"] == "No"  # an unidentified tin smelter is listed upstream
    assert sorted(s["company_id"] for s in cmrt["sources"]) == ["alpha", "beta"]
    assert (emrt["template"], emrt["metals"], emrt["responded"]) == ("EMRT", ["Cobalt"], 1)
    assert question(emrt, "response_share")["number"] == 5
    assert question(emrt, "response_share")["answers"] == {"Cobalt": "50% or less"}


def test_smelters_are_never_relevant_suppliers(client: TestClient) -> None:
    seed(client)
    supplier_files(client)
    alpha = client.get("/v1/requests/minerals/minerals/declaration",
                       params={"company": "alpha"}).json()["templates"][0]
    assert alpha["relevant_suppliers"] == ["alpha-1", "alpha-2"]  # not its smelter
    assert set(question(alpha, "response_share")["answers"].values()) == {"50% or less"}


def test_the_smelter_list_consolidates_the_files_upstream(client: TestClient) -> None:
    seed(client)
    supplier_files(client)
    page = client.get("/v1/requests/minerals/minerals/smelters").json()
    rows = {(s["metal"], s["smelter_id"], s["name"]): s for s in page["items"]}
    timah = rows[("Tin", "CID001482", "PT Timah Tbk Mentok")]
    assert (timah["declaring_suppliers"], timah["tier"], timah["unidentified"]) == (2, 1, False)
    backyard = rows[("Tin", None, "Backyard Tin Works")]
    assert (backyard["unidentified"], backyard["tier"]) == (True, 2)
    assert rows[("Gold", None, None)]["unidentified"]
    assert [s["unidentified"] for s in page["items"]] == [False, False, True, True]
    tin = client.get("/v1/requests/minerals/minerals/smelters",
                     params={"metal": "tin", "limit": 1}).json()
    assert len(tin["items"]) == 1 and tin["next_cursor"]
    second = client.get("/v1/requests/minerals/minerals/smelters", params={
        "metal": "tin", "limit": 1, "cursor": tin["next_cursor"]}).json()
    assert second["items"][0]["name"] == "Backyard Tin Works" and second["next_cursor"] is None
    beta_up = client.get("/v1/requests/minerals/minerals/smelters",
                         params={"company": "beta"}).json()
    assert beta_up["items"] == []  # beta's own file is not its upstream


def test_reconciliation_shows_declarations_the_cascade_contradicts(client: TestClient) -> None:
    seed(client)
    supplier_files(client)
    items = client.get("/v1/requests/minerals/minerals/reconciliation").json()["items"]
    shares = {(r["company_id"], r["metal"]): (r["declared"], r["cascade"]) for r in items
              if r["kind"] == "response_share"}
    assert shares[("alpha", "Tin")] == ("100%", "50% or less")
    assert {c for c, _ in shares} == {"alpha"}  # beta has no supplier the service knows
    smelters = [r for r in items if r["kind"] == "unidentified_smelters"]
    assert {(r["company_id"], r["metal"]) for r in smelters} == {("alpha", "Tin"),
                                                                  ("alpha", "Gold")}
    exported = client.get("/v1/requests/minerals/minerals/reconciliation.csv")
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert len(rows) == len(items) and rows[0]["request_id"] == "minerals"
    workbook = client.get("/v1/requests/minerals/minerals/reconciliation.xlsx")
    assert workbook.status_code == 200 and workbook.content[:2] == b"PK"


def test_unknown_company_and_request_are_named(client: TestClient) -> None:
    seed(client)
    wrong = client.get("/v1/requests/minerals/minerals/declaration", params={"company": "x"})
    assert wrong.status_code == 422 and wrong.json()["field"] == "company"
    assert client.get("/v1/requests/nope/minerals/smelters").status_code == 404


def test_reissue_starts_the_next_round_along_last_rounds_forwards(client: TestClient) -> None:
    seed(client)
    client.post("/v1/cascades/batch", json={"items": [
        {"request_id": "minerals", "from_id": "focal", "to_id": t,
         "sent_at": "2026-02-02T00:00:00Z"} for t in ("alpha", "beta")]})
    response = client.post("/v1/requests/minerals/reissue", json={
        "recascade": True, "issued_at": "2027-02-01T00:00:00Z"})
    assert response.status_code == 201, response.text
    body = response.json()
    new = body["request"]
    assert (new["id"], new["supersedes"], body["recascaded"]) == ("minerals-r2027", "minerals", 2)
    assert new["applies_to"] == client.get("/v1/requests/minerals").json()["applies_to"]
    coverage = client.get(f"/v1/requests/{new['id']}/coverage").json()
    assert coverage["request_id"] == new["id"]
    again = client.post("/v1/requests/minerals/reissue", json={})
    assert again.status_code == 409 and again.json()["field"] == "id"
    assert client.post("/v1/requests/nope/reissue", json={}).status_code == 404
