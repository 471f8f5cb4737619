"""A CMRT / EMRT declaration as rows to load: the reporting company's answer to a
conflict-minerals request, and its smelters as raw-material suppliers.

- The reporting company is the one given by id; else the company whose id is the
  declaration's *Company Unique ID*; else the only company whose name is the declaration's
  company name (case and spacing aside); else the import is refused.
- The request must exist and be about `conflict_minerals`.
- The declaration becomes one `accepted` acknowledgement of the request by the reporting
  company, dated the declaration's effective date (midnight UTC; now when it has none or
  it lies ahead), with the declaration as evidence: document name, template and revision,
  company information and contact, every per-metal answer, every company-level answer,
  the number of smelters. Loading the same dated workbook again changes nothing.
- Each smelter becomes a company of kind `smelter` (id: its RMI smelter id; without one
  ``smelter-<name>[-<country code>]``; the metals it is listed for as tags; the country
  as an ISO code where the template's country name is one) linked as a supplier of the
  reporting company with category `raw_materials`. Smelters already stored are kept as
  they are; a smelter listed twice is one company. A "smelter not yet identified" row
  becomes no company, but stays in the evidence's smelter list.
- The evidence keeps the whole smelter list as rows `[metal, name, RMI id, country as
  written, company id]` (`smelter_list`), which the minerals roll-up consolidates. So it
  is bounded by the import's own `max_declaration_bytes` (sized for the template's 10,000
  smelter rows), not by the `max_evidence_bytes` of a posted answer.
- An EMRT is dated one second after the effective date's midnight, so that a supplier's
  CMRT and EMRT of the same day are two answers (an answer's identity is its request,
  company, status and time).
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from graph_models.models import Company, CompanyKind, utc_now
from loaders.cmrt import Declaration, Smelter
from loaders.countries import country_code
from loaders.importer import RowProblem
from loaders.tabular import FileError, SourceRow
from service.store.port import CascadeStore

__all__ = ["cmrt_rows", "reporting_company", "smelter_company_id"]

MINERALS_TOPIC = "conflict_minerals"
SMELTER_CATEGORY = "raw_materials"


def cmrt_rows(
    store: CascadeStore,
    declaration: Declaration,
    *,
    request_id: str,
    company_id: str | None = None,
    document: str | None = None,
) -> tuple[list[SourceRow], list[RowProblem], list[str]]:
    """(rows to load, rows refused while reading, notes) of a declaration."""
    _require_request(store, request_id)
    reporter = reporting_company(store, declaration, company_id)
    notes = [f"{declaration.template} {declaration.version} of "
             f"{declaration.company['name']!r}, recorded for company {reporter!r}",
             *declaration.notes]
    smelters = _smelters_by_id(declaration.smelters, reporter, notes)
    known = store.existing_company_ids(smelters) if smelters else set()
    if known:
        notes.append(f"{len(known)} smelters already stored were kept as they are")
    rows = [_company_row(sid, listed) for sid, listed in smelters.items() if sid not in known]
    rows += [SourceRow("links", listed[0].row, {"buyer_id": reporter, "supplier_id": sid,
                                                "category": SMELTER_CATEGORY})
             for sid, listed in smelters.items()]
    rows.append(SourceRow("acknowledgements", 1, _answer(
        declaration, request_id, reporter, document, len(smelters))))
    rows[-1].fields["evidence"]["smelter_list"] = [
        [s.metal, s.name, s.smelter_id, s.country,
         smelter_company_id(s) if s.smelter_id or s.name else None]
        for s in declaration.smelters]
    problems = [RowProblem(p.sheet, p.row, p.field, p.message) for p in declaration.problems]
    return rows, problems, notes


def _require_request(store: CascadeStore, request_id: str) -> None:
    request = store.get_request(request_id)
    if request is None:
        raise FileError(f"unknown request {request_id!r}", field="request_id")
    if request.topic != MINERALS_TOPIC:
        raise FileError(f"request {request_id!r} is about {request.topic!r}, not "
                        f"{MINERALS_TOPIC}", field="request_id")


def reporting_company(
    store: CascadeStore, declaration: Declaration, company_id: str | None
) -> str:
    """The id of the company the declaration is recorded for (see the module doc)."""
    if company_id is not None:
        if not store.existing_company_ids([company_id]):
            raise FileError(f"unknown company {company_id!r}", field="company_id")
        return company_id
    unique_id = declaration.company.get("unique_id")
    if unique_id and store.existing_company_ids([unique_id]):
        return unique_id
    name = declaration.company["name"]
    named = _companies_named(store, name)
    if len(named) == 1:
        return named[0]
    if not named:
        raise FileError(f"no company is named {name!r} (the declaration's company): give "
                        "the company id", field="company_id")
    raise FileError(f"{len(named)} companies are named {name!r}: give the company id",
                    field="company_id")


def _same_name(a: str, b: str) -> bool:
    return " ".join(a.casefold().split()) == " ".join(b.casefold().split())


def _companies_named(store: CascadeStore, name: str) -> list[str]:
    """Ids of the companies called `name`, paging through the store's name search."""
    found: list[str] = []
    after = None
    while True:
        page = store.list_companies(q=name.strip(), limit=1000, after=after)
        found += [c.id for c in page if _same_name(c.name, name)]
        if len(page) < 1000:
            return found
        after = page[-1].id


