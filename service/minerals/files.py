"""The imported CMRT / EMRT declarations of a request, as the minerals roll-up reads them.

An import records a declaration as the reporting company's `accepted` answer with the
declaration as evidence (`loaders.cmrt_import`), so that is where they are read from: no
store of their own. The latest answer of each company per template (CMRT, EMRT) counts.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from graph_models.models import CompanyKind, PolicyRequest
from loaders.cmrt_layout import layout_of
from service.http.errors import InvalidField, NotFound
from service.store.port import CascadeStore, Network

__all__ = ["MineralFile", "Supply", "latest_files", "require_minerals_request", "supply_of"]

TEMPLATES = ("CMRT", "EMRT")
SMELTER = str(CompanyKind.smelter)
MAX_ANSWERS = 1_000_000


@dataclass(frozen=True)
class MineralFile:
    """One company's latest imported declaration of one template."""

    company_id: str
    template: str
    version: str
    document: str | None
    at: datetime
    answers: dict[tuple[str, str], str | None]  # (question key, metal) -> answer
    metals: tuple[str, ...]  # of the template's revision
    smelters: list[list[Any]] = field(default_factory=list)  # [metal, name, id, country, cid]

    def answer(self, key: str, metal: str) -> str | None:
        return self.answers.get((key, metal))


def require_minerals_request(store: CascadeStore, request_id: str) -> PolicyRequest:
    request = store.get_request(request_id)
    if request is None:
        raise NotFound(f"request {request_id!r} not found")
    return request


def _file(company_id: str, at: datetime, evidence: dict[str, Any]) -> MineralFile | None:
    template, version = evidence.get("template"), str(evidence.get("template_version", ""))
    layout = layout_of(template, version) if template in TEMPLATES and version else None
    if layout is None:
        return None
    keys = {q.number: q.key for q in layout.questions}
    answers = {(keys[a["question"]], a["metal"]): a.get("answer")
               for a in evidence.get("answers", []) if a.get("question") in keys}
    return MineralFile(company_id, layout.template, version, evidence.get("document"), at,
                       answers, layout.metals, list(evidence.get("smelter_list", [])))


def latest_files(store: CascadeStore, request_id: str, *,
                 as_of: datetime | None = None) -> dict[tuple[str, str], MineralFile]:
    """(company, template) -> the latest imported declaration (dated by `as_of` if given)."""
    found: dict[tuple[str, str], MineralFile] = {}
    for ack in store.list_acknowledgements(request_id=request_id, limit=MAX_ANSWERS):
        if ack.status != "accepted" or not ack.evidence:  # newest first: the first counts
            continue
        if as_of is not None and ack.at > as_of:
            continue
        record = _file(ack.company_id, ack.at, ack.evidence)
        if record is not None:
            found.setdefault((record.company_id, record.template), record)
    return found


@dataclass(frozen=True)
class Supply:
    """The request's applicable supplier graph, smelters aside as suppliers to survey."""

    kinds: dict[str, str]
    suppliers: dict[str, list[str]]  # buyer -> applicable suppliers

    def relevant(self, company_id: str) -> list[str]:
        """Direct suppliers a survey is sent to: every applicable one but smelters."""
        return [s for s in self.suppliers.get(company_id, ()) if self.kinds.get(s) != SMELTER]

    def tiers(self, root: str) -> dict[str, int]:
        """Shortest link distance from `root` of every company upstream (root = 0)."""
        tiers, queue = {root: 0}, deque([root])
        while queue:
            buyer = queue.popleft()
            for supplier in self.suppliers.get(buyer, ()):
                if supplier not in tiers:
                    tiers[supplier] = tiers[buyer] + 1
                    queue.append(supplier)
        return tiers


def supply_of(network: Network, request: PolicyRequest) -> Supply:
    suppliers: dict[str, list[str]] = {}
    for buyer, supplier, category in network.links:
        if request.applies_to.applies(category, network.kinds.get(supplier, "other")):
            suppliers.setdefault(buyer, []).append(supplier)
    return Supply(network.kinds, suppliers)


def require_company(supply: Supply, company_id: str, field_name: str = "company") -> None:
    if company_id not in supply.kinds:
        raise InvalidField(f"unknown company {company_id!r}", field=field_name)


def files_of(files: dict[tuple[str, str], MineralFile], companies: Iterable[str],
             template: str) -> list[MineralFile]:
    return [f for c in companies if (f := files.get((c, template))) is not None]
