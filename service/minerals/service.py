"""Service functions of the minerals roll-up: read the request's files and its supplier
graph, answer with `service.minerals.rollup`."""

from __future__ import annotations

from service.http.pagination import decode_offset, encode_cursor
from service.minerals import rollup
from service.minerals.files import (
    latest_files,
    require_company,
    require_minerals_request,
    supply_of,
)
from service.minerals.schemas import (
    DeclarationRead,
    QuestionRead,
    ReconciliationPage,
    ReconciliationRow,
    SmelterPage,
    SmelterRead,
    SourceRead,
    TemplateDeclarationRead,
)
from service.store.port import CascadeStore

__all__ = ["declaration", "reconciliation", "smelters"]


def _context(store: CascadeStore, request_id: str, company: str | None) -> tuple[
        str, rollup.Supply, dict[tuple[str, str], rollup.MineralFile]]:
    request = require_minerals_request(store, request_id)
    supply = supply_of(store.load_network(), request)
    focal = company or request.issuer_id
    require_company(supply, focal)
    return focal, supply, latest_files(store, request_id)


def smelters(*, store: CascadeStore, request_id: str, company: str | None, metal: str | None,
             limit: int, cursor: str | None) -> SmelterPage:
    focal, supply, files = _context(store, request_id, company)
    lines = rollup.consolidated_smelters(files, supply, focal, metal)
    start = decode_offset(cursor)
    page = lines[start:start + limit]
    items = [SmelterRead(metal=s.metal, smelter_id=s.smelter_id, name=s.name, country=s.country,
                         company_id=s.company_id, declaring_suppliers=len(s.suppliers),
                         tier=s.tier, unidentified=s.unidentified) for s in page]
    more = start + limit < len(lines)
    return SmelterPage(request_id=request_id, company_id=focal, items=items,
                       next_cursor=encode_cursor(start + limit) if more else None)


def declaration(*, store: CascadeStore, request_id: str, company: str | None) -> DeclarationRead:
    focal, supply, files = _context(store, request_id, company)
    lines = rollup.consolidated_smelters(files, supply, focal)
    templates = []
    for rolled in rollup.declaration_of(files, supply, focal):
        metals = {m.casefold() for m in rolled.metals}
        listed = [s for s in lines if s.metal.casefold() in metals]
        templates.append(TemplateDeclarationRead(
            template=rolled.template, version=rolled.version, metals=rolled.metals,
            relevant_suppliers=rolled.relevant, responded=len(rolled.sources),
            missing=rolled.missing,
            questions=[QuestionRead(number=q.number, key=q.key, question=q.wording,
                                    answers=rolled.answers[q.key])
                       for q in rolled.layout.questions],
            sources=[SourceRead(company_id=f.company_id, template=f.template, version=f.version,
                                document=f.document, at=f.at) for f in rolled.sources],
            smelters=len(listed), unidentified_smelters=sum(s.unidentified for s in listed)))
    return DeclarationRead(request_id=request_id, company_id=focal, templates=templates)


def reconciliation(*, store: CascadeStore, request_id: str) -> ReconciliationPage:
    _, supply, files = _context(store, request_id, None)
    rows = [ReconciliationRow(**vars(c)) for c in rollup.reconcile(files, supply)]
    return ReconciliationPage(request_id=request_id, items=rows)
