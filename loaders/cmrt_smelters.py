"""The Smelter List of a CMRT / EMRT workbook, and the template's smelter reference.

In the templates a supplier types a smelter identification number (column A of the
*Smelter List*), or picks a metal and a look-up name (B, C); the template's formulas then
fill the metal, the smelter name, its country and its identification (B, D, E, F) from the
template's own reference sheet, *Smelter Look-up* (hidden in the RMI's files): one row per
look-up name with A the metal, B the look-up name, C the standard smelter name, D the
country and E the smelter identification number (the columns after it, source and
address, are never read). Excel saves the computed values with the formulas; a file saved
by a tool that computes no formulas (openpyxl, LibreOffice without recalculation) keeps
the formulas alone. Such a cell is resolved as the template's formula would resolve it,
from the same reference sheet: by the typed identification number, else by the metal and
look-up name. A typed value always stands, and the reference sheet is read only when a row
needs it, so a file Excel saved never has it read.

A row that names no metal even so (an identification number the reference does not
list) is refused as before, naming the number.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from loaders.cmrt_layout import SMELTER_COLUMNS, SMELTER_HEADER_ROW
from loaders.cmrt_sheets import REFERENCE_SHEET, Sheet, SheetProblem

__all__ = ["NOT_IDENTIFIED", "NOT_LISTED", "REFERENCE_SHEET", "RMI_ID", "Smelter",
           "SmelterReference", "read_smelter_list"]

NOT_IDENTIFIED = "smelter not yet identified"
NOT_LISTED = "smelter not listed"
RMI_ID = re.compile(r"^[A-Z]{2,5}\d{4,8}$")  # e.g. CID000292
# the reference sheet's columns A-E, named as the Smelter List cells they fill
REFERENCE_COLUMNS = ("metal", "lookup", "name", "country", "smelter_id")


@dataclass(frozen=True)
class Smelter:
    """One row of the Smelter List; without `smelter_id` it is unidentified (without a
    name too: "smelter not yet identified")."""

    row: int
    metal: str
    name: str | None
    smelter_id: str | None  # the RMI smelter id, when the row has one
    country: str | None  # as the template spells it (a country name)


class SmelterReference:
    """The template's smelter reference sheet, by identification number and by (metal,
    look-up name); rows without an RMI id (the "Smelter not listed" choices) are left
    out. The first row of an id wins, as a look-up formula's match does."""

    def __init__(self, sheet: Sheet | None) -> None:
        self.present = sheet is not None
        self._by_id: dict[str, list[dict[str, str | None]]] = {}
        self._by_lookup: dict[tuple[str, str], dict[str, str | None]] = {}
        if sheet is not None:
            self._index(sheet)

    def _index(self, sheet: Sheet) -> None:
        for row in range(1, sheet.rows + 1):
            cells = {key: sheet.text(row, column) for column, key in enumerate(REFERENCE_COLUMNS)}
            smelter_id, metal, lookup = cells["smelter_id"], cells["metal"], cells["lookup"]
            if smelter_id is None or metal is None or not RMI_ID.match(smelter_id):
                continue  # the header row, a choice without an id
            self._by_id.setdefault(smelter_id.upper(), []).append(cells)
            if lookup is not None:
                self._by_lookup.setdefault((metal.lower(), lookup.lower()), cells)

    def find(self, cells: dict[str, str | None]) -> dict[str, str | None] | None:
        """The reference row a Smelter List row's look-up formulas read: by its typed id
        (of its own metal where it has typed one), else by its metal and look-up name."""
        metal = (cells.get("metal") or "").lower()
        if typed_id := cells.get("input_id"):
            listed = self._by_id.get(typed_id.upper(), [])
            return next((r for r in listed if (r["metal"] or "").lower() == metal),
                        listed[0] if listed else None)
        lookup = (cells.get("lookup") or "").lower()
        return self._by_lookup.get((metal, lookup)) if metal and lookup else None


def read_smelter_list(
    sheet: Sheet, reference: Callable[[], Sheet | None]
) -> tuple[list[Smelter], list[SheetProblem], list[str]]:
    """(smelters, rows refused, notes) of the Smelter List; `reference` reads the
    template's reference sheet, called once, only if a row has a look-up formula without
    a cached value."""
    smelters: list[Smelter] = []
    problems: list[SheetProblem] = []
    table: SmelterReference | None = None
    resolved = 0
    for row in range(SMELTER_HEADER_ROW + 1, sheet.rows + 1):
        cells = {key: sheet.text(row, column) for key, column in SMELTER_COLUMNS.items()}
        if not any(cells.values()):
            continue  # an empty row, or the template's formulas waiting for input
        uncached = {key for key, column in SMELTER_COLUMNS.items() if sheet.uncached(row, column)}
        why = None
        if uncached:
            table = table or SmelterReference(reference())
            found = table.find(cells)
            if found is not None:
                cells |= {key: value for key, value in found.items() if key in uncached}
                resolved += 1
            else:
                why = _not_found(cells, table)
        smelter = _smelter(row, cells, problems, why)
        if smelter is not None:
            smelters.append(smelter)
    notes = [f"{resolved} smelter rows were filled from the template's {REFERENCE_SHEET!r} "
             "sheet (the file carries no computed look-up values)"] if resolved else []
    return smelters, problems, notes


def _not_found(cells: dict[str, str | None], table: SmelterReference) -> str | None:
    if not (typed_id := cells.get("input_id")):
        return None
    if not table.present:
        return f"the workbook has no {REFERENCE_SHEET!r} sheet to look {typed_id} up in"
    return f"{typed_id} is not in the template's {REFERENCE_SHEET!r} sheet"


def _smelter(row: int, cells: dict[str, str | None], problems: list[SheetProblem],
             why: str | None) -> Smelter | None:
    """The smelter of one row; None with a problem when there is none."""
    smelter_id = next((v for k in ("smelter_id", "input_id")
                       if (v := cells.get(k)) and RMI_ID.match(v)), None)
    lookup = (cells.get("lookup") or "").lower()
    name = cells.get("name") or (cells.get("lookup") if lookup not in (
        "", NOT_LISTED, NOT_IDENTIFIED) else None)
    problem = None
    if not cells.get("metal"):
        problem = ("metal", "no metal" + (f" ({why})" if why else ""))
    elif smelter_id is None and name is None and lookup != NOT_IDENTIFIED:
        problem = ("smelter_name", "no smelter name or identification number")
    if problem is not None:
        problems.append(SheetProblem("Smelter List", row, *problem))
        return None
    return Smelter(row, str(cells["metal"]).title(), name, smelter_id, cells.get("country"))
