"""Chosen cells of an .xlsx workbook, read in one bounded streaming pass.

openpyxl reads the package: which part holds which sheet, which styles are dates. The
shared strings and the sheets are streamed here, once each, through the XML parser's
callbacks (no element tree is built; openpyxl's reader builds one per string and per
cell, several times slower), keeping only the values of the cells a caller wants, so
time and memory follow what the sheets hold, not what they declare:

- before anything is decompressed, every archive part's uncompressed size is checked
  (`PART_LIMIT`, the shared strings `SHARED_STRINGS_LIMIT`, at most `MAX_PARTS` parts);
- a sheet's declared `<dimension>` is never read; a sheet with more than its `max_cells`
  cells (with a value or only a format), with a value beyond its `rows` x `columns` (in a
  `clipped` sheet: beyond its `rows`; columns beyond are skipped), or with more than
  `ELEMENTS_PER_CELL` XML elements per cell it may hold, is refused naming the sheet;
- a `Book` streams each sheet at most once, the first time it is asked for, so a sheet
  nobody needs is never read;
- nothing is kept but the wanted cells' values, so memory stays near their size.

A value is what Excel cached when it saved the file (a formula's last result): text, a
number, a bool, a `datetime` for a date-styled number, or the error text (`#N/A`). A
formula whose saved value is missing or empty (a file saved by a tool that computes no
formulas: openpyxl, LibreOffice without recalculation) has no value; the wanted cells
holding one are listed apart (`SheetCells.uncached`), so a caller can tell it from an
empty cell.

Examples
--------
>>> import io
>>> from openpyxl import Workbook
>>> book = Workbook()
>>> book.active.title = "Sheet"
>>> book.active.append(["name", "kind"])
>>> book.active.append(["Acme", "=UPPER(A2)"])
>>> out = io.BytesIO()
>>> book.save(out)
>>> bounds = SheetBounds(rows=10, columns=5, max_cells=100, wanted=lambda row, col: col == 1)
>>> read_sheets(out.getvalue(), {"Sheet": bounds})
{'Sheet': [['name'], ['Acme']]}
>>> with Book(out.getvalue()) as workbook:
...     cells = workbook.sheet("Sheet", SheetBounds(10, 5, 100, lambda row, col: True))
>>> cells.values, sorted(cells.uncached)
([['name', 'kind'], ['Acme']], [(2, 2)])
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import IO, Any
from xml.etree.ElementTree import XMLParser

from openpyxl.reader.excel import ExcelReader
from openpyxl.styles.stylesheet import apply_stylesheet
from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import coordinate_to_tuple
from openpyxl.utils.datetime import from_excel, from_ISO8601
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.xml.constants import SHARED_STRINGS, SHEET_MAIN_NS

from loaders.tabular import FileError

__all__ = ["MAX_PARTS", "PART_LIMIT", "SHARED_STRINGS_LIMIT", "Book", "Grid", "SheetBounds",
           "SheetCells", "check_archive", "read_sheets"]

PART_LIMIT = 24 * 1024 * 1024  # uncompressed bytes of one archive part
SHARED_STRINGS_LIMIT = 8 * 1024 * 1024  # held in memory whole by the reader
MAX_PARTS = 2000

_UNREADABLE = (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError,
               SyntaxError)  # what openpyxl raises for a file that is no workbook
CHUNK = 64 * 1024  # bytes of XML fed to the parser at a time
ELEMENTS_PER_CELL = 10  # XML elements a sheet may hold per cell it may hold: bounds time

_ROW, _CELL, _VALUE, _FORMULA, _INLINE, _TEXT, _PHONETIC, _STRING = (
    f"{{{SHEET_MAIN_NS}}}{tag}" for tag in ("row", "c", "v", "f", "is", "t", "rPh", "si"))

Grid = list[list[Any]]
"""A sheet's wanted values as rows: `grid[row - 1][column - 1]`, rows and columns
1-based; rows end at their last wanted value."""


@dataclass(frozen=True)
class SheetBounds:
    """What a caller reads of a sheet: a value beyond `rows` x `columns`, or more than
    `max_cells` cells, refuses the file; only the values of `wanted(row, column)` cells
    (1-based) are kept. A `clipped` sheet's columns beyond `columns` are skipped instead
    (helper columns nobody reads)."""

    rows: int
    columns: int
    max_cells: int
    wanted: Callable[[int, int], bool]
    clipped: bool = False


@dataclass(frozen=True)
class SheetCells:
    """A sheet's wanted cells: their `values`, and the (row, column), 1-based, of those
    holding a formula the file carries no value for (nothing in `values`)."""

    values: Grid
    uncached: frozenset[tuple[int, int]]


def check_archive(data: bytes, *, part_limit: int = PART_LIMIT) -> None:
    """Refuse a workbook whose parts would decompress beyond the limits (read from the
    zip directory: nothing is decompressed)."""
    try:
        parts = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise FileError(f"not an .xlsx workbook ({exc})") from None
    if len(parts) > MAX_PARTS:
        raise FileError(f"the workbook has {len(parts)} parts, at most {MAX_PARTS} are read")
    for part in parts:
        limit = SHARED_STRINGS_LIMIT if "sharedstrings" in part.filename.lower() else part_limit
        if part.file_size > limit:
            raise FileError(f"the workbook part {part.filename!r} is {part.file_size} bytes "
                            f"uncompressed, at most {limit} are read")


def read_sheets(data: bytes, bounds: Mapping[str, SheetBounds]) -> dict[str, Grid]:
    """The wanted values of each sheet named in `bounds` that the workbook has; `FileError`
    for a file that is not a readable workbook or breaks a sheet's bounds."""
    with Book(data) as book:
        return {name: found.values for name, limits in bounds.items()
                if (found := book.sheet(name, limits)) is not None}


