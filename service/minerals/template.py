"""Fill a blank RMI template (the user's own file: the project ships none) with a company's
rolled-up declaration: company information, the answers of the minerals in scope, the
consolidated smelter list. openpyxl keeps the template's formulas and data validation; only
an unidentified smelter's look-up cells are replaced, as the template itself asks (a name
typed over the looked-up one). The language is set to English and the revision kept."""

from __future__ import annotations

import io
from datetime import date

import openpyxl

from loaders.cmrt import NOT_IDENTIFIED, NOT_LISTED, template_of
from loaders.cmrt_layout import (
    ANSWER_COLUMN,
    LANGUAGE_CELL,
    SMELTER_HEADER_ROW,
    layout_of,
)
from loaders.tabular import FileError
from service.minerals.rollup import SmelterLine, TemplateDeclaration

__all__ = ["fill_template"]

D = "ABCDEFGHIJ"[ANSWER_COLUMN]


def _refuse_other(data: bytes, template: str) -> str:
    found, version = template_of(data)
    if found != template:
        raise FileError(f"the blank file is {found} revision {version}, not a {template}",
                        field="template")
    return version


def fill_template(blank: bytes, *, rolled: TemplateDeclaration, company: dict[str, str],
                  smelters: list[SmelterLine], effective: date) -> bytes:
    """The blank template filled; `FileError` naming the revision found when the file is
    another template or a revision this service does not read."""
    version = _refuse_other(blank, rolled.template)
    layout = layout_of(rolled.template, version)
    assert layout is not None  # template_of refuses unsupported revisions
    book = openpyxl.load_workbook(io.BytesIO(blank))
    sheet = book["Declaration"]
    sheet[LANGUAGE_CELL] = "English"
    for key, row in layout.company_rows.items():
        if key in company:
            sheet[f"{D}{row}"] = company[key]
    sheet[f"{D}{layout.company_rows['effective_date']}"] = effective
    for question in layout.questions:
        answers = rolled.answers.get(question.key, {})
        for row, metal in enumerate(layout.metals, start=layout.question_row(question.number) + 1):
            if answers.get(metal) is not None:
                sheet[f"{D}{row}"] = answers[metal]
    _smelter_list(book["Smelter List"], smelters)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _smelter_list(sheet: openpyxl.worksheet.worksheet.Worksheet,
                  smelters: list[SmelterLine]) -> None:
    for row, smelter in enumerate(smelters, start=SMELTER_HEADER_ROW + 1):
        sheet[f"B{row}"] = smelter.metal
        sheet[f"E{row}"] = smelter.country
        if smelter.smelter_id:
            sheet[f"A{row}"] = smelter.smelter_id
            sheet[f"C{row}"] = smelter.name  # the look-up's choice; D and F stay formulas
        elif smelter.name:
            sheet[f"C{row}"], sheet[f"D{row}"] = NOT_LISTED.title(), smelter.name
        else:
            sheet[f"C{row}"], sheet[f"D{row}"] = NOT_IDENTIFIED.capitalize(), None
