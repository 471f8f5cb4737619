"""CMRT 6.x / EMRT workbooks (`POST /v1/imports` kind `cmrt`, `cascade load cmrt`): the
declaration becomes the reporting company's answer to a conflict-minerals request, its
smelters become raw-material suppliers; values Excel cached are read, typed inputs stand in
where a formula has none; unsupported or malformed workbooks are refused clearly."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api_tests.cmrt_workbooks import SmelterRow, Template, build
from service.cli.main import app
from service.store.sqlite import SqliteStore

runner = CliRunner()

TIMAH = SmelterRow("Tin", lookup="PT Timah Tbk Mentok", country="INDONESIA",
                   shown_id="CID001482", shown_name="PT Timah Tbk Mentok")  # cached values
GAM = SmelterRow("Tantalum", typed_id="CID000211", lookup="Smelter not listed",
                 name="Global Advanced Metals Boyertown",
                 country="United States of America")  # F has no cached value: typed A
SMALL_W = SmelterRow("Tungsten", lookup="Smelter not listed", name="Small W Works",
                     country="Viet Nam")  # no RMI id at all
NOT_YET = SmelterRow("Gold", lookup="Smelter not yet identified")


def seed(client: TestClient) -> None:
    """The focal company, two suppliers with the same name aside, a minerals request."""
    companies = [{"id": "focal-jp", "name": "Focal Electronics", "country": "JP"},
                 {"id": "acme-pcb", "name": "Acme PCB Co., Ltd.", "country": "VN"},
                 {"id": "beta-1", "name": "Beta Metals"}, {"id": "beta-2", "name": "Beta Metals"}]
    client.post("/v1/companies/batch", json={"items": companies})
    client.post("/v1/links", json={"buyer_id": "focal-jp", "supplier_id": "acme-pcb"})
    client.post("/v1/requests", json={"id": "minerals", "catalog_id": "minerals-2026",
                                      "issuer_id": "focal-jp",
                                      "issued_at": "2026-02-01T00:00:00Z"})
    client.post("/v1/requests", json={"id": "bcp", "catalog_id": "bcp", "issuer_id": "focal-jp"})


def upload(client: TestClient, spec: Template, **form: Any) -> Any:
    return client.post("/v1/imports", data={"kind": "cmrt", "request_id": "minerals", **form},
                       files={"file": ("acme-2026-03-01.xlsx", build(spec))})


def test_declaration_and_smelters_are_recorded(client: TestClient) -> None:
    seed(client)
    spec = Template(smelters=[TIMAH, GAM, NOT_YET, SMALL_W],
                    answers={(1, "Tin"): "Yes", (2, "Tin"): "Yes", (6, "Tin"): "Greater than 90%"},
                    company_answers={"B": ("Yes", "https://acme.example/minerals")})
    response = upload(client, spec, company_id="acme-pcb")
    assert response.status_code == 200, response.text
    body = response.json()
    assert {s: c["created"] for s, c in body["sections"].items()} == {
        "companies": 3, "links": 3, "acknowledgements": 1}
    assert ("Smelter List row 7: smelter not yet identified, listed in the evidence only"
            in body["notes"])

    links = client.get("/v1/links", params={"buyer_id": "acme-pcb"}).json()["items"]
    assert [(lk["supplier_id"], lk["category"]) for lk in links] == [
        ("CID000211", "raw_materials"), ("CID001482", "raw_materials"),
        ("smelter-small-w-works-vn", "raw_materials")]
    timah = client.get("/v1/companies/CID001482").json()
    assert (timah["name"], timah["kind"], timah["country"], timah["tags"]) == (
        "PT Timah Tbk Mentok", "smelter", "ID", ["tin"])
    assert client.get("/v1/companies/CID000211").json()["country"] == "US"

    (answer,) = client.get("/v1/acknowledgements", params={"company_id": "acme-pcb"}).json()
    assert (answer["request_id"], answer["status"], answer["at"]) == (
        "minerals", "accepted", "2026-03-01T00:00:00Z")
    evidence = answer["evidence"]
    assert (evidence["document"], evidence["template"], evidence["template_version"]) == (
        "acme-2026-03-01.xlsx", "CMRT", "6.5")
    assert evidence["company"]["contact_email"] == "aiko@acme-pcb.example"
    assert {"question": 6, "metal": "Tin", "answer": "Greater than 90%"} in evidence["answers"]
    assert len(evidence["answers"]) == 8 * 4
    assert evidence["company_answers"][1] == {
        "question": "B", "text": "B. Is your responsible minerals sourcing policy publicly "
        "available on your website? (Note – If yes, the user shall specify the URL in the "
        "comment field.)", "answer": "Yes", "comment": "https://acme.example/minerals"}
    assert evidence["smelters"] == 3


def test_loading_the_same_workbook_again_changes_nothing(client: TestClient) -> None:
    seed(client)
    spec = Template(smelters=[TIMAH, GAM])
    upload(client, spec, company_id="acme-pcb")
    revision = client.get("/v1/gap-counts").json()["revision"]
    body = upload(client, spec, company_id="acme-pcb").json()
    assert body["sections"]["acknowledgements"]["unchanged"] == 1
    assert body["sections"]["links"]["unchanged"] == 2
    assert "2 smelters already stored were kept as they are" in body["notes"]
    assert client.get("/v1/gap-counts").json()["revision"] == revision


def test_the_company_is_matched_by_unique_id_then_by_name(client: TestClient) -> None:
    seed(client)
    by_name = upload(client, Template(company="  ACME pcb co., ltd. "))
    assert by_name.status_code == 200, by_name.text
    assert "recorded for company 'acme-pcb'" in by_name.json()["notes"][0]
    by_id = upload(client, Template(company="Renamed Since", unique_id="acme-pcb"))
    assert by_id.status_code == 200

    unknown = upload(client, Template(company="Nobody Ltd"))
    assert unknown.status_code == 422
    assert unknown.json()["field"] == "company_id"
    assert unknown.json()["detail"].startswith("no company is named 'Nobody Ltd'")
    twice = upload(client, Template(company="Beta Metals"))
    assert twice.json()["detail"] == "2 companies are named 'Beta Metals': give the company id"
    assert upload(client, Template(), company_id="ghost").json()["field"] == "company_id"


def test_the_request_must_exist_and_be_about_minerals(client: TestClient) -> None:
    seed(client)
    wrong = upload(client, Template(), request_id="bcp")
    assert wrong.status_code == 422
    assert wrong.json()["detail"] == "request 'bcp' is about 'business_continuity', not " \
                                     "conflict_minerals"
    assert upload(client, Template(), request_id="nope").json()["field"] == "request_id"


def test_emrt_and_a_revision_sheet_are_read(client: TestClient) -> None:
    seed(client)
    cobalt = SmelterRow("Cobalt", typed_id="CID002988", lookup="Smelter not listed",
                        name="Cobalt Refinery X", country="China")
    spec = Template(template="EMRT", version="2.1", version_on_revision_sheet=True,
                    smelters=[cobalt], answers={(1, "Cobalt"): "Yes"}, effective="15-Mar-2026")
    body = upload(client, spec, company_id="acme-pcb").json()
    assert body["loaded"], body
    (answer,) = client.get("/v1/acknowledgements", params={"company_id": "acme-pcb"}).json()
    evidence = answer["evidence"]
    assert (evidence["template"], evidence["template_version"]) == ("EMRT", "2.1")
    assert evidence["effective_date"] == "2026-03-15"
    assert {"question": 1, "metal": "Cobalt", "answer": "Yes"} in evidence["answers"]
    assert client.get("/v1/companies/CID002988").json()["country"] == "CN"


@pytest.mark.parametrize(("spec", "detail"), [
    (Template(version="5.12"), "unsupported template revision CMRT 5.12 (supported: CMRT 6.x, "
                               "EMRT 1.x and 2.x)"),
    (Template(template="EMRT", version="3.0"), "unsupported template revision EMRT 3.0"),
    (Template(sheets=("Declaration",)), "no 'Smelter List' sheet: not a CMRT or EMRT workbook"),
    (Template(company=""), "Declaration: no company name"),
])
def test_unsupported_and_malformed_workbooks_are_refused(
    client: TestClient, spec: Template, detail: str
) -> None:
    seed(client)
    response = upload(client, spec, company_id="acme-pcb")
    assert response.status_code == 422
    assert response.json()["detail"].startswith(detail)
    assert client.get("/v1/acknowledgements").json() == []


def test_a_file_that_is_no_workbook_is_refused(client: TestClient) -> None:
    seed(client)
    response = client.post("/v1/imports", data={"kind": "cmrt", "request_id": "minerals"},
                           files={"file": ("cmrt.xlsx", b"not a zip")})
    assert response.status_code == 422
    assert response.json()["detail"].startswith("not an .xlsx workbook")


def test_bad_smelter_rows_load_nothing_unless_skipped(client: TestClient) -> None:
    seed(client)
    spec = Template(smelters=[TIMAH, SmelterRow(None, typed_id="CID000211"),
                              SmelterRow("Tin", lookup="Smelter not listed")],
                    effective="sometime in March")
    response = upload(client, spec, company_id="acme-pcb")
    assert response.status_code == 422
    assert [(e["section"], e["row"], e["field"]) for e in response.json()["errors"]] == [
        ("Declaration", 22, "Declaration[22].effective_date"),  # the CMRT's D22
        ("Smelter List", 6, "Smelter List[6].metal"),
        ("Smelter List", 7, "Smelter List[7].smelter_name"),
    ]
    assert client.get("/v1/companies/CID001482").status_code == 404

    body = upload(client, spec, company_id="acme-pcb", skip_invalid="true").json()
    assert body["loaded"]
    assert body["sections"]["Smelter List"]["skipped"] == 2
    assert client.get("/v1/companies/CID001482").status_code == 200


def test_cli_load_cmrt(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    store = SqliteStore(str(db))
    store.init_schema()
    store.close()
    url = f"sqlite:///{db}"
    companies = tmp_path / "companies.csv"
    companies.write_text("id,name\nfocal-jp,Focal\nacme-pcb,Acme PCB Co.\n")
    assert runner.invoke(app, ["load", "companies", str(companies), "--store", url]).exit_code == 0
    request = runner.invoke(app, ["load", "network", str(_request_file(tmp_path)), "--store", url])
    assert request.exit_code == 0, request.output
    workbook = tmp_path / "acme.xlsx"
    workbook.write_bytes(build(Template(company="Acme PCB Co.", smelters=[TIMAH],
                                        effective=date(2026, 3, 2))))
    result = runner.invoke(app, ["load", "cmrt", str(workbook), "--request", "minerals",
                                 "--store", url], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "CMRT 6.5 of 'Acme PCB Co.', recorded for company 'acme-pcb'" in result.output
    result = runner.invoke(app, ["load", "cmrt", str(workbook), "--request", "nope",
                                 "--store", url], env={"COLUMNS": "200"})
    assert result.exit_code == 1
    assert "acme.xlsx: unknown request 'nope'" in result.output


def _request_file(tmp_path: Path) -> Path:
    path = tmp_path / "request.json"
    path.write_text('{"requests": [{"id": "minerals", "topic": "conflict_minerals", '
                    '"title": "Minerals", "issuer_id": "focal-jp", '
                    '"issued_at": "2026-02-01T00:00:00Z"}]}')
    return path
