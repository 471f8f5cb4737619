"""Smelter List rows the template fills by look-up (metal, name, country, identification
from the typed smelter id, or from the metal and look-up name): a file saved without the
computed values (openpyxl, LibreOffice without recalculation) imports as the same file
saved by Excel, resolved from the workbook's own *Smelter Look-up* sheet; an id the
reference does not list is refused as before, naming it."""

from __future__ import annotations

import io
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from api_tests.cmrt_workbooks import SmelterRow, Template, build
from api_tests.test_loaders_cmrt import seed, upload
from loaders.cmrt import read_cmrt

TIMAH_BY_ID = SmelterRow(None, typed_id="CID001482", looked_up=True)
TIMAH_BY_ALIAS = SmelterRow("Tin", lookup="Timah Mentok", looked_up=True)
WOLFRAM_BY_ID = SmelterRow(None, typed_id="CID002044", looked_up=True)
GAM_NOT_LISTED = SmelterRow("Tantalum", lookup="Smelter not listed",
                            name="Global Advanced Metals Boyertown",
                            country="UNITED STATES OF AMERICA")
NOT_YET = SmelterRow("Gold", lookup="Smelter not yet identified")
UNLISTED_ID = SmelterRow(None, typed_id="CID999999", looked_up=True)
CMRT = Template(smelters=[TIMAH_BY_ID, TIMAH_BY_ALIAS, WOLFRAM_BY_ID, GAM_NOT_LISTED, NOT_YET])
COBALT_BY_ID = SmelterRow(None, typed_id="CID002988", looked_up=True)
COBALT_BY_NAME = SmelterRow("Cobalt", lookup="Cobalt Refinery X", looked_up=True)
EMRT = Template(template="EMRT", version="2.1", smelters=[COBALT_BY_ID, COBALT_BY_NAME])


def saved_without_values(spec: Template) -> bytes:
    data = build(replace(spec, recalculated=False))
    smelter_list = load_workbook(io.BytesIO(data), data_only=True)["Smelter List"]
    assert smelter_list["D5"].value is None  # no computed value: what the reader must resolve
    return data


@pytest.mark.parametrize(("spec", "resolved", "expected"), [
    (CMRT, 3, [(5, "Tin", "PT Timah Tbk Mentok", "CID001482", "INDONESIA"),
            (6, "Tin", "PT Timah Tbk Mentok", "CID001482", "INDONESIA"),
            (7, "Tungsten", "Wolfram Bergbau und Hutten AG", "CID002044", "AUSTRIA"),
            (8, "Tantalum", "Global Advanced Metals Boyertown", None,
             "UNITED STATES OF AMERICA"),
            (9, "Gold", None, None, None)]),
    (EMRT, 2, [(5, "Cobalt", "Cobalt Refinery X", "CID002988", "CHINA"),
            (6, "Cobalt", "Cobalt Refinery X", "CID002988", "CHINA")]),
], ids=["CMRT 6.5", "EMRT 2.1"])
def test_a_file_without_computed_look_ups_reads_as_the_one_excel_saved(
    spec: Template, resolved: int, expected: list[tuple[object, ...]]
) -> None:
    excel = read_cmrt(build(spec))
    bare = read_cmrt(saved_without_values(spec))
    assert [(s.row, s.metal, s.name, s.smelter_id, s.country) for s in bare.smelters] == expected
    assert bare.smelters == excel.smelters
    assert bare.problems == excel.problems == []
    assert bare.notes == [f"{resolved} smelter rows were filled from the template's "
                          "'Smelter Look-up' sheet (the file carries no computed look-up "
                          "values)"]
    assert excel.notes == []


def test_an_id_the_reference_does_not_list_is_an_invalid_row_as_before() -> None:
    spec = replace(CMRT, smelters=[TIMAH_BY_ID, UNLISTED_ID])
    excel, bare = read_cmrt(build(spec)), read_cmrt(saved_without_values(spec))
    assert [(p.row, p.field) for p in bare.problems] == [(6, "metal")]
    assert [(p.row, p.field) for p in excel.problems] == [(6, "metal")]
    assert bare.problems[0].message == ("no metal (CID999999 is not in the template's "
                                        "'Smelter Look-up' sheet)")
    assert [s.smelter_id for s in bare.smelters] == ["CID001482"]

    without_reference = read_cmrt(saved_without_values(replace(spec, lookup=None)))
    assert [p.message for p in without_reference.problems] == [
        "no metal (the workbook has no 'Smelter Look-up' sheet to look CID001482 up in)",
        "no metal (the workbook has no 'Smelter Look-up' sheet to look CID999999 up in)"]


def test_a_typed_value_stands_over_the_reference() -> None:
    typed = SmelterRow("Tin", typed_id="CID001482", lookup="Smelter not listed",
                       name="Timah's own spelling", country="INDONESIA")
    (smelter,) = read_cmrt(saved_without_values(replace(CMRT, smelters=[
        TIMAH_BY_ID, typed]))).smelters[1:]
    assert (smelter.name, smelter.smelter_id) == ("Timah's own spelling", "CID001482")


def test_both_files_import_the_same_smelters(client: TestClient) -> None:
    seed(client)
    bare = client.post("/v1/imports", data={"kind": "cmrt", "request_id": "minerals",
                                            "company_id": "acme-pcb"},
                       files={"file": ("acme-2026-03-01.xlsx", saved_without_values(CMRT))})
    assert bare.status_code == 200, bare.text
    links = client.get("/v1/links", params={"buyer_id": "acme-pcb"}).json()["items"]
    assert [lk["supplier_id"] for lk in links] == [
        "CID001482", "CID002044", "smelter-global-advanced-metals-boyertown-us"]
    wolfram = client.get("/v1/companies/CID002044").json()
    assert (wolfram["name"], wolfram["country"], wolfram["tags"]) == (
        "Wolfram Bergbau und Hutten AG", "AT", ["tungsten"])
    revision = client.get("/v1/gap-counts").json()["revision"]

    excel = upload(client, CMRT, company_id="acme-pcb").json()
    assert excel["sections"]["acknowledgements"]["unchanged"] == 1
    assert excel["sections"]["links"]["unchanged"] == 3
    assert client.get("/v1/gap-counts").json()["revision"] == revision


def test_an_unlisted_id_is_refused_unless_skipped(client: TestClient) -> None:
    seed(client)
    data = saved_without_values(replace(CMRT, smelters=[TIMAH_BY_ID, UNLISTED_ID]))
    form = {"kind": "cmrt", "request_id": "minerals", "company_id": "acme-pcb"}
    refused = client.post("/v1/imports", data=form, files={"file": ("acme.xlsx", data)})
    assert refused.status_code == 422
    (error,) = refused.json()["errors"]
    assert (error["field"], error["row"]) == ("Smelter List[6].metal", 6)
    assert "CID999999 is not in the template's 'Smelter Look-up' sheet" in error["message"]
    skipped = client.post("/v1/imports", data={**form, "skip_invalid": "true"},
                          files={"file": ("acme.xlsx", data)})
    assert skipped.json()["sections"]["Smelter List"]["skipped"] == 1
    assert client.get("/v1/companies/CID001482").status_code == 200
