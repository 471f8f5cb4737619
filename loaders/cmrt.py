"""Read RMI CMRT (6.x) and EMRT (1.x, 2.x) workbooks: the declaration and the smelters.

The templates are Excel workbooks full of formulas. A workbook is read once, for the
values Excel cached when it was saved; where a formula has no cached value (a file written
by a tool that does not compute formulas) the typed input stands in (the smelter id typed
in the *Smelter Identification Number Input Column* for the looked-up *Smelter
Identification*, a typed smelter name for the looked-up one).

The template is told by its revision text ("Revision 6.5" in the title block of the
*Declaration* sheet, else the highest revision on the *Revision* sheet; CMRT revisions are
6.x, EMRT 1.x and 2.x, the title confirming it where it has a value) and everything else
is read at the cell positions of that revision (`loaders.cmrt_layout`): the labels are
formulas over the template's translations, so their text is never relied on, and a file
saved without cached values or in another of the template's languages reads the same.
Every answer is kept, per metal, the EMRT's per-mineral company question C included.

Bounded whatever the file holds (`loaders.xlsx_cells`): before anything is decompressed
every archive part's uncompressed size is checked; each sheet is streamed once (the
declared `<dimension>` is never read), a sheet with a value beyond the template's extent
(`EXTENT`) or more than `MAX_CELLS` cells is refused naming the sheet, and only the cells
the reader looks at are kept (`WANTED`: the title block and the answer and comment
columns of the Declaration, the Smelter List's columns A-F, the Revision sheet's text),
so time and memory stay near the template's size.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from loaders.cmrt_layout import (
    ANSWER_COLUMN,
    COMMENT_COLUMN,
    LANGUAGE_CELL,
    SMELTER_COLUMNS,
    SMELTER_HEADER_ROW,
    TEMPLATE_OF_MAJOR,
    Layout,
    answer_of,
    layout_of,
)
from loaders.tabular import FileError
from loaders.xlsx_cells import Grid, SheetBounds, read_sheets

__all__ = [
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
NOT_IDENTIFIED = "smelter not yet identified"
NOT_LISTED = "smelter not listed"
RMI_ID = re.compile(r"^[A-Z]{2,5}\d{4,8}$")  # e.g. CID000292
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


@dataclass(frozen=True)
class Smelter:
    """One row of the Smelter List; without `smelter_id` it is unidentified (without a
    name too: "smelter not yet identified")."""

    row: int
    metal: str
    name: str | None
    smelter_id: str | None  # the RMI smelter id, when the row has one
    country: str | None  # as the template spells it (a country name)


@dataclass(frozen=True)
class SheetProblem:
    sheet: str
    row: int
    field: str | None
    message: str


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


class _Sheet:
    """A sheet's wanted values (`loaders.xlsx_cells.Grid`)."""

    def __init__(self, grid: Grid) -> None:
        self.grid = grid

    @property
    def rows(self) -> int:
        return len(self.grid)

    def value(self, row: int, column: int) -> Any:
        """The value at 1-based `row`, 0-based `column`; blank text counts as nothing."""
        cells = self.grid[row - 1] if row - 1 < len(self.grid) else []
        found = cells[column] if column < len(cells) else None
        if isinstance(found, str):
            found = found.strip() or None
        return found

    def text(self, row: int, column: int) -> str | None:
        found = self.value(row, column)
        if isinstance(found, float) and found.is_integer():
            found = int(found)
        return None if found is None else str(found)


# (rows, columns) a sheet of the templates fills, with room to spare (hidden helper
# columns, long smelter lists); a value beyond is refused
EXTENT = {"Declaration": (1000, 64), "Smelter List": (10_000, 64), "Revision": (500, 32)}
MAX_CELLS = 100_000  # cells (with a value or only a format) read of one sheet: bounds time
TITLE_BLOCK = (6, 12)  # rows and columns of the Declaration's title block
WANTED: dict[str, Callable[[int, int], bool]] = {  # (row, column), 1-based
    "Declaration": lambda row, column: (
        row <= TITLE_BLOCK[0] and column <= TITLE_BLOCK[1]
        or column in (ANSWER_COLUMN + 1, COMMENT_COLUMN + 1)),
    "Smelter List": lambda row, column: column <= max(SMELTER_COLUMNS.values()) + 1,
    "Revision": lambda row, column: True,
}
"""The cells the reader looks at, by sheet."""
BOUNDS = {name: SheetBounds(rows, columns, MAX_CELLS, WANTED[name])
          for name, (rows, columns) in EXTENT.items()}


