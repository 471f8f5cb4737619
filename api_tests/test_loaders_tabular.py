"""Loading CSV and JSON files (`POST /v1/imports`, `cascade load`): the whole file is
checked first, problems are named by row, a file with a refused row loads nothing unless
invalid rows are skipped, and the valid rows then load with a summary."""

from __future__ import annotations

import gc
import json
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from graph_models.models import Company
from service.cli.main import app
from service.ingest.service import import_file
from service.store.port import StoreUnavailable
from service.store.sqlite import SqliteStore

runner = CliRunner()

COMPANIES_CSV = """id,name,country,kind,tags,identifiers,contact_email
focal-jp,Focal Electronics,JP,manufacturer,focal,duns=123456789,
acme-pcb,Acme PCB,VN,manufacturer,tier1;pcb,,sales@acme.example
tin-id,Tin Smelter,ID,smelter,,,
"""
LINKS_CSV = """buyer_id,supplier_id,category
focal-jp,acme-pcb,components
acme-pcb,tin-id,raw_materials
"""


def upload(client: TestClient, kind: str, name: str, content: str | bytes,
           **form: Any) -> Any:
    data = content.encode() if isinstance(content, str) else content
    return client.post("/v1/imports", data={"kind": kind, **form},
                       files={"file": (name, data)})


def ids(client: TestClient, resource: str = "companies") -> list[Any]:
    body = client.get(f"/v1/{resource}", params={"limit": 1000}).json()
    items = body["items"] if isinstance(body, dict) else body
    if resource == "links":
        return [(i["buyer_id"], i["supplier_id"], i["category"]) for i in items]
    return [i["id"] for i in items]


def revision(client: TestClient) -> int:
    return int(client.get("/v1/gap-counts").json()["revision"])


def test_companies_and_links_csv_load_with_a_summary(client: TestClient) -> None:
    response = upload(client, "companies", "suppliers.csv", COMPANIES_CSV)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["loaded"] and body["rows"] == 3 and body["skipped"] == []
    assert body["sections"]["companies"] == {"created": 3, "updated": 0, "unchanged": 0,
                                             "skipped": 0}
    acme = client.get("/v1/companies/acme-pcb").json()
    assert acme["tags"] == ["tier1", "pcb"]
    assert acme["identifiers"] == {"contact_email": "sales@acme.example"}
    assert client.get("/v1/companies/focal-jp").json()["identifiers"] == {"duns": "123456789"}

    body = upload(client, "links", "links.csv", LINKS_CSV).json()
    assert body["sections"]["links"]["created"] == 2
    assert ids(client, "links") == [("acme-pcb", "tin-id", "raw_materials"),
                                    ("focal-jp", "acme-pcb", "components")]
    again = upload(client, "links", "links.csv", LINKS_CSV).json()
    assert again["sections"]["links"] == {"created": 0, "updated": 0, "unchanged": 2,
                                          "skipped": 0}


def test_a_file_with_bad_rows_loads_nothing_and_names_each_row(client: TestClient) -> None:
    upload(client, "companies", "suppliers.csv", COMPANIES_CSV)
    before = revision(client)
    bad = """buyer_id,supplier_id,category
focal-jp,acme-pcb,components
acme-pcb,acme-pcb,components
acme-pcb,ghost-co,components
focal-jp,acme-pcb,logistics
acme-pcb,tin-id,raw_materials
"""
    response = upload(client, "links", "links.csv", bad)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["detail"] == "3 rows refused; nothing was loaded"
    assert [(e["row"], e["field"], e["message"]) for e in problem["errors"]] == [
        (3, "links[3].supplier_id", "a company cannot supply itself"),
        (4, "links[4].supplier_id", "unknown company 'ghost-co'"),
        (5, "links[5]", "duplicate of row 2"),
    ]
    assert ids(client, "links") == []
    assert revision(client) == before


