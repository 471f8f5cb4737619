"""The bounded one-pass spreadsheet reader (`loaders.xlsx_cells`) behind the CMRT / EMRT
import: it reads each sheet once, reads what openpyxl reads, and refuses what would
cost more than the template's size. Figures: benchmarks/dense_cmrt.py."""

from __future__ import annotations

import io
import zipfile
from dataclasses import replace
from datetime import datetime
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont

from api_tests.cmrt_workbooks import SmelterRow, Template, build
from benchmarks.dense_cmrt import dense_workbook, with_shared_strings
from loaders.cmrt import read_cmrt
from loaders.tabular import FileError
from loaders.xlsx_cells import Book, SheetBounds, read_sheets

EVERYTHING = SheetBounds(rows=1000, columns=64, max_cells=100_000, wanted=lambda r, c: True)


def as_openpyxl_reads(data: bytes, sheet: str) -> dict[tuple[int, int], Any]:
    """The oracle: every value openpyxl reads of a sheet (cached values, as saved)."""
    book = load_workbook(io.BytesIO(data), data_only=True)
    return {(cell.row, cell.column): cell.value for row in book[sheet].iter_rows()
            for cell in row if cell.value is not None}


def as_read(data: bytes, sheet: str, bounds: SheetBounds = EVERYTHING
            ) -> dict[tuple[int, int], Any]:
    grid = read_sheets(data, {sheet: bounds})[sheet]
    return {(r, c): value for r, cells in enumerate(grid, start=1)
            for c, value in enumerate(cells, start=1) if value is not None}


@pytest.mark.parametrize("strings", ["shared", "inline"])
def test_a_dense_workbook_reads_as_openpyxl_reads_it(strings: str) -> None:
    data, rows = dense_workbook(0.04, 6)
    data = with_shared_strings(data) if strings == "shared" else data
    for sheet in ("Declaration", "Smelter List", "Revision"):
        assert as_read(data, sheet) == as_openpyxl_reads(data, sheet), sheet
    declaration = read_cmrt(data)
    assert (declaration.template, declaration.version) == ("CMRT", "6.5")
    assert len(declaration.smelters) == rows  # each row's id and name: cached look-ups
    assert all(s.smelter_id and s.name for s in declaration.smelters)


def test_text_numbers_dates_and_errors_read_as_excel_shows_them() -> None:
    book = Workbook()
    sheet = book.active
    sheet.title = "Sheet"
    sheet.append(["plain", 3, 2.5, True, datetime(2026, 3, 1, 9, 30), "=1/0", "=A1"])
    sheet["A2"] = CellRichText(["bold ", TextBlock(InlineFont(b=True), "and plain")])
    out = io.BytesIO()
    book.save(out)
    data = _patched(with_shared_strings(out.getvalue()), {
        "xl/worksheets/sheet1.xml": [('<c r="F1"><f>1/0</f><v />',
                                      '<c r="F1" t="e"><f>1/0</f><v>#DIV/0!</v>')],
        "xl/sharedStrings.xml": [("<si><t>plain</t></si>", '<si><t>pla</t><r><t>in</t></r>'
                                  '<rPh sb="0" eb="1"><t>PHONETIC</t></rPh></si>')]})
    read = as_read(data, "Sheet")
    assert read == as_openpyxl_reads(data, "Sheet")
    assert read == {(1, 1): "plain", (1, 2): 3, (1, 3): 2.5, (1, 4): True,
                    (1, 5): datetime(2026, 3, 1, 9, 30), (1, 6): "#DIV/0!",
                    (2, 1): "bold and plain"}  # G1: a formula never computed is nothing