def smelter_company_id(smelter: Smelter) -> str:
    """The RMI smelter id, else one made of the name (and the country's code).

    >>> smelter_company_id(Smelter(5, "Tin", "PT Timah Tbk", None, "Indonesia"))
    'smelter-pt-timah-tbk-id'
    """
    if smelter.smelter_id:
        return smelter.smelter_id
    stem = re.sub(r"[\W_]+", "-", (smelter.name or "").casefold()).strip("-")
    code = _country_code(smelter.country)
    return f"smelter-{stem}" + (f"-{code.lower()}" if code else "")


def _country_code(country: str | None) -> str | None:
    """ISO alpha-2 of a country name or code, None when it is not one."""
    return country_code(country)


def _smelters_by_id(
    smelters: list[Smelter], reporter: str, notes: list[str]
) -> dict[str, list[Smelter]]:
    """The listed smelters by company id (a smelter listed for two metals is one)."""
    grouped: defaultdict[str, list[Smelter]] = defaultdict(list)
    for smelter in smelters:
        if smelter.smelter_id is None and smelter.name is None:
            notes.append(f"Smelter List row {smelter.row}: smelter not yet identified, "
                         "listed in the evidence only")
            continue
        sid = smelter_company_id(smelter)
        if sid == reporter:  # a smelter declaring itself, as the templates ask
            notes.append(f"Smelter List row {smelter.row}: the reporting company itself")
        else:
            grouped[sid].append(smelter)
    return dict(grouped)


def _company_row(company_id: str, listed: list[Smelter]) -> SourceRow:
    first = listed[0]
    identifiers = {"rmi_smelter_id": first.smelter_id} if first.smelter_id else {}
    if first.country:
        identifiers["country_name"] = first.country
    company = Company(
        id=company_id, name=first.name or company_id, country=_country_code(first.country),
        kind=CompanyKind.smelter, identifiers=identifiers,
        tags=sorted({s.metal.casefold() for s in listed}),
    )
    return SourceRow("companies", first.row, company.model_dump(mode="json"))


def _answer(
    declaration: Declaration, request_id: str, company_id: str, document: str | None,
    smelters: int,
) -> dict[str, Any]:
    return {
        "request_id": request_id,
        "company_id": company_id,
        "status": "accepted",
        "at": _answered_at(declaration.effective_date, declaration.template).isoformat(),
        "evidence": _evidence(declaration, document, smelters),
    }


def _answered_at(effective: date | None, template: str) -> datetime:
    now = utc_now()
    if effective is None:
        return now
    later = timedelta(seconds=1 if template == "EMRT" else 0)
    return min(datetime.combine(effective, time(0), tzinfo=UTC) + later, now)


def _evidence(declaration: Declaration, document: str | None, smelters: int) -> dict[str, Any]:
    """The declaration, as the acknowledgement's evidence."""
    evidence: dict[str, Any] = {
        "document": document,
        "template": declaration.template,
        "template_version": declaration.version,
        "language": declaration.language,
        "company": declaration.company,
        "effective_date": (declaration.effective_date.isoformat()
                           if declaration.effective_date else None),
        "answers": [_drop_none(vars(a)) for a in declaration.answers],
        "company_answers": [_drop_none(vars(a)) for a in declaration.company_answers],
        "smelters": smelters,
    }
    return _drop_none(evidence)


def _drop_none(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}
