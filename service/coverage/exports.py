"""Follow-up lists for procurement: a request's gaps (and its overdue and declined
companies) as CSV or as an Excel workbook.

- *gaps*: one row per gap (an applicable link not cascaded from the issuer or an
  acknowledged company, see `GET /v1/requests/{id}/gaps`), most impactful first: the
  company responsible for closing it, the supplier it has not reached, that supplier's
  tier, the gap's impact, and the responsible company's contact fields;
- *overdue and declined* (the workbook's second sheet): the companies whose own state is
  `overdue` or `declined`, with when they were first reached, when their answer was due,
  when they answered, and their contact fields.

Contact fields are the `contact_name`, `contact_email` and `contact_phone` entries of a
company's identifiers (the company loaders fill them from columns of those names).
Contact fields are filled only for a reader allowed to read the companies
(`contacts_visible`): a viewer key, which `GET /v1/companies/{id}` refuses, gets them
empty. Timestamps are UTC. Text that a spreadsheet would run as a formula is written as
text (OWASP's CSV injection rule: a cell starting with = + - @ TAB CR or LF, also after
leading spaces and in full-width forms, gets a leading apostrophe).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from fastapi import Response
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from graph_models.engine import NEVER, STATE_CODE, ArrayAnalysis
from graph_models.models import Company, NodeState, from_epoch_us
from service.coverage.schemas import GapRead
from service.coverage.snapshot import CoverageSnapshot
from service.store.port import CascadeStore

__all__ = ["CSV", "XLSX", "FollowUp", "attachment", "contacts_visible", "follow_up", "gaps_csv",
           "gaps_xlsx"]

CSV = "text/csv; charset=utf-8"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

CONTACT_FIELDS = ("contact_name", "contact_email", "contact_phone")
GAP_COLUMNS = ("request_id", "responsible_id", "responsible_name", "responsible_country",
               *CONTACT_FIELDS, "missing_supplier_id", "missing_supplier_name",
               "missing_supplier_country", "tier", "impact")
LATE_COLUMNS = ("request_id", "company_id", "name", "country", "state", "tier",
                "first_reached_at", "due_at", "answered_at", *CONTACT_FIELDS)
# text a spreadsheet would run as a formula (OWASP: = + - @ TAB CR, and LF; spreadsheets
# skip leading spaces and read full-width signs too); a phone number (+81 3 ...) is left
FORMULA = re.compile(r"^(?:[\t\r\n]|\s*[=@\uff1d\uff20]|\s*[+\-\uff0b\uff0d](?![\d ().\-/]*$))")
CONTACT_READERS = frozenset({"admin", "procurement"})  # the roles that may read a company
BY_ONE = 200  # up to this many companies are read one by one, beyond it page by page


@dataclass(frozen=True)
class FollowUp:
    """A request's follow-up lists, as rows in the order of their columns."""

    request_id: str
    gaps: list[tuple[Any, ...]]  # GAP_COLUMNS
    late: list[tuple[Any, ...]]  # LATE_COLUMNS: overdue and declined companies


def contacts_visible(request: Any) -> bool:
    """Whether the caller of `request` may read companies' contact fields (its key's
    role may read `GET /v1/companies/{id}`)."""
    principal = getattr(request.state, "principal", None)
    return principal is not None and str(principal.role) in CONTACT_READERS


def follow_up(
    *, coverage: CoverageSnapshot, store: CascadeStore, request_id: str, as_of: datetime | None,
    contacts: bool = True,
) -> FollowUp:
    """The gaps and the overdue and declined companies of a request at `as_of` (now);
    contact fields empty unless `contacts` (see `contacts_visible`)."""
    reading = coverage.read(request_id, as_of)
    analysis = reading.analysis
    gaps = [GapRead(from_id=u, to_id=v, tier=t, impact=i) for u, v, t, i in coverage.gaps(reading)]
    late = _late_companies(analysis)
    wanted = {g.from_id for g in gaps} | {g.to_id for g in gaps} | {c for c, *_ in late}
    companies = _companies(store, wanted)
    if not contacts:
        companies = {cid: c.model_copy(update={"identifiers": {}}) for cid, c in companies.items()}
    gap_rows = [(request_id, *_who(companies, g.from_id), *_contact(companies, g.from_id),
                 g.to_id, *_who(companies, g.to_id)[1:], g.tier, g.impact) for g in gaps]
    late_rows = [(request_id, cid, *_who(companies, cid)[1:], *rest,
                  *_contact(companies, cid)) for cid, *rest in late]
    return FollowUp(request_id, gap_rows, late_rows)


