"""Follow-up lists (`GET /v1/requests/{id}/gaps.csv|.xlsx`, `cascade export gaps`) and
the acknowledged-suppliers share in a company's standing, on a small hand-drawn network.

    focal-jp --components--> acme-pcb   (forwarded 01-06, accepted 01-10)
             --components--> beta-mfg   (forwarded 01-06, never answers: overdue)
             --components--> gamma-co   (forwarded 01-06, declined 01-20)
    acme-pcb --raw_materials--> tin-id  (never forwarded: the one gap, impact 1)
             --components--> wafer-tw   (forwarded 01-11, accepted 01-15)
             --logistics--> truck-co    (the minerals request does not apply)
    beta-mfg --raw_materials--> cobalt  (beta is not acknowledged: not a gap)

Request `minerals` (components and raw materials) issued 2026-01-05, 30 days to answer;
everything is asked as of 2026-03-01.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from typer.testing import CliRunner

from service.cli.main import app
from service.store.sqlite import SqliteStore

AS_OF = {"as_of": "2026-03-01T00:00:00Z"}
CONTACT = {"contact_name": "Aiko Sato", "contact_email": "aiko@acme.example",
           "contact_phone": "+84 28 0000"}
runner = CliRunner()


def seed(client: TestClient) -> None:
    companies = [
        {"id": "focal-jp", "name": "Focal Electronics", "country": "JP"},
        {"id": "acme-pcb", "name": "Acme PCB", "country": "VN", "identifiers": CONTACT},
        {"id": "beta-mfg", "name": "Beta Mfg", "country": "TH",
         "identifiers": {"contact_email": "info@beta.example"}},
        {"id": "gamma-co", "name": "Gamma", "country": "KR"},
        {"id": "tin-id", "name": "=Tin Smelter", "country": "ID", "kind": "smelter"},
        {"id": "wafer-tw", "name": "Wafer Works", "country": "TW"},
        {"id": "truck-co", "name": "Truck Co", "kind": "service"},
        {"id": "cobalt", "name": "Cobalt Mine", "kind": "smelter"},
    ]
    links = [("focal-jp", "acme-pcb", "components"), ("focal-jp", "beta-mfg", "components"),
             ("focal-jp", "gamma-co", "components"), ("acme-pcb", "tin-id", "raw_materials"),
             ("acme-pcb", "wafer-tw", "components"), ("acme-pcb", "truck-co", "logistics"),
             ("beta-mfg", "cobalt", "raw_materials")]
    cascades = [("focal-jp", "acme-pcb", "01-06"), ("focal-jp", "beta-mfg", "01-06"),
                ("focal-jp", "gamma-co", "01-06"), ("acme-pcb", "wafer-tw", "01-11")]
    answers = [("acme-pcb", "accepted", "01-10"), ("gamma-co", "declined", "01-20"),
               ("wafer-tw", "accepted", "01-15")]
    client.post("/v1/companies/batch", json={"items": companies})
    client.post("/v1/links/batch", json={"items": [
        {"buyer_id": b, "supplier_id": s, "category": c} for b, s, c in links]})
    client.post("/v1/requests", json={
        "id": "minerals", "topic": "conflict_minerals", "title": "Minerals",
        "issuer_id": "focal-jp", "issued_at": "2026-01-05T00:00:00Z", "due_days": 30,
        "applies_to": {"categories": ["components", "raw_materials"]}})
    client.post("/v1/cascades/batch", json={"items": [
        {"request_id": "minerals", "from_id": f, "to_id": t, "sent_at": f"2026-{d}T00:00:00Z"}
        for f, t, d in cascades]})
    client.post("/v1/acknowledgements/batch", json={"items": [
        {"request_id": "minerals", "company_id": c, "status": s, "at": f"2026-{d}T00:00:00Z"}
        for c, s, d in answers]})


GAP_HEADER = ["request_id", "responsible_id", "responsible_name", "responsible_country",
              "contact_name", "contact_email", "contact_phone", "missing_supplier_id",
              "missing_supplier_name", "missing_supplier_country", "tier", "impact"]
GAP_ROW = ["minerals", "acme-pcb", "Acme PCB", "VN", "Aiko Sato", "aiko@acme.example",
           "+84 28 0000", "tin-id", "=Tin Smelter", "ID", 2, 1]
LATE_HEADER = ["request_id", "company_id", "name", "country", "state", "tier",
               "first_reached_at", "due_at", "answered_at", "contact_name", "contact_email",
               "contact_phone"]
LATE_ROWS = [
    ["minerals", "beta-mfg", "Beta Mfg", "TH", "overdue", 1, datetime(2026, 1, 6),
     datetime(2026, 2, 5), None, None, "info@beta.example", None],
    ["minerals", "gamma-co", "Gamma", "KR", "declined", 1, datetime(2026, 1, 6),
     datetime(2026, 2, 5), datetime(2026, 1, 20), None, None, None],
]


def test_gaps_csv_has_one_row_per_gap_with_the_contact(client: TestClient) -> None:
    seed(client)
    response = client.get("/v1/requests/minerals/gaps.csv", params=AS_OF)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert 'filename="minerals-gaps.csv"' in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    expected = [str(v) for v in GAP_ROW]
    expected[8] = "'=Tin Smelter"  # a spreadsheet must not run a supplier's text
    assert rows == [GAP_HEADER, expected]


def test_gaps_xlsx_puts_overdue_and_declined_companies_on_their_own_sheet(
    client: TestClient,
) -> None:
    seed(client)
    response = client.get("/v1/requests/minerals/gaps.xlsx", params=AS_OF)
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["Gaps", "Overdue and declined"]
    gaps = [list(r) for r in workbook["Gaps"].iter_rows(values_only=True)]
    assert gaps == [GAP_HEADER, GAP_ROW]
    assert workbook["Gaps"]["I2"].data_type == "s"  # text, not a formula
    late = [list(r) for r in workbook["Overdue and declined"].iter_rows(values_only=True)]
    assert late == [LATE_HEADER, *LATE_ROWS]


def test_exports_of_an_unknown_request_are_404(client: TestClient) -> None:
    assert client.get("/v1/requests/nope/gaps.csv").status_code == 404
    assert client.get("/v1/requests/nope/gaps.xlsx").status_code == 404


def test_the_gaps_page_still_answers_json(client: TestClient) -> None:
    seed(client)
    page = client.get("/v1/requests/minerals/gaps", params=AS_OF).json()
    assert page["items"] == [{"from_id": "acme-pcb", "to_id": "tin-id", "tier": 2, "impact": 1}]


def test_standing_shows_the_share_of_applicable_suppliers_that_acknowledged(
    client: TestClient,
) -> None:
    seed(client)

    def standing(company: str) -> tuple[int, int, float | None]:
        body = client.get(f"/v1/requests/minerals/companies/{company}", params=AS_OF).json()
        return (body["applicable_suppliers"], body["acknowledged_suppliers"],
                body["acknowledged_supplier_share"])

    assert standing("acme-pcb") == (2, 1, 0.5)  # tin-id no, wafer-tw yes; truck-co n/a
    assert standing("focal-jp") == (3, 1, 1 / 3)
    assert standing("beta-mfg") == (1, 0, 0.0)
    assert standing("wafer-tw") == (0, 0, None)
    before = client.get("/v1/requests/minerals/companies/acme-pcb",
                        params={"as_of": "2026-01-12T00:00:00Z"}).json()
    assert before["acknowledged_supplier_share"] == 0.0  # wafer-tw answered on 01-15


def test_cli_export_gaps(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    store = SqliteStore(str(db))
    store.init_schema()
    store.close()
    url = f"sqlite:///{db}"
    from fastapi.testclient import TestClient as Client

    from api_tests.conftest import signed_in
    from service.app import create_app
    from service.config.settings import Settings

    with Client(create_app(Settings(store=url, revision_watch_ms=0))) as http:
        seed(signed_in(http))
    out = tmp_path / "follow-up.xlsx"
    result = runner.invoke(app, ["export", "gaps", "minerals", "--format", "xlsx", "--out",
                                 str(out), "--as-of", "2026-03-01T00:00:00Z", "--store", url])
    assert result.exit_code == 0, result.output
    assert "1 gaps, 2 overdue or declined companies written to" in result.output
    assert load_workbook(out).sheetnames == ["Gaps", "Overdue and declined"]
    result = runner.invoke(app, ["export", "gaps", "minerals", "--format", "pdf",
                                 "--store", url])
    assert result.exit_code == 1 and "--format must be csv or xlsx" in result.output


def test_openapi_lists_the_file_routes(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert set(paths["/v1/requests/{request_id}/gaps.csv"]) == {"get"}
    assert set(paths["/v1/requests/{request_id}/gaps.xlsx"]) == {"get"}
    upload = paths["/v1/imports"]["post"]["requestBody"]["content"]
    assert list(upload) == ["multipart/form-data"]
