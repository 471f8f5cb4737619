"""Small CMRT / EMRT workbooks in the layout of the RMI templates, built with openpyxl.

Not RMI's files: only the parts the importer reads, at the positions of
`loaders.cmrt_layout`. The *Declaration* sheet: the title block (rows 1-6, the revision
text in B4, the language in D5), company information with answers in column D (the
layout's rows), the numbered per-metal questions (a question row, then one row per metal, answer in
D, comment in G), the company-level questions (EMRT question C: one row per mineral). The
labels are plain text, or formulas without a cached value (`labels="formulas"`, as a file
saved by a tool that does not compute them), or another language's text
(`labels="日本語"`). The *Smelter List* sheet: headers on row 4, smelters from row 5;
*Smelter Identification* (F) and *Smelter Name* (D) are formulas there, as in the
templates; a `looked_up` row is filled as the template's look-up formulas fill it, from
the typed id (metal, name, country and identification: B, D, E, F) or from the metal and
look-up name (D, E, F). The hidden *Smelter Look-up* sheet is the template's smelter
reference (`lookup`): headers on row 1, then metal, look-up name, standard smelter name,
country, smelter id, and source and address columns nobody reads. `blank=True` builds an
empty template (the user's blank file for an export), with the answer cells' data
validation and the look-up formulas of the first smelter rows.

openpyxl writes formulas without a cached value; `cached` patches the saved file so chosen
formula cells carry one, as a workbook saved by Excel does: a `looked_up` row's cells
carry the values the reference gives them unless `recalculated=False` (a file saved by a
tool that computes no formulas).
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
from openpyxl.worksheet.datavalidation import DataValidation

from loaders.cmrt_layout import LANGUAGE_CELL, Layout, layout_of

SMELTER_HEADERS = (
    "Smelter Identification Number Input Column", "Metal (*)", "Smelter Look-up (*)",
    "Smelter Name (1)", "Smelter Country (*)", "Smelter Identification",
    "Source of Smelter Identification Number", "Smelter Street", "Smelter City",
)
LOOKUP_HEADERS = (
    "METAL", "Smelter Look-up (*)", "Standard Smelter Names",
    "Smelter Facility Location: Country", "Smelter ID",
    "Source of Smelter Identification Number", "Smelter Street", "Smelter City",
    "Smelter Facility Location: State / Province",
)
# The template's smelter reference: one row per look-up name (aliases share an id)
LOOKUP_LIST: tuple[tuple[str | None, ...], ...] = (
    ("Tantalum", "Global Advanced Metals Boyertown", "Global Advanced Metals Boyertown",
     "UNITED STATES OF AMERICA", "CID000211", "RMI", None, "Boyertown", "Pennsylvania"),
    ("Tin", "PT Timah Tbk Mentok", "PT Timah Tbk Mentok", "INDONESIA", "CID001482", "RMI",
     None, "Mentok", "Bangka Belitung"),
    ("Tin", "Timah Mentok", "PT Timah Tbk Mentok", "INDONESIA", "CID001482", "RMI", None,
     "Mentok", "Bangka Belitung"),
    ("Tungsten", "Wolfram Bergbau und Hutten AG", "Wolfram Bergbau und Hutten AG",
     "AUSTRIA", "CID002044", "RMI", None, "St. Martin i.-S.", "Steiermark"),
    ("Cobalt", "Cobalt Refinery X", "Cobalt Refinery X", "CHINA", "CID002988", "RMI", None,
     "Ganzhou", "Jiangxi"),
    ("Tin", "Smelter not listed", None, None, None, None, None, None, None),
    ("Tin", "Smelter not yet identified", "Unknown", None, None, None, None, None, None),
)
LOOKED_UP_COLUMNS = {"B": 0, "D": 2, "E": 3, "F": 4}  # Smelter List cell -> reference column


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
    looked_up: bool = False  # B (by id), D, E, F are the template's look-up formulas


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
    mineral_answers: dict[tuple[str, str], str] = field(default_factory=dict)  # EMRT C
    smelters: list[SmelterRow] = field(default_factory=list)
    sheets: tuple[str, ...] = ("Declaration", "Smelter List")
    labels: str = "English"  # or "formulas" (no cached value), or another language
    language: str = "English"
    blank: bool = False
    lookup: tuple[tuple[str | None, ...], ...] | None = LOOKUP_LIST  # None: no such sheet
    recalculated: bool = True  # looked-up cells carry cached values


def build(spec: Template) -> bytes:
    """The workbook of `spec`, as bytes of an .xlsx file."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    cached: dict[str, dict[str, Any]] = {}
    if "Declaration" in spec.sheets:
        _declaration(workbook.create_sheet("Declaration"), spec)
    if "Smelter List" in spec.sheets:
        cached["Smelter List"] = _smelter_list(workbook.create_sheet("Smelter List"), spec)
    if spec.lookup is not None:
        _lookup_sheet(workbook.create_sheet("Smelter Look-up"), spec.lookup)
    if spec.version_on_revision_sheet:
        revisions = workbook.create_sheet("Revision")
        revisions["B2"] = f"Revision {spec.version.split('.')[0]}.0 April 2021"  # older
        revisions["B3"] = f"Revision {spec.version} April 25, 2025"
    out = io.BytesIO()
    workbook.save(out)
    return patch_cached(out.getvalue(), workbook.sheetnames, cached)


