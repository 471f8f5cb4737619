"""Payloads of the minerals roll-up routes."""

from __future__ import annotations

from datetime import datetime

from service.http.schemas import Payload

__all__ = ["CompanyChange", "DeclarationRead", "QuestionRead", "ReconciliationPage",
           "ReconciliationRow", "RoundChanges", "RoundRead", "RoundsRead", "SmelterPage",
           "SmelterRead", "SourceRead", "TemplateDeclarationRead"]


class SmelterRead(Payload):
    metal: str
    smelter_id: str | None
    name: str | None
    country: str | None
    company_id: str | None
    declaring_suppliers: int
    tier: int  # the smallest tier, from the company asked about, of a declaring supplier
    unidentified: bool


class SmelterPage(Payload):
    request_id: str
    company_id: str
    items: list[SmelterRead]
    next_cursor: str | None


class QuestionRead(Payload):
    number: int
    key: str
    question: str
    answers: dict[str, str | None]  # metal -> answer


class SourceRead(Payload):
    company_id: str
    template: str
    version: str
    document: str | None
    at: datetime


class TemplateDeclarationRead(Payload):
    template: str
    version: str
    metals: list[str]  # in scope
    relevant_suppliers: list[str]
    responded: int
    missing: list[str]  # relevant direct suppliers without a file
    questions: list[QuestionRead]
    sources: list[SourceRead]
    smelters: int
    unidentified_smelters: int


class DeclarationRead(Payload):
    request_id: str
    company_id: str
    templates: list[TemplateDeclarationRead]


class ReconciliationRow(Payload):
    company_id: str
    template: str
    metal: str
    kind: str  # response_share | unidentified_smelters
    declared: str
    cascade: str
    detail: str


class ReconciliationPage(Payload):
    request_id: str
    items: list[ReconciliationRow]


class CompanyChange(Payload):
    count: int
    ids: list[str]  # the first ones by id (at most `ROUND_IDS_SHOWN`)


class RoundChanges(Payload):
    """Companies covered in this round but not in the one before, and the reverse."""

    newly_covered: CompanyChange
    lost: CompanyChange


class RoundRead(Payload):
    """One round of a survey, evaluated at its latest instant: when the next round was
    issued (the last round: `as_of`, default now)."""

    request_id: str
    version: str
    issued_at: datetime
    at: datetime
    counts: dict[str, int]
    coverage_ratio: float
    gaps: int
    uncovered_paths: int
    overdue: int
    answered_share: float | None  # reached companies that accepted or declined
    response_band: dict[str, str | None] | None  # minerals: the issuer's rolled-up band
    changes: RoundChanges | None  # against the round before (None for the first)


class RoundsRead(Payload):
    request_id: str
    rounds: list[RoundRead]
