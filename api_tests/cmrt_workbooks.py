"""Small CMRT / EMRT workbooks in the layout of the RMI templates, built with openpyxl.

Not RMI's files: only the parts the importer reads, where the templates have them. The
*Declaration* sheet: the title block (rows 1-6), company information labels in column B
with answers in column D (rows 8-21), the numbered per-metal questions (a question row,
then one row per metal, answer in D, comment in G), the company-level questions A-H. The
*Smelter List* sheet: headers on row 4, smelters from row 5; *Smelter Identification*
(F) and *Smelter Name* (D) are formulas there, as in the templates.

openpyxl writes formulas without a cached value; `cached` patches the saved file so chosen
formula cells carry one, as a workbook saved by Excel does.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from xml.sax.saxutils import escape

from openpyxl import Workbook

CMRT_METALS = ("Tantalum", "Tin", "Gold", "Tungsten")
EMRT_METALS = ("Cobalt", "Mica")
SMELTER_HEADERS = (
    "Smelter Identification Number Input Column", "Metal (*)", "Smelter Look-up (*)",
    "Smelter Name (1)", "Smelter Country (*)", "Smelter Identification",
    "Source of Smelter Identification Number", "Smelter Street", "Smelter City",
)
COMPANY_QUESTIONS = {
    "A": "A. Do you have a policy in place that addresses conflict minerals sourcing? (*)",
    "B": "B. Is your policy publicly available on your website? (*)",
    "C": "C. Do you require your direct suppliers to source the 3TG from smelters whose due "
         "diligence practices have been validated by an independent third party audit "
         "program? (*)",
    "D": "D. Have you implemented due diligence measures for conflict-free sourcing? (*)",
    "E": "E. Does your company conduct a Conflict Minerals survey of your relevant "
         "supplier(s)? (*)",
    "F": "F. Do you review due diligence information received from your suppliers against "
         "your company's expectations? (*)",
    "G": "G. Does your review process include corrective action management? (*)",
    "H": "H. Is your company required to file an annual conflict minerals disclosure? (*)",
}


@dataclass
class SmelterRow:
    """One Smelter List row: what was typed, and what the formulas show."""

    metal: str | None
    typed_id: str | None = None  # column A, the ID input column
    lookup: str | None = None  # column C
    name: str | None = None  # column D: typed, else a formula
    country: str | None = None  # column E
    shown_id: str | None = None  # column F formula's cached value (None: not cached)
    shown_name: str | None = None  # column D formula's cached value


@dataclass
class Template:
    company: str = "Acme PCB Co., Ltd."
    template: str = "CMRT"
    version: str = "6.5"
    version_on_revision_sheet: bool = False  # else in the Declaration title block
    unique_id: str | None = None
    effective: date | str | None = date(2026, 3, 1)
    contact: tuple[str, str, str] = ("Aiko Sato", "aiko@acme-pcb.example", "+81 3 0000 0000")
    answers: dict[tuple[int, str], str] = field(default_factory=dict)
    company_answers: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    smelters: list[SmelterRow] = field(default_factory=list)
    sheets: tuple[str, ...] = ("Declaration", "Smelter List")


def build(spec: Template) -> bytes:
    """The workbook of `spec`, as bytes of an .xlsx file."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    cached: dict[str, dict[str, Any]] = {}
    if "Declaration" in spec.sheets:
        _declaration(workbook.create_sheet("Declaration"), spec)
    if "Smelter List" in spec.sheets:
        cached["Smelter List"] = _smelter_list(workbook.create_sheet("Smelter List"), spec)
    if spec.version_on_revision_sheet:
        revisions = workbook.create_sheet("Revision")
        revisions["B2"] = f"Revision {spec.version.split('.')[0]}.0 April 2021"  # older
        revisions["B3"] = f"Revision {spec.version} April 25, 2025"
    out = io.BytesIO()
    workbook.save(out)
    return patch_cached(out.getvalue(), workbook.sheetnames, cached)


