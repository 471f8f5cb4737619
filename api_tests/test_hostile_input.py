"""Hostile input (issue 18): what a probe of the running service found, each case with its
siblings (the same class of input elsewhere). API cases run on both stores."""

from __future__ import annotations

import io
import json
import socket
import tracemalloc
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api_tests.cmrt_workbooks import SmelterRow, Template, build
from api_tests.conftest import bearer
from api_tests.test_api_batches import T0, company, seed_chain
from benchmarks.hostile_cmrt import hostile_workbook
from graph_models.models import to_epoch_us, utc_now
from loaders.cmrt import read_cmrt
from loaders.tabular import FileError
from service.access.keys import Role
from service.cli import main as cli
from service.coverage.dashboard import GapCountsDashboard
from service.coverage.exports import follow_up, gaps_csv
from service.coverage.snapshot import CoverageSnapshot
from service.http.middleware import API_POLICY
from service.integrations.webhooks import Dispatcher, event
from service.store.port import CascadeStore, Webhook

FORWARD = {"request_id": "reach-1", "from_id": "focal-jp", "to_id": "acme-pcb", "sent_at": T0}
ANSWER = {"request_id": "reach-1", "company_id": "acme-pcb", "status": "accepted", "at": T0}


def problem(response: httpx.Response, status: int, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text[:300]
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    if field is not None:
        assert body["field"] == field, body
    return body


def integration(client: TestClient, store: CascadeStore) -> dict[str, str]:
    """The chain seeded and forwarded to acme-pcb; the header of acme-pcb's key."""
    seed_chain(client)
    assert client.post("/v1/cascades", json=FORWARD).status_code == 201
    return bearer(store, Role.integration, "acme-pcb")


# -- 1. spreadsheets are read within the template's extent -----------------------------------


def upload_cmrt(client: TestClient, data: bytes) -> httpx.Response:
    client.post("/v1/companies", json=company("focal-jp"))
    client.post("/v1/requests", json={"id": "minerals", "catalog_id": "minerals-2026",
                                      "issuer_id": "focal-jp"})
    return client.post("/v1/imports", data={"kind": "cmrt", "request_id": "minerals"},
                       files={"file": ("x.xlsx", data)})


def test_a_sheet_wider_than_the_template_is_refused_without_reading_it_all() -> None:
    tracemalloc.start()
    try:
        with pytest.raises(FileError, match="Declaration: a value at XFD10"):
            read_cmrt(hostile_workbook(6000))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 150 * 1024 * 1024  # was 1.5 GB (benchmarks/hostile_cmrt.py)


def test_hostile_workbooks_get_422_naming_the_sheet_or_part(client: TestClient) -> None:
    body = problem(upload_cmrt(client, hostile_workbook(50)), 422)
    assert "Declaration" in json.dumps(body)
    long_list = _with_cell(build(Template()), "Smelter List", "A20001", "Gold")
    assert "Smelter List" in json.dumps(problem(upload_cmrt(client, long_list), 422))
    bomb = _with_part(build(Template()), "xl/sharedStrings.xml", b"<sst>" + b" " * 9_000_000)
    assert "sharedStrings" in json.dumps(problem(upload_cmrt(client, bomb), 422))


def test_the_smelter_reference_is_read_in_its_five_columns_and_its_rows_only(
    client: TestClient
) -> None:
    looked_up = Template(smelters=[SmelterRow(None, typed_id="CID001482", looked_up=True)],
                         recalculated=False)  # its look-up formulas need the reference
    wide = _with_cells(build(looked_up), "Smelter Look-up",
                       {f"XFD{row}": "helper" for row in range(2, 6002)})
    tracemalloc.start()
    try:
        (smelter,) = read_cmrt(wide).smelters
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (smelter.smelter_id, smelter.name) == ("CID001482", "PT Timah Tbk Mentok")
    assert peak < 150 * 1024 * 1024
    long = _with_cells(build(looked_up), "Smelter Look-up", {"A10001": "Tin"})
    body = problem(upload_cmrt(client, long), 422)
    assert body["detail"].startswith("Smelter Look-up: a value at A10001, beyond the "
                                     "template's E10000")


def _with_part(data: bytes, name: str, content: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            if item.filename != name:
                target.writestr(item, source.read(item))
        target.writestr(name, content)
    return out.getvalue()


def _with_cell(data: bytes, sheet: str, ref: str, value: str) -> bytes:
    return _with_cells(data, sheet, {ref: value})


def _with_cells(data: bytes, sheet: str, values: dict[str, str]) -> bytes:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data))
    for ref, value in values.items():
        book[sheet][ref] = value
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# -- 2. no secret in an idempotency record ---------------------------------------------------


