"""Sites through the file loaders (CSV columns, JSON fields) and the demo network; the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from graph_models.incidents import Incident
from graph_models.models import Company, SupplyLink, utc_now
from loaders.demo import demo_network
from service.cli.main import app

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


def test_the_cli_prints_the_tier_and_tier1_tables(tmp_path: Path) -> None:
    from service.store.sqlite import SqliteStore

    path = tmp_path / "cli.db"
    store = SqliteStore(str(path))
    store.init_schema()
    store.upsert_companies([Company(id=c, name=c, country="JP") for c in ("focal", "a", "b")])
    store.add_links([SupplyLink(buyer_id="focal", supplier_id="a"),
                     SupplyLink(buyer_id="a", supplier_id="b")])
    store.create_incident(Incident.model_validate({
        "id": "quake", "title": "Quake", "kind": "earthquake", "occurred_at": utc_now(),
        "created_at": utc_now(), "area": {"company_ids": ["b"]}}))
    store.close()
    result = CliRunner().invoke(app, ["incident", "exposure", "quake", "--root", "focal",
                                      "--store", f"sqlite:///{path}"])
    assert result.exit_code == 0, result.output
    assert "│    2 │       1 │" in result.output  # tier 2: one exposed
    assert "│ a        │                1 │            2 │" in result.output
    missing = CliRunner().invoke(app, ["incident", "exposure", "nope", "--root", "focal",
                                       "--store", f"sqlite:///{path}"])
    assert missing.exit_code == 1 and "no incident" in missing.output