class Book:
    """A workbook open for its chosen cells: the archive is checked and the package read
    when it opens; the shared strings are streamed before the first sheet, and each sheet
    the first time it is asked for, once (`FileError` as `read_sheets`)."""

    def __init__(self, data: bytes) -> None:
        check_archive(data)
        try:
            self._reader = ExcelReader(io.BytesIO(data), read_only=True, data_only=True)
        except _UNREADABLE as exc:
            raise FileError(f"not an .xlsx workbook ({exc})") from None
        try:
            self._reader.read_manifest()
            self._reader.read_workbook()
            apply_stylesheet(self._reader.archive, self._reader.wb)
            self._parts = {sheet.name: rel.target
                           for sheet, rel in self._reader.parser.find_sheets()
                           if rel.target in self._reader.valid_files}
        except _UNREADABLE as exc:
            self.close()
            raise FileError(f"not an .xlsx workbook ({exc})") from None
        self._cells: _Cells | None = None
        self._read: dict[str, SheetCells] = {}

    def sheet(self, name: str, bounds: SheetBounds) -> SheetCells | None:
        """The wanted cells of sheet `name` within `bounds` (those of the first call: a
        sheet is read once), None when the workbook has no such sheet."""
        if name not in self._read:
            if name not in self._parts:
                return None
            try:
                self._cells = self._cells or _Cells(self._reader,
                                                    _shared_strings(self._reader))
                with self._reader.archive.open(self._parts[name]) as source:
                    self._read[name] = _SheetReader(name, bounds, self._cells).read(source)
            except FileError:
                raise
            except (KeyError, ValueError, SyntaxError, IndexError) as exc:  # a damaged sheet
                raise FileError(f"the workbook cannot be read ({exc})") from None
        return self._read[name]

    def close(self) -> None:
        self._reader.archive.close()

    def __enter__(self) -> Book:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()


def _shared_strings(reader: ExcelReader) -> list[str]:
    """The workbook's shared strings (as openpyxl reads them, several times faster)."""
    part = reader.package.find(SHARED_STRINGS)
    if part is None:
        return []
    table = _SharedStrings()
    with reader.archive.open(part.PartName[1:]) as source:
        _feed(source, table)
    return table.strings


def _feed(source: IO[bytes], target: Any) -> None:
    parser = XMLParser(target=target)
    while chunk := source.read(CHUNK):
        parser.feed(chunk)
    parser.close()


class _SharedStrings:
    """Parser target: each `<si>`'s text (its own and its runs', not the phonetic runs')."""

    def __init__(self) -> None:
        self.strings: list[str] = []
        self.parts: list[str] = []
        self.collecting = self.phonetic = False

    def start(self, tag: str, attributes: dict[str, str]) -> None:
        if tag == _PHONETIC:
            self.phonetic = True
        elif tag == _TEXT and not self.phonetic:
            self.collecting = True

    def data(self, text: str) -> None:
        if self.collecting:
            self.parts.append(text)

    def end(self, tag: str) -> None:
        self.collecting = False
        if tag == _PHONETIC:
            self.phonetic = False
        elif tag == _STRING:
            self.strings.append("".join(self.parts).replace("x005F_", ""))
            self.parts = []

    def close(self) -> None:
        """The parser's end of document (nothing to finish)."""