@pytest.mark.parametrize(("path", "body", "secret"), [
    ("/v1/keys", {"role": "viewer", "name": "wall"}, "key"),
    ("/v1/webhooks", {"url": "https://hooks.example.com/in", "events": ["coverage.changed"]},
     "secret"),
])
def test_a_replay_never_shows_the_secret_again(client: TestClient, path: str,
                                               body: dict[str, Any], secret: str) -> None:
    first = client.post(path, json=body, headers={"Idempotency-Key": "once"})
    again = client.post(path, json=body, headers={"Idempotency-Key": "once"})
    shown = first.json()[secret]
    assert shown and shown not in again.text
    assert again.json()[secret] is None and again.json()["secret_withheld"] is True
    assert again.json()["id"] == first.json()["id"]


# -- 3. evidence is capped -------------------------------------------------------------------


def test_evidence_over_the_cap_is_refused_everywhere(client: TestClient) -> None:
    seed_chain(client)
    huge = {"note": "x" * 100_000}  # 100 KB: a CMRT import's own bound is larger, not this
    problem(client.post("/v1/acknowledgements", json={**ANSWER, "evidence": huge}), 422,
            "evidence")
    [result] = client.post("/v1/acknowledgements/batch",
                           json={"items": [{**ANSWER, "evidence": huge}]}).json()["results"]
    assert result["status"] == "error" and result["problem"]["field"] == "evidence"
    rows = ",".join(ANSWER) + ",note\n" + ",".join(ANSWER.values()) + f",{huge['note']}\n"
    json_file = json.dumps({"acknowledgements": [{**ANSWER, "evidence": huge}]}).encode()
    for name, file, row in (("answers.json", json_file, 1), ("answers.csv", rows.encode(), 2)):
        refused = client.post("/v1/imports", data={"kind": "acknowledgements"},
                              files={"file": (name, file)})
        assert refused.status_code == 422
        assert [e["field"] for e in refused.json()["errors"]] == [
            f"acknowledgements[{row}].evidence"]
    for n in range(5):  # at the cap, a page of ten stays under a megabyte
        note = {"note": "y" * 60_000}
        client.post("/v1/acknowledgements", json={**ANSWER, "at": f"2026-03-0{n + 2}T00:00:00Z",
                                                  "evidence": note})
    page = client.get("/v1/acknowledgements", params={"limit": 10})
    assert len(page.json()) == 5 and len(page.content) < 10 * 64 * 1024 + 10_000


# -- 4. /metrics label values from closed sets -----------------------------------------------


def test_made_up_methods_and_paths_add_no_series(client: TestClient) -> None:
    def lines() -> list[str]:
        return client.get("/metrics").text.splitlines()

    client.request("BREW", "/v1/companies", headers={"Authorization": ""})  # the "other"
    client.get("/no/such/path", headers={"Authorization": ""})  # and "unmatched" series
    lines()
    before = lines()
    for n in range(40):
        client.request(f"M{n}X", "/v1/companies", headers={"Authorization": ""})
        client.get(f"/no/such/path/{n}", headers={"Authorization": ""})
    after = lines()
    assert len(after) == len(before)
    assert not any("M1X" in line or "/no/such" in line for line in after)


# -- 5. the key cache ------------------------------------------------------------------------


@pytest.mark.parametrize("token", ["csk_" + "a" * 60_000 + "_secret", "csk_0000_short",
                                   "csk_0123456789ab_" + "s" * 31, "not-a-key"])