def test_skip_invalid_loads_the_valid_rows_and_reports_the_skipped(client: TestClient) -> None:
    bad = COMPANIES_CSV + "bad-co,Bad Co,japan,manufacturer,,,\n,No Id,JP,,,,\n,No Id 2,,,,,\n"
    body = upload(client, "companies", "suppliers.csv", bad, skip_invalid="true").json()
    assert body["loaded"]
    assert body["sections"]["companies"] == {"created": 3, "updated": 0, "unchanged": 0,
                                             "skipped": 3}
    assert [(s["row"], s["field"]) for s in body["skipped"]] == [
        (5, "country"), (6, "id"), (7, "id")]
    assert ids(client) == ["acme-pcb", "focal-jp", "tin-id"]


def test_bad_dates_types_and_unknown_references_in_events(client: TestClient) -> None:
    upload(client, "companies", "suppliers.csv", COMPANIES_CSV)
    upload(client, "links", "links.csv", LINKS_CSV)
    client.post("/v1/requests", json={"id": "reach-1", "topic": "reach", "title": "REACH",
                                      "issuer_id": "focal-jp", "issued_at": "2026-03-01T00:00:00Z"})
    cascades = """request_id,from_id,to_id,sent_at
reach-1,focal-jp,acme-pcb,2026-03-02T09:00:00Z
reach-1,acme-pcb,tin-id,2026-03-05
reach-1,focal-jp,tin-id,yesterday
reach-2,acme-pcb,tin-id,2026-03-05T00:00:00Z
reach-1,tin-id,acme-pcb,2026-03-05T00:00:00Z
"""
    errors = upload(client, "cascades", "cascades.csv", cascades).json()["errors"]
    assert [(e["row"], e["field"]) for e in errors] == [
        (3, "cascades[3].sent_at"), (4, "cascades[4].sent_at"),
        (5, "cascades[5].request_id"), (6, "cascades[6].to_id")]
    assert "timezone" in errors[0]["message"]
    assert client.get("/v1/cascades").json() == []

    answers = [{"request_id": "reach-1", "company_id": "acme-pcb", "status": "accepted",
                "at": "2026-03-04T00:00:00Z", "document": "sds-acme.pdf"},
               {"request_id": "reach-1", "company_id": "acme-pcb", "status": "maybe"}]
    errors = upload(client, "acknowledgements", "answers.json", json.dumps(answers)).json()
    assert [(e["row"], e["field"]) for e in errors["errors"]] == [
        (2, "acknowledgements[2].status")]
    loaded = upload(client, "acknowledgements", "answers.json", json.dumps(answers[:1])).json()
    assert loaded["sections"]["acknowledgements"]["created"] == 1
    (stored,) = client.get("/v1/acknowledgements").json()
    assert stored["evidence"] == {"document": "sds-acme.pdf"}


def test_a_network_document_may_refer_to_its_own_earlier_sections(client: TestClient) -> None:
    network = {
        "companies": [{"id": "focal-jp", "name": "Focal"}, {"id": "acme-pcb", "name": "Acme"}],
        "links": [{"buyer_id": "focal-jp", "supplier_id": "acme-pcb"}],
        "requests": [{"id": "bcp-1", "topic": "business_continuity", "title": "BCP",
                      "issuer_id": "focal-jp", "issued_at": "2026-03-01T00:00:00Z"}],
        "cascades": [{"request_id": "bcp-1", "from_id": "focal-jp", "to_id": "acme-pcb",
                      "sent_at": "2026-03-02T00:00:00Z"}],
        "acknowledgements": [{"request_id": "bcp-1", "company_id": "acme-pcb",
                              "status": "accepted", "at": "2026-03-03T00:00:00Z"}],
    }
    body = upload(client, "network", "net.json", json.dumps(network)).json()
    assert body["loaded"], body
    assert {s: c["created"] for s, c in body["sections"].items()} == {
        "companies": 2, "links": 1, "requests": 1, "cascades": 1, "acknowledgements": 1}
    coverage = client.get("/v1/requests/bcp-1/coverage").json()
    assert coverage["coverage_ratio"] == 1.0