def read_cmrt(data: bytes) -> Declaration:
    """The declaration of a CMRT / EMRT workbook; `FileError` when it is not one of a
    supported revision, or its sheets are not laid out as the templates are."""
    sheets = _sheets(data)
    for name in ("Declaration", "Smelter List"):
        if name not in sheets:
            raise FileError(f"no {name!r} sheet: not a CMRT or EMRT workbook")
    template, version = _template(sheets["Declaration"], sheets.get("Revision"))
    layout = layout_of(template, version)
    assert layout is not None  # every supported revision has one
    declaration = Declaration(template, version)
    _read_declaration(sheets["Declaration"], declaration, layout)
    _read_smelters(sheets["Smelter List"], declaration)
    return declaration


def template_of(data: bytes) -> tuple[str, str]:
    """(template, revision) of a workbook, filled or blank; `FileError` as `read_cmrt`."""
    sheets = _sheets(data)
    if "Declaration" not in sheets:
        raise FileError("no 'Declaration' sheet: not a CMRT or EMRT workbook")
    return _template(sheets["Declaration"], sheets.get("Revision"))


def _sheets(data: bytes) -> dict[str, _Sheet]:
    """The sheets the importer reads, as far as the workbook has them."""
    return {name: _Sheet(grid) for name, grid in read_sheets(data, BOUNDS).items()}


# -- template and revision ------------------------------------------------------------------


def _template(declaration: _Sheet, revision: _Sheet | None) -> tuple[str, str]:
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
        template = _template_name(" ".join(_texts(revision)))
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


def _texts(sheet: _Sheet) -> Iterator[str]:
    for row in range(1, sheet.rows + 1):
        for column in range(len(sheet.grid[row - 1])):
            if (text := sheet.text(row, column)) is not None:
                yield text


def _latest_revision(sheet: _Sheet | None) -> str | None:
    if sheet is None:
        return None
    found = [m.group(1) for t in _texts(sheet) if (m := REVISION.search(t))]
    return max(found, key=lambda v: tuple(int(p) for p in v.split(".")), default=None)


# -- the Declaration sheet ------------------------------------------------------------------


def _cell_position(coordinate: str) -> tuple[int, int]:
    return int(coordinate[1:]), ord(coordinate[0]) - ord("A")


def _read_declaration(sheet: _Sheet, declaration: Declaration, layout: Layout) -> None:
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


# -- the Smelter List sheet -----------------------------------------------------------------


def _read_smelters(sheet: _Sheet, declaration: Declaration) -> None:
    for row in range(SMELTER_HEADER_ROW + 1, sheet.rows + 1):
        cells = {k: sheet.text(row, c) for k, c in SMELTER_COLUMNS.items()}
        if not any(cells.values()):
            continue
        smelter = _smelter(row, cells, declaration)
        if smelter is not None:
            declaration.smelters.append(smelter)


def _smelter(row: int, cells: dict[str, str | None], declaration: Declaration) -> Smelter | None:
    """The smelter of one row; None with a problem when there is none."""
    smelter_id = next((v for k in ("smelter_id", "input_id")
                       if (v := cells.get(k)) and RMI_ID.match(v)), None)
    lookup = (cells.get("lookup") or "").lower()
    name = cells.get("name") or (cells.get("lookup") if lookup not in (
        "", NOT_LISTED, NOT_IDENTIFIED) else None)
    problem = None
    if not cells.get("metal"):
        problem = ("metal", "no metal")
    elif smelter_id is None and name is None and lookup != NOT_IDENTIFIED:
        problem = ("smelter_name", "no smelter name or identification number")
    if problem is not None:
        declaration.problems.append(SheetProblem("Smelter List", row, *problem))
        return None
    return Smelter(row, str(cells["metal"]).title(), name, smelter_id, cells.get("country"))
