"""Batch writes: a result per item in input order, valid items written, retries unchanged."""

from __future__ import annotations

from fastapi.testclient import TestClient

T0 = "2026-03-01T09:00:00Z"


def company(cid: str, kind: str = "manufacturer") -> dict[str, str]:
    return {"id": cid, "name": f"{cid} Ltd", "country": "JP", "kind": kind}


def batch(client: TestClient, resource: str, items: list) -> list[dict]:  # type: ignore[type-arg]
    response = client.post(f"/v1/{resource}/batch", json={"items": items})
    assert response.status_code == 200, response.text
    return response.json()["results"]


def statuses(results: list[dict]) -> list[str]:  # type: ignore[type-arg]
    return [r["status"] for r in results]


def seed_chain(client: TestClient) -> None:
    batch(client, "companies", [company("focal-jp"), company("acme-pcb"),
                                company("tin-id", "smelter")])
    batch(client, "links", [{"buyer_id": "focal-jp", "supplier_id": "acme-pcb"},
                            {"buyer_id": "acme-pcb", "supplier_id": "tin-id",
                             "category": "raw_materials"}])
    client.post("/v1/requests", json={"id": "reach-1", "topic": "reach", "title": "REACH",
                                      "issuer_id": "focal-jp", "issued_at": T0})


def test_companies_batch_reports_each_item_in_order(client: TestClient) -> None:
    results = batch(client, "companies", [
        company("focal-jp"), {"id": "bad", "name": "Bad", "country": "japan"},
        company("acme-pcb"), {"name": "no id"},
    ])
    assert [r["index"] for r in results] == [0, 1, 2, 3]
    assert statuses(results) == ["created", "error", "created", "error"]
    assert results[1]["problem"]["field"] == "country"
    assert results[3]["problem"]["field"] == "id"
    assert client.get("/v1/companies/acme-pcb").status_code == 200
    assert client.get("/v1/companies/bad").status_code == 404


def test_companies_batch_retry_is_unchanged_and_edit_is_updated(client: TestClient) -> None:
    items = [company("focal-jp"), company("acme-pcb")]
    batch(client, "companies", items)
    revision = client.get("/v1/gap-counts").json()["revision"]
    assert statuses(batch(client, "companies", items)) == ["unchanged", "unchanged"]
    assert client.get("/v1/gap-counts").json()["revision"] == revision
    renamed = [company("focal-jp"), {**company("acme-pcb"), "name": "Acme PCB Co"}]
    assert statuses(batch(client, "companies", renamed)) == ["unchanged", "updated"]


def test_links_batch_refuses_self_links_and_unknown_companies(client: TestClient) -> None:
    batch(client, "companies", [company("focal-jp"), company("acme-pcb")])
    results = batch(client, "links", [
        {"buyer_id": "focal-jp", "supplier_id": "acme-pcb"},
        {"buyer_id": "focal-jp", "supplier_id": "focal-jp"},
        {"buyer_id": "ghost", "supplier_id": "acme-pcb"},
        {"buyer_id": "focal-jp", "supplier_id": "acme-pcb"},
    ])
    assert statuses(results) == ["created", "error", "error", "unchanged"]
    assert results[1]["problem"]["field"] == "supplier_id"
    assert results[2]["problem"]["field"] == "buyer_id"
    assert len(client.get("/v1/links").json()["items"]) == 1


def test_cascades_batch_checks_request_and_supply_link(client: TestClient) -> None:
    seed_chain(client)
    results = batch(client, "cascades", [
        {"request_id": "reach-1", "from_id": "focal-jp", "to_id": "acme-pcb", "sent_at": T0},
        {"request_id": "reach-1", "from_id": "focal-jp", "to_id": "tin-id", "sent_at": T0},
        {"request_id": "nope", "from_id": "focal-jp", "to_id": "acme-pcb"},
        {"request_id": "reach-1", "from_id": "focal-jp", "to_id": "acme-pcb",
         "sent_at": "2026-03-01T09:00:00"},
    ])
    assert statuses(results) == ["created", "error", "error", "error"]
    assert [r["problem"]["field"] for r in results[1:]] == ["to_id", "request_id", "sent_at"]
    again = batch(client, "cascades", [
        {"request_id": "reach-1", "from_id": "focal-jp", "to_id": "acme-pcb", "sent_at": T0}])
    assert statuses(again) == ["unchanged"]
    assert len(client.get("/v1/cascades", params={"request_id": "reach-1"}).json()) == 1


def test_acknowledgements_batch_retry_never_double_counts(client: TestClient) -> None:
    seed_chain(client)
    batch(client, "cascades", [
        {"request_id": "reach-1", "from_id": "focal-jp", "to_id": "acme-pcb", "sent_at": T0}])
    answers = [
        {"request_id": "reach-1", "company_id": "acme-pcb", "status": "accepted", "at": T0},
        {"request_id": "reach-1", "company_id": "ghost", "status": "accepted", "at": T0},
        {"request_id": "reach-1", "company_id": "tin-id", "status": "maybe", "at": T0},
    ]
    assert statuses(batch(client, "acknowledgements", answers)) == ["created", "error", "error"]
    assert statuses(batch(client, "acknowledgements", answers[:1])) == ["unchanged"]
    history = client.get("/v1/acknowledgements", params={"request_id": "reach-1"}).json()
    assert len(history) == 1
    coverage = client.get("/v1/requests/reach-1/coverage",
                          params={"as_of": "2026-03-02T00:00:00Z"}).json()
    assert coverage["counts"]["acknowledged"] == 1


def test_batch_over_the_limit_is_refused(client: TestClient) -> None:
    response = client.post("/v1/companies/batch",
                           json={"items": [company(f"c{i}") for i in range(10_001)]})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["field"] == "items"
    assert client.get("/v1/companies", params={"limit": 1}).json()["items"] == []