def _patched(data: bytes, edits: dict[str, list[tuple[str, str]]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            body = source.read(item).decode()
            for old, new in edits.get(item.filename, []):
                body = body.replace(old, new)
            target.writestr(item, body)
    return out.getvalue()


def test_a_formula_never_computed_is_told_from_an_empty_cell() -> None:
    book = Workbook()
    sheet = book.active
    sheet.title = "Sheet"
    sheet.append(["typed", "=A1", None, "=A1", "=A1"])
    sheet["C1"].number_format = "0.00"  # a format alone: an empty cell
    sheet["B3"] = "=A1"  # beyond the rows read: neither kept nor refused
    out = io.BytesIO()
    book.save(out)
    data = _patched(out.getvalue(), {"xl/worksheets/sheet1.xml": [
        ('<c r="E1"><f>A1</f><v />', '<c r="E1" t="str"><f>A1</f><v>typed</v>')]})
    bounds = SheetBounds(rows=2, columns=5, max_cells=100, wanted=lambda r, c: c != 4)
    with Book(data) as workbook:
        cells = workbook.sheet("Sheet", bounds)
        assert workbook.sheet("Missing", bounds) is None
    assert cells is not None
    assert cells.values == [["typed", None, None, None, "typed"]]  # E1: computed by Excel
    assert cells.uncached == {(1, 2)}  # B1; D1 is not wanted


def _opened_sheets(monkeypatch: pytest.MonkeyPatch, data: bytes) -> list[str]:
    """The worksheet parts `read_cmrt` opens, in order, as many times as it opens them."""
    opened: list[str] = []
    real_open = zipfile.ZipFile.open

    def counting_open(self: zipfile.ZipFile, name: Any, *args: Any, **kwargs: Any) -> Any:
        opened.append(name if isinstance(name, str) else name.filename)
        return real_open(self, name, *args, **kwargs)

    with monkeypatch.context() as patched:
        patched.setattr(zipfile.ZipFile, "open", counting_open)
        read_cmrt(data)
    return [name for name in opened if name.startswith("xl/worksheets/")]


def test_each_sheet_is_read_once_and_other_sheets_never(monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    data, _ = dense_workbook(0.02, 4)
    data = _with_sheet(data, "Checker")  # a sheet the reader has no use for
    assert sorted(_opened_sheets(monkeypatch, data)) == [
        "xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml",
        "xl/worksheets/sheet3.xml"]  # was each four times, and sheet4 too


def test_the_smelter_reference_is_read_only_for_a_file_without_computed_look_ups(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    excel = Template(smelters=[SmelterRow(None, typed_id="CID001482", looked_up=True)])
    bare = replace(excel, recalculated=False)
    excel_sheets, bare_sheets = (_opened_sheets(monkeypatch, build(spec))
                                 for spec in (excel, bare))
    assert "xl/worksheets/sheet3.xml" not in excel_sheets  # the Smelter Look-up sheet
    assert sorted(bare_sheets) == sorted([*excel_sheets, "xl/worksheets/sheet3.xml"])
    assert len(set(bare_sheets)) == len(bare_sheets)  # each once
    assert [s.name for s in read_cmrt(build(bare)).smelters] == ["PT Timah Tbk Mentok"]


def _with_sheet(data: bytes, name: str) -> bytes:
    book = load_workbook(io.BytesIO(data))
    book.create_sheet(name)["A1"] = "=Declaration!D8"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_sheet_of_countless_elements_is_refused_naming_it() -> None:
    book = Workbook()
    book.active.title = "Sheet"
    book.active["A1"] = "x"
    out = io.BytesIO()
    book.save(out)
    noise = "<sheetPr>" + "<tabColor/>" * 1_001 + "</sheetPr>"
    data = _patched(out.getvalue(), {"xl/worksheets/sheet1.xml": [("<sheetData>",
                                                                   noise + "<sheetData>")]})
    small = SheetBounds(rows=10, columns=10, max_cells=100, wanted=lambda r, c: True)
    with pytest.raises(FileError, match="Sheet: far more XML elements") as refused:
        read_sheets(data, {"Sheet": small})
    assert refused.value.field == "Sheet"
    assert as_read(data, "Sheet") == {(1, 1): "x"}  # within a larger sheet's bounds
