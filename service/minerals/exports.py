"""The reconciliation as CSV or as a workbook, written as the gaps exports are (text a
spreadsheet would run as a formula is written as text: `service.coverage.exports`)."""

from __future__ import annotations

import csv
import io

from openpyxl import Workbook

from service.coverage.exports import _csv_row, _fill, _xlsx_value
from service.minerals.schemas import ReconciliationPage

__all__ = ["COLUMNS", "reconciliation_csv", "reconciliation_xlsx"]

COLUMNS = ("request_id", "company_id", "template", "metal", "kind", "declared", "cascade",
           "detail")


def _rows(page: ReconciliationPage) -> list[tuple[str, ...]]:
    return [(page.request_id, r.company_id, r.template, r.metal, r.kind, r.declared, r.cascade,
             r.detail) for r in page.items]


def reconciliation_csv(page: ReconciliationPage) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    writer.writerows(_csv_row(row) for row in _rows(page))
    return out.getvalue().encode("utf-8-sig")


def reconciliation_xlsx(page: ReconciliationPage) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Reconciliation"
    _fill(sheet, COLUMNS, [tuple(_xlsx_value(v) for v in row) for row in _rows(page)])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