def _late_companies(analysis: ArrayAnalysis) -> list[tuple[Any, ...]]:
    """(id, state, tier, first reached, due, answered) of overdue and declined companies,
    overdue first, then by tier and id."""
    scope, request = analysis.scope, analysis.scope.request
    rows = []
    for state in (NodeState.overdue, NodeState.declined):
        for company in np.flatnonzero(analysis.state == STATE_CODE[state]):
            first = int(analysis.first[company])
            reached = None if first == NEVER else from_epoch_us(first)
            due = reached + timedelta(days=request.due_days) if reached else None
            rows.append((scope.network.ids[company], state.value, int(scope.tier[company]),
                         reached, due, _answered_at(analysis, int(company))))
    return sorted(rows, key=lambda r: (r[1] != "overdue", r[2], r[0]))


def _answered_at(analysis: ArrayAnalysis, company: int) -> datetime | None:
    answer = int(analysis.answer[company])
    return None if answer < 0 else from_epoch_us(int(analysis.ledger.ack_at[answer]))


def _companies(store: CascadeStore, ids: set[str]) -> dict[str, Company]:
    """The stored companies of `ids`: one by one when few, else one pass over all."""
    if len(ids) <= BY_ONE:
        found = (store.get_company(cid) for cid in ids)
        return {c.id: c for c in found if c is not None}
    companies: dict[str, Company] = {}
    after = None
    while page := store.list_companies(limit=1000, after=after):
        companies.update((c.id, c) for c in page if c.id in ids)
        after = page[-1].id
    return companies


def _who(companies: dict[str, Company], company_id: str) -> tuple[str, str, str]:
    company = companies.get(company_id)
    if company is None:
        return company_id, "", ""
    return company_id, company.name, company.country or ""


def _contact(companies: dict[str, Company], company_id: str) -> tuple[str, ...]:
    company = companies.get(company_id)
    identifiers = company.identifiers if company is not None else {}
    return tuple(identifiers.get(f, "") for f in CONTACT_FIELDS)


# -- files ----------------------------------------------------------------------------------


def attachment(body: bytes, media_type: str, filename: str) -> Response:
    """A download of `body` named `filename` (reduced to characters safe in a header)."""
    filename = re.sub(r"[^A-Za-z0-9._-]", "_", filename)
    return Response(body, media_type=media_type,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def gaps_csv(report: FollowUp) -> bytes:
    """The gaps as CSV (UTF-8 with a byte-order mark, so spreadsheets read it right)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(GAP_COLUMNS)
    writer.writerows(_csv_row(row) for row in report.gaps)
    return out.getvalue().encode("utf-8-sig")


def _csv_row(row: Iterable[Any]) -> list[Any]:
    return [_csv_value(v) for v in row]


def _csv_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, str) and FORMULA.match(value):
        return "'" + value  # a spreadsheet must not run it
    return value


def gaps_xlsx(report: FollowUp) -> bytes:
    """The gaps and the overdue and declined companies as a workbook of two sheets."""
    workbook = Workbook()
    gaps = workbook.active
    gaps.title = "Gaps"
    _fill(gaps, GAP_COLUMNS, report.gaps)
    _fill(workbook.create_sheet("Overdue and declined"), LATE_COLUMNS, report.late)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _fill(sheet: Any, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    sheet.append(list(columns))
    for row in rows:
        sheet.append([_xlsx_value(v) for v in row])
    for cells in sheet.iter_rows(min_row=2):
        for cell in cells:
            if isinstance(cell.value, str) and FORMULA.match(cell.value):
                cell.data_type = "s"  # text, never a formula
            elif isinstance(cell.value, datetime):
                cell.number_format = "yyyy-mm-dd hh:mm"
    sheet.freeze_panes = "A2"


def _xlsx_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)  # Excel has no time zones: UTC, as the doc says
    if isinstance(value, str):  # control characters a workbook cannot hold become U+FFFD
        return ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
    return value