class _Cells:
    """Turns a cell's type, style and raw text into its value (as openpyxl's reader does,
    data only)."""

    def __init__(self, reader: ExcelReader, shared: list[str]) -> None:
        self.shared = shared
        self.dates, self.durations = reader.wb._date_formats, reader.wb._timedelta_formats
        self.epoch = reader.wb.epoch

    def value(self, kind: str, style: str | None, raw: str) -> Any:
        if kind in ("inlineStr", "str", "e"):
            return raw  # an error reads as its text (#N/A)
        if kind == "s":
            return self.shared[int(raw)]
        if kind == "b":
            return bool(int(raw))
        if kind == "d":
            return from_ISO8601(raw)
        number = float(raw) if any(c in raw for c in ".Ee") else int(raw)
        if int(style or 0) not in self.dates:
            return number
        try:
            return from_excel(number, self.epoch, timedelta=int(style or 0) in self.durations)
        except (OverflowError, ValueError):
            return "#VALUE!"  # a date-styled number no date has (as openpyxl reads it)


class _SheetReader:
    """One streaming pass over a sheet's XML, as the parser's target: no tree is built,
    each cell is taken when it ends."""

    def __init__(self, name: str, bounds: SheetBounds, cells: _Cells) -> None:
        self.name, self.bounds, self.cells = name, bounds, cells
        self.grid: Grid = []
        self.uncached: set[tuple[int, int]] = set()
        self.count = self.elements = 0
        self.row = self.column = 0  # where a cell without a reference sits
        self.cell: dict[str, str] | None = None  # the open cell's attributes
        self.raw: list[str] | None = None  # its value's text, once it has one
        self.formula = False  # whether it has a formula
        self.collecting = False  # inside its <v>, or a <t> of its inline string
        self.phonetic = False  # inside a phonetic run (<rPh>), which is not the text

    def read(self, source: IO[bytes]) -> SheetCells:
        _feed(source, self)
        return SheetCells(self.grid, frozenset(self.uncached))

    def start(self, tag: str, attributes: dict[str, str]) -> None:
        self.elements += 1
        if self.elements > self.bounds.max_cells * ELEMENTS_PER_CELL:
            raise self._refused("far more XML elements than the template holds")
        if self.cell is not None:
            self._start_in_cell(tag)
        elif tag == _CELL:
            self.count += 1
            if self.count > self.bounds.max_cells:
                raise self._refused(f"more than {self.bounds.max_cells} cells, far more "
                                    "than the template holds")
            self.cell, self.raw, self.formula = attributes, None, False
        elif tag == _ROW:
            self.row, self.column = int(attributes.get("r") or self.row + 1), 0

    def _start_in_cell(self, tag: str) -> None:
        assert self.cell is not None
        inline = self.cell.get("t") == "inlineStr"
        if tag == _FORMULA:
            self.formula = True
        elif tag == (_INLINE if inline else _VALUE):
            self.raw = []  # openpyxl reads <is> of an inline string, else <v>
            self.collecting = not inline
        elif tag == _PHONETIC:
            self.phonetic = True
        elif tag == _TEXT and inline and self.raw is not None and not self.phonetic:
            self.collecting = True

    def data(self, text: str) -> None:
        if self.collecting:
            assert self.raw is not None
            self.raw.append(text)

    def end(self, tag: str) -> None:
        self.collecting = False
        if tag == _PHONETIC:
            self.phonetic = False
        elif tag == _CELL:
            self._take()
            self.cell = None

    def close(self) -> None:
        """The parser's end of document (nothing to finish)."""

    def _take(self) -> None:
        assert self.cell is not None
        reference = self.cell.get("r")
        if reference:
            row, column = coordinate_to_tuple(reference)
        else:
            row, column = self.row, self.column + 1
        self.column = column
        kind = self.cell.get("t", "n")
        raw = None if self.raw is None else "".join(self.raw)
        bounds = self.bounds
        if raw is None or (not raw and kind != "inlineStr"):
            # no value: formatting alone (it reaches far in real templates), or a formula
            # never computed, which the caller is told of where it reads the cell
            if self.formula and row <= bounds.rows and column <= bounds.columns \
                    and bounds.wanted(row, column):
                self.uncached.add((row, column))
            return
        if row > bounds.rows or column > bounds.columns:
            if bounds.clipped and row <= bounds.rows:
                return  # a helper column nobody reads
            where = f"{get_column_letter(min(column, 16384))}{row}"
            raise self._refused(f"a value at {where}, beyond the template's "
                                f"{get_column_letter(bounds.columns)}{bounds.rows}")
        if bounds.wanted(row, column):
            _put(self.grid, row, column, self.cells.value(kind, self.cell.get("s"), raw))

    def _refused(self, why: str) -> FileError:
        return FileError(f"{self.name}: {why}", field=self.name)


def _put(grid: Grid, row: int, column: int, value: Any) -> None:
    while len(grid) < row:
        grid.append([])
    cells = grid[row - 1]
    cells.extend([None] * (column - len(cells)))
    cells[column - 1] = value