def _label(sheet: Any, coordinate: str, text: str, spec: Template) -> None:
    """A label cell: text, a formula over the translations, or another language's text."""
    if spec.labels == "formulas":
        sheet[coordinate] = f'=VLOOKUP("{text[:20]}",Translations,2,0)'
    elif spec.labels != "English":
        sheet[coordinate] = f"[{spec.labels}] {text}"
    else:
        sheet[coordinate] = text


def _layout(spec: Template) -> Layout:
    found = layout_of(spec.template, spec.version)
    if found is None:  # an unsupported revision: lay it out as the nearest one
        found = layout_of(spec.template, "6.0" if spec.template == "CMRT" else "2.0")
    assert found is not None
    return found


def _declaration(sheet: Any, spec: Template) -> None:
    name = "Conflict" if spec.template == "CMRT" else "Extended"
    _label(sheet, "B2", f"{name} Minerals Reporting Template ({spec.template})", spec)
    if not spec.version_on_revision_sheet:
        sheet["B4"] = f"Revision {spec.version}"
    _label(sheet, "B5", "Select Your Language Preference Here:", spec)
    sheet[LANGUAGE_CELL] = spec.language
    values = {"name": spec.company, "scope": "A. Company", "unique_id": spec.unique_id,
              "unique_id_authority": "DUNS" if spec.unique_id else None,
              "contact_name": spec.contact[0], "contact_email": spec.contact[1],
              "contact_phone": spec.contact[2], "authorizer": "Ken Ito",
              "effective_date": spec.effective}
    layout = _layout(spec)
    for key, row in layout.company_rows.items():
        _label(sheet, f"B{row}", key.replace("_", " ").title() + " (*):", spec)
        if not spec.blank:
            sheet[f"D{row}"] = values.get(key)
    answers = DataValidation(type="list", formula1='"Yes,No,Unknown"', allow_blank=True)
    sheet.add_data_validation(answers)
    for question in layout.questions:
        row = layout.question_row(question.number)
        _label(sheet, f"B{row}", f"{question.number}) {question.wording} (*)", spec)
        for offset, metal in enumerate(layout.metals, start=1):
            _label(sheet, f"B{row + offset}", f"{metal} (*)", spec)
            answers.add(f"D{row + offset}")
            if not spec.blank:
                sheet[f"D{row + offset}"] = spec.answers.get((question.number, metal), "No")
            sheet[f"P{row + offset}"] = f'=IF(D{row + offset}="No","","(*)")'
    for letter, row in layout.company_question_rows().items():
        _label(sheet, f"B{row}", dict(layout.company_questions)[letter] + " (*)", spec)
        answer, comment = spec.company_answers.get(letter, ("Yes", None))
        if letter in layout.per_mineral_letters:
            for offset, metal in enumerate(layout.metals, start=1):
                _label(sheet, f"B{row + offset}", f"{metal} (*)", spec)
                if not spec.blank:
                    sheet[f"D{row + offset}"] = spec.mineral_answers.get((letter, metal), answer)
        elif not spec.blank:
            sheet[f"D{row}"], sheet[f"G{row}"] = answer, comment


