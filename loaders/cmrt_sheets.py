"""The sheets of a CMRT / EMRT workbook, read within bounds whatever the file holds.

A workbook is opened twice: once for the values Excel cached when it was saved, once for
what was typed (formulas included), so a reader can tell a formula that has no cached
value (a file written by a tool that does not compute formulas) from an empty cell.

Before anything is decompressed every archive part's uncompressed size is checked
(`PART_LIMIT`, shared strings `SHARED_STRINGS_LIMIT`); a sheet is read only when asked
for, cell by cell (the declared `<dimension>` is never trusted), at most `MAX_CELLS`
cells, and only the cells of its extent (`EXTENT`) are kept: a value beyond it is refused
naming the sheet, except in a sheet whose extra columns are helper columns
(`CLIPPED_SHEETS`), where they are skipped. Memory stays near the template's size.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import openpyxl
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet._reader import WorkSheetParser
from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula

from loaders.tabular import FileError

__all__ = ["EXTENT", "MAX_CELLS", "PART_LIMIT", "Book", "Sheet", "SheetProblem", "check_archive"]

# (rows, columns) a sheet of the templates fills, with room to spare (hidden helper
# columns, long smelter lists); a value beyond is refused. The smelter reference sheet is
# read in its first five columns only (`loaders.cmrt_smelters`).
EXTENT = {"Declaration": (1000, 64), "Smelter List": (10_000, 64), "Revision": (500, 32),
          "Smelter Look-up": (10_000, 5)}
CLIPPED_SHEETS = frozenset({"Smelter Look-up"})  # columns beyond the extent are skipped
PART_LIMIT = 24 * 1024 * 1024  # uncompressed bytes of one archive part
SHARED_STRINGS_LIMIT = 8 * 1024 * 1024  # held in memory whole by the reader
MAX_PARTS = 2000
MAX_CELLS = 100_000  # cells (with a value or only a format) read of one sheet: bounds time


@dataclass(frozen=True)
class SheetProblem:
    """Why a row of a sheet was not read."""

    sheet: str
    row: int
    field: str | None
    message: str


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


def _is_formula(value: Any) -> bool:
    return (isinstance(value, str) and value.startswith("=")) or isinstance(
        value, ArrayFormula | DataTableFormula)


class Sheet:
    """A sheet's cells as (cached value, typed input) grids; `value` prefers the cached."""

    def __init__(self, name: str, cached: Any, typed: Any) -> None:
        self.name = name
        self.cached, self.typed = _grid(name, cached), _grid(name, typed)

    @property
    def rows(self) -> int:
        return len(self.typed)

    def value(self, row: int, column: int) -> Any:
        """The value at 1-based `row`, 0-based `column`: Excel's cached value, else the
        typed input unless that is a formula; blank text counts as nothing."""
        found = _cell(self.cached, row, column)
        if found is None:
            typed = _cell(self.typed, row, column)
            found = None if _is_formula(typed) else typed
        if isinstance(found, str):
            found = found.strip() or None
        return found

    def text(self, row: int, column: int) -> str | None:
        found = self.value(row, column)
        if isinstance(found, float) and found.is_integer():
            found = int(found)
        return None if found is None else str(found)

    def uncached(self, row: int, column: int) -> bool:
        """Whether the cell holds a formula whose value the file does not carry."""
        return _cell(self.cached, row, column) is None and _is_formula(
            _cell(self.typed, row, column))


class Book:
    """A workbook's sheets, each read (within its extent) the first time it is asked for."""

    def __init__(self, data: bytes) -> None:
        check_archive(data)
        try:
            self._cached = openpyxl.load_workbook(io.BytesIO(data), data_only=True,
                                                  read_only=True)
            self._typed = openpyxl.load_workbook(io.BytesIO(data), data_only=False,
                                                 read_only=True)
        except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError,
                ValueError) as exc:
            raise FileError(f"not an .xlsx workbook ({exc})") from None
        self._read: dict[str, Sheet] = {}

    def sheet(self, name: str) -> Sheet | None:
        """The sheet `name` (one of `EXTENT`), None when the workbook has none."""
        if name not in self._read:
            if name not in self._typed.sheetnames:
                return None
            try:
                self._read[name] = Sheet(name, self._cached[name], self._typed[name])
            except FileError:
                raise
            except (KeyError, ValueError, SyntaxError) as exc:  # a damaged sheet
                raise FileError(f"the workbook cannot be read ({exc})") from None
        return self._read[name]

    def close(self) -> None:
        self._cached.close()
        self._typed.close()

    def __enter__(self) -> Book:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()


def _grid(name: str, sheet: Any) -> list[list[Any]]:
    """The sheet's values as rows (1-based rows, 0-based columns), streamed cell by cell;
    `FileError` naming the sheet for a value beyond its `EXTENT`."""
    rows, columns = EXTENT[name]
    clipped = name in CLIPPED_SHEETS
    grid: list[list[Any]] = []
    seen = 0
    book = sheet.parent
    with sheet._get_source() as source:  # openpyxl's own streaming reader, unpadded
        parser = WorkSheetParser(source, sheet._shared_strings, data_only=book.data_only,
                                 epoch=book.epoch, date_formats=book._date_formats,
                                 timedelta_formats=book._timedelta_formats)
        for row, cells in parser.parse():
            seen += len(cells)
            if seen > MAX_CELLS:
                raise FileError(f"{name}: more than {MAX_CELLS} cells, far more than the "
                                "template holds", field=name)
            for cell in cells:
                if cell["value"] is None:
                    continue  # formatting alone reaches far in real templates
                if clipped and cell["column"] > columns:
                    continue  # a helper column nobody reads
                if row > rows or cell["column"] > columns:
                    where = f"{get_column_letter(min(cell['column'], 16384))}{row}"
                    raise FileError(f"{name}: a value at {where}, beyond the template's "
                                    f"{get_column_letter(columns)}{rows}; is this a "
                                    "CMRT or EMRT sheet?", field=name)
                _put(grid, row, cell["column"], cell["value"])
    return grid


def _put(grid: list[list[Any]], row: int, column: int, value: Any) -> None:
    while len(grid) < row:
        grid.append([])
    cells = grid[row - 1]
    cells.extend([None] * (column - len(cells)))
    cells[column - 1] = value


def _cell(grid: list[list[Any]], row: int, column: int) -> Any:
    if row - 1 < len(grid) and column < len(grid[row - 1]):
        return grid[row - 1][column]
    return None
