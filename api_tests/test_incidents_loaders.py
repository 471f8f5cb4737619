"""Sites through the file loaders (CSV columns, JSON fields) and the demo network."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient

from loaders.demo import demo_network

SITES_CSV = """id,name,country,site_id,site_region,site_lat,site_lon
tokyo-pcb,Tokyo PCB,JP,hq,JP-13,35.69,139.69
osaka-cap,Osaka Capacitors,JP,,,,
"""


def upload(client: TestClient, name: str, content: str) -> Any:
    return client.post("/v1/imports", data={"kind": "companies"},
                       files={"file": (name, content.encode())})


def test_one_site_per_row_from_the_site_columns(client: TestClient) -> None:
    assert upload(client, "companies.csv", SITES_CSV).status_code == 200
    [site] = client.get("/v1/companies/tokyo-pcb").json()["sites"]
    assert site == {"id": "hq", "name": "hq", "country": "JP", "region": "JP-13",
                    "lat": 35.69, "lon": 139.69}
    assert client.get("/v1/companies/osaka-cap").json()["sites"] == []


def test_sites_as_json_and_a_bad_site_named_by_row(client: TestClient) -> None:
    good = [{"id": "a", "name": "A", "sites": [
        {"id": "s1", "name": "Plant", "country": "TW", "region": "TW-HSZ"}]}]
    assert upload(client, "companies.json", json.dumps(good)).status_code == 200
    assert client.get("/v1/companies/a").json()["sites"][0]["region"] == "TW-HSZ"
    bad = [{"id": "b", "name": "B", "sites": [{"id": "s", "name": "S", "country": "TW",
                                               "lat": 24.8}]}]
    response = upload(client, "companies.json", json.dumps(bad))
    assert response.status_code == 422 and "sites" in response.text


def test_the_demo_has_located_suppliers_around_tokyo() -> None:
    regions = [site.region for company in demo_network().companies for site in company.sites]
    assert regions.count("JP-13") >= 5
    assert all(site.lat is not None for company in demo_network().companies
               for site in company.sites)
