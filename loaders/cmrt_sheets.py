"""The sheets of a CMRT / EMRT workbook the importer reads, over the bounded one-pass
reader (`loaders.xlsx_cells`).

Each sheet is read within the template's extent (`EXTENT`: a value beyond it is refused
naming the sheet; the smelter reference sheet's columns beyond its first five are skipped),
at most `MAX_CELLS` cells, keeping only the cells the importer looks at (`WANTED`: the
title block and the answer and comment columns of the Declaration, the Smelter List's
columns A-F, the Revision sheet's text, the smelter reference's columns A-E), each the
first time it is asked for, so time and memory stay near the template's size. A cell
holding a formula the file carries no value for is told from an empty one
(`Sheet.uncached`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from loaders import xlsx_cells
from loaders.cmrt_layout import ANSWER_COLUMN, COMMENT_COLUMN, SMELTER_COLUMNS
from loaders.xlsx_cells import SheetBounds, SheetCells

__all__ = ["BOUNDS", "EXTENT", "MAX_CELLS", "REFERENCE_SHEET", "TITLE_BLOCK", "WANTED", "Book",
           "Sheet", "SheetProblem"]

REFERENCE_SHEET = "Smelter Look-up"  # the template's smelter reference (`loaders.cmrt_smelters`)
# (rows, columns) a sheet of the templates fills, with room to spare (hidden helper
# columns, long smelter lists); a value beyond is refused, except in the reference sheet,
# read in its first five columns only
EXTENT = {"Declaration": (1000, 64), "Smelter List": (10_000, 64), "Revision": (500, 32),
          REFERENCE_SHEET: (10_000, 5)}
MAX_CELLS = 100_000  # cells (with a value or only a format) read of one sheet: bounds time
TITLE_BLOCK = (6, 12)  # rows and columns of the Declaration's title block
WANTED: dict[str, Callable[[int, int], bool]] = {  # (row, column), 1-based
    "Declaration": lambda row, column: (
        row <= TITLE_BLOCK[0] and column <= TITLE_BLOCK[1]
        or column in (ANSWER_COLUMN + 1, COMMENT_COLUMN + 1)),
    "Smelter List": lambda row, column: column <= max(SMELTER_COLUMNS.values()) + 1,
    "Revision": lambda row, column: True,
    REFERENCE_SHEET: lambda row, column: True,
}
"""The cells the importer looks at, by sheet."""
BOUNDS = {name: SheetBounds(rows, columns, MAX_CELLS, WANTED[name],
                            clipped=name == REFERENCE_SHEET)
          for name, (rows, columns) in EXTENT.items()}


@dataclass(frozen=True)
class SheetProblem:
    """Why a row of a sheet was not read."""

    sheet: str
    row: int
    field: str | None
    message: str


class Sheet:
    """A sheet's wanted cells, addressed by 1-based row and 0-based column (as the
    template layout counts them)."""

    def __init__(self, cells: SheetCells) -> None:
        self.cells = cells
        self.rows = max([len(cells.values), *(row for row, _ in cells.uncached)])

    def value(self, row: int, column: int) -> Any:
        """The value Excel cached at the cell; blank text counts as nothing."""
        grid = self.cells.values
        found = grid[row - 1][column] if row <= len(grid) and column < len(grid[row - 1]) \
            else None
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
        return (row, column + 1) in self.cells.uncached

    def texts(self) -> Iterator[str]:
        """Every text of the sheet, row by row."""
        for row, cells in enumerate(self.cells.values, start=1):
            for column in range(len(cells)):
                if (text := self.text(row, column)) is not None:
                    yield text


class Book:
    """A CMRT / EMRT workbook's sheets (`EXTENT`), each read within its `BOUNDS` the
    first time it is asked for."""

    def __init__(self, data: bytes) -> None:
        self._book = xlsx_cells.Book(data)

    def sheet(self, name: str) -> Sheet | None:
        """The sheet `name` (one of `EXTENT`), None when the workbook has none."""
        found = self._book.sheet(name, BOUNDS[name])
        return None if found is None else Sheet(found)

    def __enter__(self) -> Book:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._book.close()
