"""The minerals roll-up on the cascade: the consolidated smelter list upstream of a
company, the company's own CMRT / EMRT declaration rolled up from its relevant direct
suppliers' files, and each supplier's declaration checked against what the cascade shows.

Rules (docs/minerals.md says why):
- relevant direct suppliers of F: its suppliers over links the request applies to, except
  smelters and refiners (kind `smelter`): they answer no survey;
- a yes/no question per metal is `Yes` when any relevant supplier answered Yes, `No` when
  every relevant supplier answered No, else `Unknown` (a supplier without a file counts as
  Unknown); "100 percent from recycled or scrap sources" and "identified all smelters"
  need every supplier's Yes (and, for the latter, no unidentified smelter listed upstream);
- the response share is the share of relevant direct suppliers with an imported file of
  the template, in the template's bands (exactly 90%, 75% or 50% falls in the lower band).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from loaders.cmrt_layout import BANDS, LAYOUTS, Layout, layout_of
from service.minerals.files import TEMPLATES, MineralFile, Supply, files_of

__all__ = ["Contradiction", "MineralFile", "SmelterLine", "Supply", "band", "band_rank",
           "consolidated_smelters", "declaration_of", "reconcile"]

DID_NOT_SURVEY = "Did not survey"
ALL_NEEDED = ("recycled_scrap", "smelters_identified")


def band(responded: int, relevant: int) -> str:
    """The response-share band of `responded` out of `relevant` (> 0) suppliers.

    >>> band(9, 10), band(10, 11), band(3, 4), band(1, 2), band(0, 3), band(4, 4)
    ('Greater than 75%', 'Greater than 90%', 'Greater than 50%', '50% or less', 'None', '100%')
    """
    if responded >= relevant:
        return "100%"
    for floor, name in ((90, BANDS[4]), (75, BANDS[3]), (50, BANDS[2])):
        if responded * 100 > floor * relevant:  # integers: exactly 90% is not "> 90%"
            return name
    return BANDS[1] if responded else BANDS[0]


def band_rank(answer: str | None) -> int | None:
    """The order of a band (None: not a band)."""
    if answer == DID_NOT_SURVEY:
        return 0
    normal = {b.casefold(): i for i, b in enumerate(BANDS)}
    return None if answer is None else normal.get(answer.strip().casefold())


# -- the smelter list -----------------------------------------------------------------------


@dataclass
class SmelterLine:
    """One consolidated smelter (per identification number and metal), or a group of
    unidentified rows (per metal, name and country)."""

    metal: str
    smelter_id: str | None
    name: str | None
    country: str | None
    company_id: str | None
    suppliers: set[str] = field(default_factory=set)
    tier: int = 0

    @property
    def unidentified(self) -> bool:
        return self.smelter_id is None


def _key(metal: str, name: Any, smelter_id: Any, country: Any) -> tuple[str, ...]:
    if smelter_id:
        return ("id", str(smelter_id), metal.casefold())
    return ("unidentified", metal.casefold(), " ".join(str(name or "").casefold().split()),
            " ".join(str(country or "").casefold().split()))


def consolidated_smelters(files: dict[tuple[str, str], MineralFile], supply: Supply,
                          company_id: str, metal: str | None = None) -> list[SmelterLine]:
    """The smelters listed in the files of the companies upstream of `company_id` (its own
    file aside), identified ones first, by metal and id."""
    lines: dict[tuple[str, ...], SmelterLine] = {}
    for declarer, tier in supply.tiers(company_id).items():
        if declarer == company_id:
            continue
        for record in files_of(files, [declarer], "CMRT") + files_of(files, [declarer], "EMRT"):
            for row_metal, name, smelter_id, country, cid in record.smelters:
                if metal is not None and str(row_metal).casefold() != metal.casefold():
                    continue
                line = lines.setdefault(_key(row_metal, name, smelter_id, country), SmelterLine(
                    row_metal, smelter_id, name, country, cid, tier=tier))
                line.suppliers.add(declarer)
                line.tier = min(line.tier, tier)
    return sorted(lines.values(), key=lambda s: (s.unidentified, s.metal, s.smelter_id or "",
                                                 s.name or "", s.country or ""))


# -- the declaration ------------------------------------------------------------------------


@dataclass
class TemplateDeclaration:
    template: str
    version: str
    layout: Layout
    metals: list[str]
    relevant: list[str]
    sources: list[MineralFile]
    answers: dict[str, dict[str, str | None]]  # question key -> metal -> answer

    @property
    def missing(self) -> list[str]:
        filed = {f.company_id for f in self.sources}
        return [c for c in self.relevant if c not in filed]


def _rolled(key: str, answers: list[str | None], relevant: int) -> str:
    said = [(a or "").strip().casefold() for a in answers]
    complete = len(said) == relevant
    if key in ALL_NEEDED:
        if "no" in said:
            return "No"
        return "Yes" if complete and relevant and all(a == "yes" for a in said) else "Unknown"
    if "yes" in said:
        return "Yes"
    return "No" if complete and relevant and all(a == "no" for a in said) else "Unknown"


def _layout(template: str, sources: list[MineralFile]) -> Layout:
    """The newest revision among the sources (the one the company's file is made of)."""
    versions = sorted((tuple(int(p) for p in f.version.split(".")), f.version) for f in sources)
    found = layout_of(template, versions[-1][1]) if versions else None
    return found or next(v for (t, _), v in reversed(LAYOUTS.items()) if t == template)


def _version(template: str, sources: list[MineralFile]) -> str:
    versions = sorted((tuple(int(p) for p in f.version.split(".")), f.version) for f in sources)
    return versions[-1][1] if versions else ("6.5" if template == "CMRT" else "2.1")


def _metals(template: str, layout: Layout, sources: list[MineralFile]) -> list[str]:
    if template == "CMRT":
        return list(layout.metals)
    # in scope: a supplier uses the mineral (question 1 answered Yes) or lists its smelters
    with_data = {m for f in sources for (key, m), a in f.answers.items()
                 if key == "intentionally_added" and (a or "").casefold() == "yes"}
    with_data |= {str(row[0]).title() for f in sources for row in f.smelters}
    return [m for m in layout.metals if m in with_data]


def _template_declaration(template: str, files: dict[tuple[str, str], MineralFile],
                          supply: Supply, company_id: str,
                          unidentified: set[str]) -> TemplateDeclaration:
    relevant = supply.relevant(company_id)
    sources = files_of(files, relevant, template)
    layout = _layout(template, sources)
    metals = _metals(template, layout, sources)
    answers: dict[str, dict[str, str | None]] = {}
    for question in layout.questions:
        per_metal: dict[str, str | None] = {}
        for metal in metals:
            if question.key == "response_share":
                per_metal[metal] = (band(len(sources), len(relevant)) if relevant else
                                    DID_NOT_SURVEY if template == "EMRT" else None)
            elif question.key == "smelters_reported":
                per_metal[metal] = "Yes" if sources else "Unknown"
            else:
                rolled = _rolled(question.key, [f.answer(question.key, metal)
                                                for f in sources], len(relevant))
                if question.key == "smelters_identified" and metal.casefold() in unidentified:
                    rolled = "No"
                per_metal[metal] = rolled
        answers[question.key] = per_metal
    return TemplateDeclaration(template, _version(template, sources), layout, metals,
                               relevant, sources, answers)


def declaration_of(files: dict[tuple[str, str], MineralFile], supply: Supply,
                   company_id: str) -> list[TemplateDeclaration]:
    """The company's CMRT declaration, and its EMRT one when a supplier filed an EMRT."""
    unidentified = {s.metal.casefold() for s in consolidated_smelters(files, supply, company_id)
                    if s.unidentified}
    found = []
    for template in TEMPLATES:
        rolled = _template_declaration(template, files, supply, company_id, unidentified)
        if template == "CMRT" or rolled.sources:
            found.append(rolled)
    return found


# -- reconciliation -------------------------------------------------------------------------


@dataclass(frozen=True)
class Contradiction:
    company_id: str
    template: str
    metal: str
    kind: str  # response_share | unidentified_smelters
    declared: str
    cascade: str
    detail: str


def _share_contradictions(record: MineralFile, files: dict[tuple[str, str], MineralFile],
                          supply: Supply) -> Iterable[Contradiction]:
    relevant = supply.relevant(record.company_id)
    if not relevant:  # the service knows none of its suppliers: nothing to compare with
        return
    filed = files_of(files, relevant, record.template)
    shown = band(len(filed), len(relevant))
    for metal in record.metals:
        declared = record.answer("response_share", metal)
        rank = band_rank(declared)
        if declared and rank is not None and rank > (band_rank(shown) or 0):
            yield Contradiction(record.company_id, record.template, metal, "response_share",
                                declared, shown, f"{len(filed)} of {len(relevant)} relevant "
                                "direct suppliers have a file recorded")


def _smelter_contradictions(record: MineralFile, files: dict[tuple[str, str], MineralFile],
                            supply: Supply) -> Iterable[Contradiction]:
    lines = consolidated_smelters(files, supply, record.company_id)
    for metal in record.metals:
        if (record.answer("smelters_identified", metal) or "").casefold() != "yes":
            continue
        open_lines = [s for s in lines if s.unidentified and s.metal.casefold() == metal.casefold()]
        if open_lines:
            listed_by = sorted({c for s in open_lines for c in s.suppliers})
            yield Contradiction(
                record.company_id, record.template, metal, "unidentified_smelters", "Yes",
                f"{len(open_lines)} unidentified", "listed by " + ", ".join(listed_by))


def reconcile(files: dict[tuple[str, str], MineralFile], supply: Supply) -> list[Contradiction]:
    """Every supplier declaration the cascade contradicts, by company, template, metal."""
    found: list[Contradiction] = []
    for _, record in sorted(files.items()):
        found += _share_contradictions(record, files, supply)
        found += _smelter_contradictions(record, files, supply)
    return found