def test_unreadable_files_are_refused_whole(client: TestClient) -> None:
    response = upload(client, "links", "links.csv", "buyer,supplier\nfocal-jp,acme-pcb\n")
    assert response.status_code == 422
    assert response.json()["detail"].startswith("unknown column 'buyer' for links")
    assert response.json()["field"] == "file"
    response = upload(client, "links", "links.txt", LINKS_CSV)
    assert "use a .csv or .json file" in response.json()["detail"]
    response = upload(client, "network", "net.json", "{not json")
    assert response.json()["detail"].startswith("not valid JSON")
    response = upload(client, "companies", "c.csv", "id,name\nx,y,z\n")
    assert response.json()["errors"][0]["message"] == "more cells than the header has columns"


# -- the command line -----------------------------------------------------------------------


def load(*args: str) -> tuple[int, str]:
    store = args[args.index("--store") + 1]
    created = runner.invoke(app, ["init-schema", "--store", store])  # load needs a store
    assert created.exit_code == 0, created.output
    result = runner.invoke(app, ["load", *args], env={"COLUMNS": "200"})
    return result.exit_code, result.output


def test_cli_load_reports_rows_and_loads_nothing_on_error(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    (tmp_path / "companies.csv").write_text(COMPANIES_CSV + "x,X,JP,robot,,,\n")
    code, output = load("companies", str(tmp_path / "companies.csv"), "--store", url)
    assert code == 1
    assert re.search(r"companies row 5: Input should be 'manufacturer', .* \(kind\)", output)
    assert "nothing was loaded" in output
    store = SqliteStore(str(tmp_path / "x.db"))
    assert store.list_companies() == []
    store.close()

    code, output = load("companies", str(tmp_path / "companies.csv"), "--store", url,
                        "--skip-invalid")
    assert code == 0, output
    assert re.search(r"companies\W+3\W+0\W+0\W+1\W", output)
    assert gc.isenabled()  # paused for the load only: this process collects cycles again


def test_cli_loads_what_generate_writes(tmp_path: Path) -> None:
    out = tmp_path / "net.json"
    generated = runner.invoke(app, ["generate", "--companies", "300", "--seed", "3",
                                    "--requests", "2", "--out", str(out)])
    assert generated.exit_code == 0, generated.output
    document = json.loads(out.read_text())
    url = f"sqlite:///{tmp_path / 'x.db'}"
    code, output = load("network", str(out), "--store", url)
    assert code == 0, output
    assert "loaded whole into an empty store" in output  # as `generate` writes it
    store = SqliteStore(str(tmp_path / "x.db"))
    try:
        assert len(store.list_companies(limit=10_000)) == len(document["companies"])
        assert len(store.list_links(limit=10_000)) == len(document["links"])
        assert len(store.list_acknowledgements(limit=10_000)) == len(
            document["acknowledgements"])
    finally:
        store.close()


class FailingMidway:
    """A real store whose `add_links` fails on its n-th call, as a full disk or a lost
    connection would half-way through a load."""

    def __init__(self, store: SqliteStore, fail_on_call: int) -> None:
        self.store, self.fail_on_call, self.calls = store, fail_on_call, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def add_links(self, links: list[Any]) -> Any:
        self.calls += 1
        if self.calls == self.fail_on_call:
            raise StoreUnavailable("disk full")
        return self.store.add_links(links)


def test_a_load_failing_half_way_leaves_the_store_as_it_was(tmp_path: Path) -> None:
    store = SqliteStore(str(tmp_path / "cascade.db"))
    store.init_schema()
    store.upsert_companies([Company(id="focal-jp", name="Focal")])
    before = store.load_network()
    size = 50_001  # 50,001 companies and 50,000 links: over 100,000 rows, the former limit
    document = {"companies": [{"id": f"c{n:06d}", "name": f"C {n}"} for n in range(size)],
                "links": [{"buyer_id": f"c{n:06d}", "supplier_id": f"c{n + 1:06d}"}
                          for n in range(size - 1)]}
    failing = FailingMidway(store, fail_on_call=25)  # links are written 1,000 at a time
    with pytest.raises(StoreUnavailable):
        import_file(store=failing, kind="network", filename="net.json",  # type: ignore[arg-type]
                    data=json.dumps(document).encode())
    assert failing.calls == 25
    assert store.load_network() == before  # no company, no link, the same revision
    store.close()