def _declaration(sheet: Any, spec: Template) -> None:
    name = "Conflict" if spec.template == "CMRT" else "Extended"
    sheet["B2"] = f"{name} Minerals Reporting Template ({spec.template})"
    if not spec.version_on_revision_sheet:
        sheet["B4"] = f"Revision {spec.version}"
    rows = {8: ("Company Name (*):", spec.company),
            9: ("Declaration Scope or Class (*):", "A. Company"),
            11: ("Company Unique ID:", spec.unique_id),
            12: ("Company Unique ID Authority:", "DUNS" if spec.unique_id else None),
            14: ("Contact Name (*):", spec.contact[0]),
            15: ("Email \u2013 Contact (*):", spec.contact[1]),
            16: ("Phone \u2013 Contact (*):", spec.contact[2]),
            17: ("Authorizer (*):", "Ken Ito"),
            21: ("Effective Date (*):", spec.effective)}
    for row, (label, value) in rows.items():
        sheet[f"B{row}"], sheet[f"D{row}"] = label, value
    metals = CMRT_METALS if spec.template == "CMRT" else EMRT_METALS
    row = 23
    for question in range(1, 9 if spec.template == "CMRT" else 8):
        sheet[f"B{row}"] = f"{question}) Question {question} about the metals (*)"
        for offset, metal in enumerate(metals, start=1):
            sheet[f"B{row + offset}"] = f"{metal} (*)"
            sheet[f"D{row + offset}"] = spec.answers.get((question, metal), "No")
            sheet[f"P{row + offset}"] = '=IF(D24="No","","(*)")'  # the templates' markers
        row += len(metals) + 1
    row += 2
    for letter, text in COMPANY_QUESTIONS.items():
        answer, comment = spec.company_answers.get(letter, ("Yes", None))
        sheet[f"B{row}"], sheet[f"D{row}"], sheet[f"G{row}"] = text, answer, comment
        row += 2


def _smelter_list(sheet: Any, spec: Template) -> dict[str, Any]:
    """Fill the Smelter List; the cached values of its formula cells, by coordinate."""
    for column, header in enumerate(SMELTER_HEADERS, start=1):
        sheet.cell(row=4, column=column, value=header)
    cached: dict[str, Any] = {}
    for row, smelter in enumerate(spec.smelters, start=5):
        sheet[f"A{row}"], sheet[f"B{row}"] = smelter.typed_id, smelter.metal
        sheet[f"C{row}"], sheet[f"E{row}"] = smelter.lookup, smelter.country
        sheet[f"D{row}"] = smelter.name or f"=IF(C{row}=\"\",\"\",VLOOKUP(C{row},L,2,0))"
        sheet[f"F{row}"] = f"=IF(A{row}<>\"\",A{row},VLOOKUP(C{row},L,5,0))"
        if smelter.shown_id is not None:
            cached[f"F{row}"] = smelter.shown_id
        if smelter.shown_name is not None and smelter.name is None:
            cached[f"D{row}"] = smelter.shown_name
    return cached


def patch_cached(data: bytes, sheetnames: list[str], cached: dict[str, dict[str, Any]]) -> bytes:
    """`data` with the given formula cells carrying cached string values."""
    if not any(cached.values()):
        return data
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            for number, sheet in enumerate(sheetnames, start=1):
                if item.filename == f"xl/worksheets/sheet{number}.xml" and sheet in cached:
                    content = _with_values(content.decode(), cached[sheet]).encode()
            target.writestr(item, content)
    return out.getvalue()


def _with_values(xml: str, values: dict[str, Any]) -> str:
    for coordinate, value in values.items():
        cell = re.compile(rf'<c r="{coordinate}"([^>]*)><f>(.*?)</f>(<v\s*/>|<v></v>)?</c>')
        found = cell.search(xml)
        assert found is not None, f"no formula cell {coordinate}"
        attributes = re.sub(r'\s*t="[^"]*"', "", found.group(1))
        xml = xml.replace(found.group(0), f'<c r="{coordinate}"{attributes} t="str">'
                                          f"<f>{found.group(2)}</f><v>{escape(str(value))}</v></c>")
    return xml
