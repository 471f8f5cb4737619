"""`cascade export cmrt|emrt`: the focal company's rolled-up declaration in a blank template
the user supplies; the filled file keeps the template's formulas and validation, is set to
English, and imports back unchanged in meaning; another template is refused."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api_tests.cmrt_workbooks import Template, build
from api_tests.conftest import signed_in, warmed
from api_tests.test_minerals_rollup import seed, supplier_files
from loaders.cmrt import read_cmrt
from service.app import create_app
from service.cli.main import app
from service.config.settings import Settings
from service.store.sqlite import SqliteStore

runner = CliRunner()


def rolled_up_store(tmp_path: Path) -> tuple[str, dict[str, object]]:
    db = tmp_path / "x.db"
    store = SqliteStore(str(db))
    store.init_schema()
    with TestClient(create_app(Settings(), store=store)) as client:
        client = signed_in(warmed(client))
        seed(client)
        supplier_files(client)
        declaration = client.get("/v1/requests/minerals/minerals/declaration").json()
    return f"sqlite:///{db}", declaration


def export(url: str, kind: str, blank: bytes, tmp_path: Path) -> tuple[int, str, Path]:
    source, out = tmp_path / f"blank-{kind}.xlsx", tmp_path / f"focal-{kind}.xlsx"
    source.write_bytes(blank)
    result = runner.invoke(app, ["export", kind, "--request", "minerals", "--company", "focal",
                                 "--template", str(source), "--out", str(out), "--store", url],
                           env={"COLUMNS": "200"})
    return result.exit_code, result.output, out


def test_the_exported_cmrt_imports_back_unchanged_in_meaning(tmp_path: Path) -> None:
    url, declaration = rolled_up_store(tmp_path)
    blank = build(Template(blank=True, labels="formulas", language="日本語"))
    code, output, out = export(url, "cmrt", blank, tmp_path)
    assert code == 0, output
    filled = openpyxl.load_workbook(io.BytesIO(out.read_bytes()))
    sheet = filled["Declaration"]
    assert sheet["D5"].value == "English" and sheet["B4"].value == "Revision 6.5"
    assert str(sheet["B8"].value).startswith("=VLOOKUP")  # labels stay formulas
    assert sheet.data_validations.dataValidation  # validation kept
    smelters = filled["Smelter List"]
    assert str(smelters["F5"].value).startswith("=IF(")  # identified: the look-up stays

    again = read_cmrt(out.read_bytes())
    assert (again.template, again.version, again.company["name"]) == ("CMRT", "6.5", "Focal")
    cmrt = declaration["templates"][0]
    by_number = {(q["number"], m): a for q in cmrt["questions"] for m, a in q["answers"].items()}
    assert {(a.question, a.metal): a.answer for a in again.answers} == by_number
    assert sorted(((s.metal, s.smelter_id, s.name) for s in again.smelters), key=str) == sorted([
        ("Tantalum", "CID000211", "Global Advanced Metals Boyertown"),
        ("Tin", "CID001482", "PT Timah Tbk Mentok"), ("Tin", None, "Backyard Tin Works"),
        ("Gold", None, None)], key=str)


def test_the_emrt_holds_the_minerals_with_data(tmp_path: Path) -> None:
    url, declaration = rolled_up_store(tmp_path)
    code, output, out = export(url, "emrt", build(Template(template="EMRT", version="2.1",
                                                           blank=True)), tmp_path)
    assert code == 0, output
    again = read_cmrt(out.read_bytes())
    answered = {a.metal for a in again.answers if a.answer}
    assert (again.template, answered) == ("EMRT", {"Cobalt"})


def test_another_template_or_revision_is_refused_naming_it(tmp_path: Path) -> None:
    url, _ = rolled_up_store(tmp_path)
    code, output, _ = export(url, "cmrt", build(Template(template="EMRT", version="2.1",
                                                         blank=True)), tmp_path)
    assert code == 1 and "the blank file is EMRT revision 2.1, not a CMRT" in output
    code, output, _ = export(url, "cmrt", build(Template(version="5.12", blank=True)), tmp_path)
    assert code == 1 and "unsupported template revision CMRT 5.12" in output