def test_malformed_keys_are_refused_before_any_lookup(client: TestClient, token: str) -> None:
    ring = client.app.state.services.keys  # type: ignore[attr-defined]
    cached = len(ring._seen)
    problem(client.get("/v1/gap-counts", headers={"Authorization": f"Bearer {token}"}), 401)
    assert len(ring._seen) == cached


# -- 6. nothing reads a raw body before validation -------------------------------------------


@pytest.mark.parametrize(("path", "body"), [
    ("/v1/acknowledgements", {**ANSWER, "request_id": ["x"]}),
    ("/v1/acknowledgements", {**ANSWER, "company_id": {"a": 1}}),
    ("/v1/cascades", {**FORWARD, "request_id": {"a": 1}}),
    ("/v1/cascades", {**FORWARD, "to_id": ["acme-pcb"]}),
])
def test_an_integration_key_sending_odd_types_gets_422(client: TestClient, store: CascadeStore,
                                                       path: str, body: dict[str, Any]) -> None:
    problem(client.post(path, json=body, headers=integration(client, store)), 422)


def test_odd_types_in_batch_items_are_refused_per_item(client: TestClient,
                                                       store: CascadeStore) -> None:
    headers = integration(client, store)
    items = [{**ANSWER, "request_id": ["x"]}, {**ANSWER, "evidence": {"k": [[1]]}}]
    response = client.post("/v1/acknowledgements/batch", json={"items": items}, headers=headers)
    assert response.status_code == 200, response.text
    assert [r["status"] for r in response.json()["results"]] == ["error", "created"]
    forwards = {"items": [{**FORWARD, "from_id": "acme-pcb", "to_id": ["tin-id"]}]}
    response = client.post("/v1/cascades/batch", json=forwards, headers=headers)
    assert response.status_code == 200 and response.json()["results"][0]["status"] == "error"


SITE = {"id": "plant", "name": "Plant", "country": "JP"}
TWICE = {"sites": [SITE, {**SITE, "name": "Plant again"}]}
TOO_MANY = {"sites": [{**SITE, "id": f"plant-{n}"} for n in range(1001)]}


@pytest.mark.parametrize("sites", [TWICE, TOO_MANY], ids=["same-id-twice", "1001-sites"])
def test_sites_a_company_may_not_hold_are_refused_on_every_write(client: TestClient,
                                                                 sites: dict[str, Any]) -> None:
    problem(client.post("/v1/companies", json={"id": "sited", "name": "S", **sites}), 422, "sites")
    problem(client.put("/v1/companies/sited", json={"name": "S", **sites}), 422, "sites")
    assert client.post("/v1/companies", json={"id": "sited", "name": "S"}).status_code == 201
    problem(client.patch("/v1/companies/sited", json=sites), 422, "sites")
    batch = client.post("/v1/companies/batch",
                        json={"items": [{"id": "sited", "name": "S", **sites}]})
    assert batch.status_code == 200 and batch.json()["results"][0]["status"] == "error"
    assert client.get("/v1/companies/sited").json()["sites"] == []  # nothing half-written


def test_deeply_nested_json_is_a_4xx(client: TestClient) -> None:
    deep = "[" * 50_000 + "]" * 50_000
    refused = client.post("/v1/imports", data={"kind": "network"},
                          files={"file": ("net.json", deep.encode())})
    assert 400 <= refused.status_code < 500, refused.text[:200]
    body = '{"items": ' + deep + "}"
    for headers in ({}, {"Idempotency-Key": "deep"}):
        response = client.post("/v1/companies/batch", content=body,
                               headers={**headers, "Content-Type": "application/json"})
        problem(response, 422)


# -- 7. webhooks only to public addresses ----------------------------------------------------


@pytest.mark.parametrize("url", [
    "http://169.254.169.254/latest/meta-data", "http://10.0.0.1/", "http://localhost:6379/",
    "http://user:pass@127.0.0.1:1/", "http://2130706433/", "http://0177.0.0.1/",
    "http://0x7f.1/", "http://[::1]/", "http://[::ffff:127.0.0.1]/", "http://192.168.1.1/",
    "http://100.64.0.1/", "http://224.0.0.1/", "http://0.0.0.0/", "http://app.localhost/",
    "http://[fe80::1]/", "http://172.16.0.1/",
])
def test_webhooks_to_internal_addresses_are_refused(client: TestClient, url: str) -> None:
    problem(client.post("/v1/webhooks", json={"url": url, "events": ["coverage.changed"]}),
            422, "url")