def _smelter_list(sheet: Any, spec: Template) -> dict[str, Any]:
    """Fill the Smelter List; the cached values of its formula cells, by coordinate."""
    for column, header in enumerate(SMELTER_HEADERS, start=1):
        _label(sheet, f"{chr(64 + column)}4", header, spec)
    cached: dict[str, Any] = {}
    if spec.blank:  # the template's look-up formulas, waiting for input
        for row in range(5, 15):
            sheet[f"D{row}"] = f"=IF(C{row}=\"\",\"\",VLOOKUP(C{row},L,2,0))"
            sheet[f"F{row}"] = f"=IF(A{row}<>\"\",A{row},VLOOKUP(C{row},L,5,0))"
        return cached
    for row, smelter in enumerate(spec.smelters, start=5):
        if smelter.looked_up:
            cached |= _looked_up(sheet, row, smelter, spec)
            continue
        sheet[f"A{row}"], sheet[f"B{row}"] = smelter.typed_id, smelter.metal
        sheet[f"C{row}"], sheet[f"E{row}"] = smelter.lookup, smelter.country
        sheet[f"D{row}"] = smelter.name or f"=IF(C{row}=\"\",\"\",VLOOKUP(C{row},L,2,0))"
        sheet[f"F{row}"] = f"=IF(A{row}<>\"\",A{row},VLOOKUP(C{row},L,5,0))"
        if smelter.shown_id is not None:
            cached[f"F{row}"] = smelter.shown_id
        if smelter.shown_name is not None and smelter.name is None:
            cached[f"D{row}"] = smelter.shown_name
    return cached


def _lookup_sheet(sheet: Any, rows: tuple[tuple[str | None, ...], ...]) -> None:
    sheet.sheet_state = "hidden"
    sheet.append(LOOKUP_HEADERS)
    for row in rows:
        sheet.append(row)


def _looked_up(sheet: Any, row: int, smelter: SmelterRow, spec: Template) -> dict[str, Any]:
    """A row filled by look-up formulas, from the typed id (A) or else from the metal and
    look-up name (B, C); the values they show, by coordinate, when recalculated."""
    sheet[f"A{row}"], sheet[f"C{row}"] = smelter.typed_id, smelter.lookup
    if smelter.typed_id:
        key, match = f"A{row}", "LookupID"
    else:
        sheet[f"B{row}"] = smelter.metal
        key, match = f"B{row}&C{row}", "LookupMetalName"
    shown = _reference_row(spec.lookup or (), smelter)
    cached: dict[str, Any] = {}
    for column, index in LOOKED_UP_COLUMNS.items():
        if column == "B" and not smelter.typed_id:
            continue
        sheet[f"{column}{row}"] = (f'=IFERROR(INDEX(SmelterReference,MATCH({key},{match},0),'
                                   f'{index + 1}),"")')
        if spec.recalculated:
            cached[f"{column}{row}"] = (shown[index] or "") if shown else ""
    return cached


def _reference_row(rows: tuple[tuple[str | None, ...], ...],
                   smelter: SmelterRow) -> tuple[str | None, ...] | None:
    """The first reference row of the typed id, else of the metal and look-up name."""
    for row in rows:
        if (row[4] == smelter.typed_id if smelter.typed_id
                else (row[0], row[1]) == (smelter.metal, smelter.lookup)):
            return row
    return None


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


# The templates' country list as they spell it: ISO names in upper case, except these
TEMPLATE_SPELLINGS = {
    "CD": "CONGO, DEMOCRATIC REPUBLIC OF THE", "BO": "BOLIVIA", "TR": "TURKEY",
    "VE": "VENEZUELA", "IR": "IRAN (ISLAMIC REPUBLIC OF)", "CV": "CAPE VERDE",
    "SZ": "SWAZILAND", "MK": "MACEDONIA", "CZ": "CZECH REPUBLIC", "CI": "COTE D'IVOIRE",
    "FM": "MICRONESIA (FEDERATED STATES OF)", "KR": "KOREA, REPUBLIC OF", "TW": "TAIWAN",
    "NL": "NETHERLANDS", "VA": "HOLY SEE (VATICAN CITY STATE)", "PS": "PALESTINE, STATE OF",
    "RU": "RUSSIA", "LA": "LAOS", "SY": "SYRIA", "TZ": "TANZANIA", "VN": "VIETNAM",
    "GB": "UNITED KINGDOM", "US": "UNITED STATES OF AMERICA", "KP": "KOREA, DEMOCRATIC "
    "PEOPLE'S REPUBLIC OF", "MD": "MOLDOVA, REPUBLIC OF", "RE": "RÉUNION",
}


def template_countries() -> dict[str, str]:
    """ISO code -> the template's name for it (249 names)."""
    import pycountry

    return {c.alpha_2: TEMPLATE_SPELLINGS.get(c.alpha_2, c.name.upper())
            for c in pycountry.countries}
