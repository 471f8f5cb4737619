"""Payloads of the minerals roll-up routes."""

from __future__ import annotations

from datetime import datetime

from service.http.schemas import Payload

__all__ = ["DeclarationRead", "QuestionRead", "ReconciliationPage", "ReconciliationRow",
           "SmelterPage", "SmelterRead", "SourceRead", "TemplateDeclarationRead"]


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