def test_a_delivery_checks_the_address_the_name_resolves_to(store: CascadeStore) -> None:
    hook = Webhook(id="wh_dns", url=f"http://{socket.gethostname()}:9/in",
                   events=("acknowledgement.recorded",), secret="s", description="",
                   created_at_us=to_epoch_us(utc_now()))
    store.add_webhook(hook)  # as if its name had resolved to a public address when added
    store.enqueue_events([event("acknowledgement.recorded", "ack:1", {})])
    dispatcher = Dispatcher(store, GapCountsDashboard(CoverageSnapshot(store)), timeout_s=1)
    with httpx.Client(timeout=1) as http:
        assert dispatcher.deliver_due(http) == 1
    [delivery] = store.list_deliveries("wh_dns", limit=5)
    error = delivery.attempts[0].error or ""
    assert error.startswith("destination refused"), error


# -- 8. exports ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["\t=1+1", "\r=HYPERLINK(\"x\")", "=cmd", "@SUM(A1)",
                                  " =1", "-2+3+cmd|' /C calc'!A0", "\uff1d1+1", "\n=1"])
def test_csv_cells_that_a_spreadsheet_would_run_are_text(client: TestClient,
                                                         name: str) -> None:
    seed_chain(client)
    client.put("/v1/companies/acme-pcb", json={"name": name, "country": "VN"})
    client.post("/v1/cascades", json=FORWARD)
    client.post("/v1/acknowledgements", json=ANSWER)
    text = client.get("/v1/requests/reach-1/gaps.csv").content.decode("utf-8-sig")
    cells = [cell for line in text.split("\r\n") for cell in line.split(",")]
    assert not any(cell.lstrip('"').startswith(("=", "+", "-", "@", "\t", "\r", "\uff1d"))
                   for cell in cells), text


def test_an_export_without_contacts_for_a_reader_who_may_not_see_them(
        client: TestClient, store: CascadeStore) -> None:
    seed_chain(client)
    client.put("/v1/companies/focal-jp", json={
        "name": "Focal", "identifiers": {"contact_email": "boss@focal.example"}})
    report = follow_up(coverage=CoverageSnapshot(store), store=store, request_id="reach-1",
                       as_of=None, contacts=False)
    assert b"boss@focal.example" not in gaps_csv(report)
    shown = follow_up(coverage=CoverageSnapshot(store), store=store, request_id="reach-1",
                      as_of=None)
    assert b"boss@focal.example" in gaps_csv(shown)


def test_a_viewer_gets_no_contacts_in_exports(client: TestClient, store: CascadeStore) -> None:
    seed_chain(client)
    client.put("/v1/companies/focal-jp", json={
        "name": "Focal", "identifiers": {"contact_email": "boss@focal.example"}})
    viewer = bearer(store, Role.viewer)
    assert client.get("/v1/companies/focal-jp", headers=viewer).status_code == 403
    for export in ("gaps.csv", "gaps.xlsx"):
        response = client.get(f"/v1/requests/reach-1/{export}", headers=viewer)
        assert response.status_code == 200
        assert b"boss@focal.example" not in response.content


# -- 9. ids ----------------------------------------------------------------------------------

BAD_IDS = ["ctrl\u0007\u001b[31m", "new\nline", "trail ", " lead", "zero\u200bwidth",
           "nbsp\u00a0", "bidi\u202eevil", "\u3000ideographic"]


