"""The Willems (2008) real supply chains (`cascade load willems`): chain NN becomes focal
company willems-NN buying from its demand stages, every stage a company, every arc a link
from the downstream stage to the upstream one; coverage then runs on the real shapes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from loaders.importer import import_rows
from loaders.tabular import FileError
from loaders.willems import read_willems, willems_rows
from service.cli.main import app
from service.store.sqlite import SqliteStore

# a copy of ../shared/data/willems2008 (see its PROVENANCE.md): CI may not mount shared/
DATA = Path(__file__).resolve().parent / "data" / "willems2008"
runner = CliRunner()


def test_chain_01_becomes_a_focal_company_and_its_stages(client: TestClient) -> None:
    report = import_rows(client.app.state.services.store, "willems",  # type: ignore[attr-defined]
                         willems_rows(read_willems(DATA, "1")))
    assert report.loaded and report.problems == []
    assert report.sections["companies"]["created"] == 1 + 8
    assert report.sections["links"]["created"] == 10 + 3  # arcs + demand stages

    focal = client.get("/v1/links", params={"buyer_id": "willems-01"}).json()["items"]
    assert [(lk["supplier_id"], lk["category"]) for lk in focal] == [
        (f"willems-01:Retail_000{i}", "logistics") for i in (1, 2, 3)]
    manuf = client.get("/v1/links", params={"buyer_id": "willems-01:Manuf_0001"}).json()
    assert [lk["supplier_id"] for lk in manuf["items"]] == [
        f"willems-01:Part_000{i}" for i in (1, 2, 3)]
    part = client.get("/v1/companies/willems-01:Part_0001").json()
    assert (part["kind"], part["identifiers"], part["tags"]) == (
        "manufacturer", {"willems_chain": "01", "willems_stage": "Part_0001"},
        ["willems2008", "stage:Part"])
    assert client.get("/v1/companies/willems-01:Retail_0002").json()["kind"] == "distributor"

    client.post("/v1/requests", json={"id": "bcp-w1", "catalog_id": "bcp",
                                      "issuer_id": "willems-01"})
    coverage = client.get("/v1/requests/bcp-w1/coverage").json()
    assert [(t["tier"], t["companies"]) for t in coverage["tiers"]] == [
        (0, 1), (1, 3), (2, 2), (3, 3)]
    assert coverage["gaps"] == 3 and coverage["paths"]["total"] == 3 + 6 + 3  # per retailer


def test_unknown_chains_and_directories_are_refused(tmp_path: Path) -> None:
    with pytest.raises(FileError, match="no chain 99 in .* \\(chains 01 to 38\\)"):
        read_willems(DATA, "99")
    with pytest.raises(FileError, match="holds no Willems chain"):
        read_willems(tmp_path)
    with pytest.raises(FileError, match="is not a number"):
        read_willems(DATA, "x")


def test_the_xml_files_give_the_same_chain_as_the_csv_files(tmp_path: Path) -> None:
    (tmp_path / "xml").mkdir()
    (tmp_path / "xml" / "03.xml").write_bytes((DATA / "xml" / "03.xml").read_bytes())
    from_xml = {(r.section, json.dumps(r.fields, sort_keys=True))
                for r in willems_rows(read_willems(tmp_path))}
    from_csv = {(r.section, json.dumps(r.fields, sort_keys=True))
                for r in willems_rows(read_willems(DATA, "03"))}
    assert from_xml == from_csv


def test_cli_loads_all_38_chains(tmp_path: Path) -> None:
    stats = json.loads((DATA / "STATS.json").read_text())
    url = f"sqlite:///{tmp_path / 'w.db'}"
    assert runner.invoke(app, ["init-schema", "--store", url]).exit_code == 0
    result = runner.invoke(app, ["load", "willems", str(DATA), "--store", url],
                           env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    companies = sum(s["nodes"] for s in stats) + len(stats)
    links = sum(s["edges"] + s["demand_stages"] for s in stats)
    assert re.search(rf"companies\W+{companies:,}\W+0\W+0\W+0\W", result.output)
    assert re.search(rf"links\W+{links:,}\W+0\W+0\W+0\W", result.output)
    store = SqliteStore(str(tmp_path / "w.db"))
    try:
        network = store.load_network()
        assert (len(network.kinds), len(network.links)) == (companies, links)
    finally:
        store.close()
