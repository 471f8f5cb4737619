"""Read RMI CMRT (6.x) and EMRT (1.x, 2.x) workbooks: the declaration and the smelters.

The templates are Excel workbooks full of formulas. A workbook is read once, for the
values Excel cached when it was saved (`loaders.cmrt_sheets`); where a formula has no
cached value (a file written by a tool that does not compute formulas) the Smelter List's
look-up cells are resolved from the template's own smelter reference sheet, and the typed
inputs stand in for the rest (`loaders.cmrt_smelters`).

The template is told by its revision text ("Revision 6.5" in the title block of the
*Declaration* sheet, else the highest revision on the *Revision* sheet; CMRT revisions are
6.x, EMRT 1.x and 2.x, the title confirming it where it has a value) and everything else
is read at the cell positions of that revision (`loaders.cmrt_layout`): the labels are
formulas over the template's translations, so their text is never relied on, and a file
saved without cached values or in another of the template's languages reads the same.
Every answer is kept, per metal, the EMRT's per-mineral company question C included.

Bounded whatever the file holds (`loaders.xlsx_cells`): before anything is decompressed
every archive part's uncompressed size is checked; each sheet is streamed at most once
(the declared `<dimension>` is never read), a sheet with a value beyond the template's
extent or with too many cells is refused naming the sheet, and only the cells the reader
looks at are kept (`loaders.cmrt_sheets`), so time and memory stay near the template's
size.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from loaders.cmrt_layout import (
    ANSWER_COLUMN,
    COMMENT_COLUMN,
    LANGUAGE_CELL,
    TEMPLATE_OF_MAJOR,
    Layout,
    answer_of,
    layout_of,
)
from loaders.cmrt_sheets import TITLE_BLOCK, Book, Sheet, SheetProblem
from loaders.cmrt_smelters import (
    NOT_IDENTIFIED,
    NOT_LISTED,
    REFERENCE_SHEET,
    Smelter,
    read_smelter_list,
)
from loaders.tabular import FileError

__all__ = [
    "NOT_IDENTIFIED",
    "NOT_LISTED",
    "SUPPORTED",
    "CompanyAnswer",
    "Declaration",
    "MetalAnswer",
    "SheetProblem",
    "Smelter",
    "read_cmrt",
    "template_of",
]

SUPPORTED = {"CMRT": (6,), "EMRT": (1, 2)}  # template -> supported major revisions
REVISION = re.compile(r"(?:revision|version|rev\.?|[ce]mrt)\s*:?\s*v?(\d+\.\d+)", re.I)
DATE_FORMATS = ("%d-%b-%Y", "%Y-%m-%d", "%d/%m/%Y", "%d %b %Y", "%d-%B-%Y")


@dataclass(frozen=True)
class MetalAnswer:
    """The answer for one metal to one numbered declaration question."""

    question: int
    metal: str
    answer: str | None
    comment: str | None = None


@dataclass(frozen=True)
class CompanyAnswer:
    """The answer to one company-level question (A to H); EMRT question C is answered
    once per mineral (`metal`)."""

    question: str
    text: str
    answer: str | None
    comment: str | None = None
    metal: str | None = None


@dataclass
class Declaration:
    """What a CMRT / EMRT workbook declares."""

    template: str
    version: str
    language: str | None = None  # as chosen in the title block, when it reads
    company: dict[str, str] = field(default_factory=dict)  # name, scope, unique_id, contact_*
    effective_date: date | None = None
    answers: list[MetalAnswer] = field(default_factory=list)
    company_answers: list[CompanyAnswer] = field(default_factory=list)
    smelters: list[Smelter] = field(default_factory=list)
    problems: list[SheetProblem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def read_cmrt(data: bytes) -> Declaration:
    """The declaration of a CMRT / EMRT workbook; `FileError` when it is not one of a
    supported revision, or its sheets are not laid out as the templates are."""
    with Book(data) as book:
        sheet, smelter_list = book.sheet("Declaration"), book.sheet("Smelter List")
        for name, found in (("Declaration", sheet), ("Smelter List", smelter_list)):
            if found is None:
                raise FileError(f"no {name!r} sheet: not a CMRT or EMRT workbook")
        assert sheet is not None and smelter_list is not None
        template, version = _template(sheet, book.sheet("Revision"))
        layout = layout_of(template, version)
        assert layout is not None  # every supported revision has one
        declaration = Declaration(template, version)
        _read_declaration(sheet, declaration, layout)
        smelters, problems, notes = read_smelter_list(
            smelter_list, lambda: book.sheet(REFERENCE_SHEET))
    declaration.smelters = smelters
    declaration.problems += problems
    declaration.notes += notes
    return declaration


def template_of(data: bytes) -> tuple[str, str]:
    """(template, revision) of a workbook, filled or blank; `FileError` as `read_cmrt`."""
    with Book(data) as book:
        sheet = book.sheet("Declaration")
        if sheet is None:
            raise FileError("no 'Declaration' sheet: not a CMRT or EMRT workbook")
        return _template(sheet, book.sheet("Revision"))


# -- template and revision ------------------------------------------------------------------


def _template(declaration: Sheet, revision: Sheet | None) -> tuple[str, str]:
    """(template, revision) of the workbook, refusing what is not supported: the revision
    text of the title block (else of the Revision sheet) tells both, a title that reads
    names the template."""
    title = " ".join(t for r in range(1, TITLE_BLOCK[0] + 1) for c in range(TITLE_BLOCK[1])
                     if (t := declaration.text(r, c)) is not None)
    found = REVISION.search(title)
    version = found.group(1) if found else _latest_revision(revision)
    if version is None:
        raise FileError("cannot tell the template's revision: the Declaration title block "
                        "should read e.g. 'Revision 6.5'")
    major = int(version.split(".")[0])
    template = _template_name(title) or TEMPLATE_OF_MAJOR.get(major)
    if template is None and revision is not None:
        template = _template_name(" ".join(revision.texts()))
    if template is None or major not in SUPPORTED[template]:
        raise FileError(f"unsupported template revision {template or 'revision'} {version} "
                        "(supported: CMRT 6.x, EMRT 1.x and 2.x)")
    return template, version


def _template_name(text: str) -> str | None:
    lowered = text.lower()
    if "emrt" in lowered or "extended minerals" in lowered:
        return "EMRT"
    if "cmrt" in lowered or "conflict minerals" in lowered:
        return "CMRT"
    return None


def _latest_revision(sheet: Sheet | None) -> str | None:
    if sheet is None:
        return None
    found = [m.group(1) for t in sheet.texts() if (m := REVISION.search(t))]
    return max(found, key=lambda v: tuple(int(p) for p in v.split(".")), default=None)


# -- the Declaration sheet ------------------------------------------------------------------


def _cell_position(coordinate: str) -> tuple[int, int]:
    return int(coordinate[1:]), ord(coordinate[0]) - ord("A")


def _read_declaration(sheet: Sheet, declaration: Declaration, layout: Layout) -> None:
    declaration.language = sheet.text(*_cell_position(LANGUAGE_CELL))
    for key, row in layout.company_rows.items():
        if key == "effective_date":
            declaration.effective_date = _date(sheet.value(row, ANSWER_COLUMN), row,
                                               declaration)
        elif (text := sheet.text(row, ANSWER_COLUMN)) is not None:
            declaration.company[key] = text
    if not declaration.company.get("name"):
        raise FileError("Declaration: no company name (the 'Company Name' row, D"
                        f"{layout.company_rows['name']})")
    for question in layout.questions:
        first = layout.question_row(question.number) + 1
        declaration.answers += [
            MetalAnswer(question.number, metal,
                        answer_of(question, sheet.text(row, ANSWER_COLUMN)),
                        sheet.text(row, COMMENT_COLUMN))
            for row, metal in enumerate(layout.metals, start=first)]
    rows = layout.company_question_rows()
    for letter, wording in layout.company_questions:
        row = rows[letter]
        if letter not in layout.per_mineral_letters:
            declaration.company_answers.append(CompanyAnswer(
                letter, wording, sheet.text(row, ANSWER_COLUMN), sheet.text(row, COMMENT_COLUMN)))
            continue
        declaration.company_answers += [
            CompanyAnswer(letter, wording, sheet.text(r, ANSWER_COLUMN),
                          sheet.text(r, COMMENT_COLUMN), metal)
            for r, metal in enumerate(layout.metals, start=row + 1)]


def _date(found: Any, row: int, declaration: Declaration) -> date | None:
    """A date cell (a date, or text in DD-MMM-YYYY or YYYY-MM-DD); a problem otherwise."""
    if found is None or isinstance(found, date):
        return found.date() if isinstance(found, datetime) else found
    for pattern in DATE_FORMATS:
        try:
            return datetime.strptime(str(found), pattern).date()
        except ValueError:
            continue
    declaration.problems.append(SheetProblem(
        "Declaration", row, "effective_date", f"{found!r} is not a date (DD-MMM-YYYY)"))
    return None