@pytest.mark.parametrize("bad", BAD_IDS)
def test_ids_with_control_format_or_edge_space_are_refused_everywhere(
        client: TestClient, bad: str) -> None:
    seed_chain(client)
    problem(client.post("/v1/companies", json=company(bad)), 422, "id")
    [result] = client.post("/v1/companies/batch", json={"items": [company(bad)]}).json()["results"]
    assert result["problem"]["field"] == "id"
    problem(client.post("/v1/cascades", json={**FORWARD, "request_id": bad}), 422, "request_id")
    problem(client.post("/v1/acknowledgements", json={**ANSWER, "company_id": bad}), 422,
            "company_id")
    problem(client.post("/v1/requests", json={"id": bad, "topic": "reach", "title": "t",
                                              "issuer_id": "focal-jp"}), 422)
    rows = json.dumps({"companies": [company(bad)]}).encode()
    refused = client.post("/v1/imports", data={"kind": "network"},
                          files={"file": ("network.json", rows)})
    assert refused.status_code == 422 and '.id"' in refused.text
    problem(client.get(f"/v1/companies/{quote(bad, safe='')}"), 422, "company_id")
    assert client.get("/v1/companies", params={"limit": 100}).json()["items"][-1]["id"] != bad


# -- 11. authentication first, the audit trail, headers --------------------------------------


def test_a_stranger_gets_401_before_the_body_is_read_and_is_audited(client: TestClient) -> None:
    claimed = "csk_0123456789ab_" + "s" * 32
    for headers in ({"Authorization": ""}, {"Authorization": f"Bearer {claimed}"}):
        response = client.post("/v1/companies", content=b"{not json",
                               headers={**headers, "Content-Type": "application/json"})
        problem(response, 401)
    entries = client.get("/v1/audit").json()["items"]
    refused = [(e["key_id"], e["status"]) for e in entries if e["path"] == "/v1/companies"]
    assert ("0123456789ab", 401) in refused and ("", 401) in refused


def test_security_headers_and_head(client: TestClient) -> None:
    for path in ("/healthz", "/v1/gap-counts", "/v1/no-such-route"):
        response = client.get(path)
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["content-security-policy"] == API_POLICY
    docs = client.get("/docs")  # a page: its own policy (the pages' engineer sets it)
    assert docs.headers.get("content-security-policy") != API_POLICY
    assert docs.headers["x-content-type-options"] == "nosniff"
    for path in ("/healthz", "/v1/gap-counts", "/v1/companies"):
        got, head = client.get(path), client.head(path)
        assert head.status_code == got.status_code == 200
        assert head.content == b"" and head.headers["content-length"] == str(len(got.content))
    assert client.head("/v1/gap-counts", headers={"Authorization": ""}).status_code == 401


# -- 12. cascade serve --demo ----------------------------------------------------------------


def test_demo_start_checks_the_port_first_and_keeps_one_demo_key(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    started: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *_, **kw: started.append(kw))
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    runner = CliRunner()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        busy = runner.invoke(cli.app, ["serve", "--demo", "--store", url, "--port", port])
    assert busy.exit_code == 2 and "csk_" not in busy.output and not started
    for _ in range(2):
        assert runner.invoke(cli.app, ["serve", "--demo", "--store", url, "--port", "0"]
                             ).exit_code == 0
    assert [kw["server_header"] for kw in started] == [False, False]
    from service.store.sqlite import SqliteStore

    store = SqliteStore(str(tmp_path / "demo.db"))
    active = [k for k in store.list_api_keys() if k.revoked_at_us is None]
    store.close()
    assert len(active) == 1


# -- 13. configuration errors ----------------------------------------------------------------


@pytest.mark.parametrize(("store", "says"), [
    ("postgres://x", "unsupported URL"), ("sqlite://typo2.db", "names a host"),
    ("sqlite:///{tmp}/typo.db", "does not exist"), ("neo4j://", "names no host"),
])
def test_configuration_errors_are_one_line_and_an_exit_code(tmp_path: Path, store: str,
                                                            says: str) -> None:
    url = store.format(tmp=tmp_path)
    result = CliRunner().invoke(cli.app, ["coverage", "x", "--store", url])
    assert result.exit_code == 2
    assert says in result.output and len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "typo.db").exists()


def test_an_unreachable_neo4j_is_one_line() -> None:
    result = CliRunner().invoke(cli.app, ["coverage", "x", "--store", "neo4j://127.0.0.1:9"],
                                env={"CASCADE_NEO4J_CONNECT_TIMEOUT": "1"})
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1, result.output
