"""Where the RMI templates keep what the importer reads, by template and major revision.

Labels in the templates are formulas over a translation table (the language chosen in the
title block), so a file saved without cached values, or in another language, has no label
text to go by: rows and columns are fixed per revision instead, and questions are named by
their wording here (the response-share question is CMRT question 6 but EMRT question 5).

Positions (1-based rows, letters for columns):

- *Declaration*: the title block is rows 1-6 (the revision text, "Revision 6.5", a constant;
  the language choice in `LANGUAGE_CELL`); company information in column D, rows 8-21;
  the numbered questions from row 23, each a question row then one row per metal, answer
  in D, comment in G; the company-level questions A.. after them every second row,
  answer in D, comment in G (EMRT question C: one row per mineral below it);
- *Smelter List*: headers on row 4, one smelter per row from row 5, columns A (id input),
  B (metal), C (look-up), D (name), E (country), F (identification).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ANSWER_COLUMN", "BANDS", "COMMENT_COLUMN", "COMPANY_ROWS", "LANGUAGES",
           "LANGUAGE_CELL", "LAYOUTS", "RESPONSE_SHARE", "SMELTER_COLUMNS", "SMELTER_HEADER_ROW",
           "TEMPLATE_OF_MAJOR", "Layout", "Question", "layout_of"]

RESPONSE_SHARE = ("What percentage of relevant suppliers have provided a response to your "
                  "supply chain survey?")
# the answers of the response-share question, lowest first
BANDS = ("None", "50% or less", "Greater than 50%", "Greater than 75%", "Greater than 90%",
         "100%")
LANGUAGES = ("English", "中文", "日本語", "Français", "Deutsch", "한국어", "Português", "Español")
LANGUAGE_CELL = "D5"
COMPANY_ROWS = {"name": 8, "scope": 9, "scope_description": 10, "unique_id": 11,
                "unique_id_authority": 12, "address": 13, "contact_name": 14,
                "contact_email": 15, "contact_phone": 16, "authorizer": 17,
                "authorizer_title": 18, "authorizer_email": 19, "authorizer_phone": 20,
                "effective_date": 21}
SMELTER_HEADER_ROW = 4
SMELTER_COLUMNS = {"input_id": 0, "metal": 1, "lookup": 2, "name": 3, "country": 4,
                   "smelter_id": 5}
FIRST_QUESTION_ROW = 23
ANSWER_COLUMN, COMMENT_COLUMN = 3, 6  # D, G (0-based)


@dataclass(frozen=True)
class Question:
    """One numbered question, by its number in this template and its wording."""

    number: int
    key: str  # stable across templates: what the roll-up works with
    wording: str


@dataclass(frozen=True)
class Layout:
    template: str
    metals: tuple[str, ...]
    questions: tuple[Question, ...]
    company_questions: tuple[tuple[str, str], ...]  # (letter, wording)
    per_mineral_letters: frozenset[str] = frozenset()  # answered once per mineral

    def question_row(self, number: int) -> int:
        return FIRST_QUESTION_ROW + (number - 1) * (len(self.metals) + 1)

    def company_question_rows(self) -> dict[str, int]:
        """letter -> its row (the question's row; per-mineral answers follow it)."""
        row = self.question_row(len(self.questions) + 1) + 1
        rows: dict[str, int] = {}
        for letter, _ in self.company_questions:
            rows[letter] = row
            row += 2 + (len(self.metals) if letter in self.per_mineral_letters else 0)
        return rows

    def question(self, key: str) -> Question:
        return next(q for q in self.questions if q.key == key)


def _questions(subject: str, share: int, cahra: bool) -> tuple[Question, ...]:
    texts = [
        ("intentionally_added", f"Is any {subject} intentionally added or used in the "
                                "product(s) or in the production process?"),
        ("remains", f"Does any {subject} remain in the product(s)?"),
        ("covered_countries", f"Does any {subject} originate from the covered countries?"),
        ("cahra", f"Does any {subject} originate from Conflict-Affected and High-Risk Areas "
                  "(CAHRAs)?"),
        ("recycled_scrap", f"Does 100 percent of the {subject} (necessary to the functionality "
                           "or production of your products) originate from recycled or "
                           "scrap sources?"),
        ("response_share", RESPONSE_SHARE),
        ("smelters_identified", f"Have you identified all of the smelters supplying the "
                                f"{subject} to your company's supply chain?"),
        ("smelters_reported", "Has all applicable smelter information received by your "
                              "company been reported in this declaration?"),
    ]
    if not cahra:
        texts = [t for t in texts if t[0] not in ("covered_countries", "cahra")]
        texts.insert(2, ("cahra", f"Does any {subject} originate from Conflict-Affected "
                                  "and High-Risk Areas (CAHRAs)?"))
    assert texts[share - 1][0] == "response_share"
    return tuple(Question(n, key, text) for n, (key, text) in enumerate(texts, start=1))


_POLICY = ("A", "Do you have a policy in place that addresses {s} sourcing?"), \
    ("B", "Is your policy publicly available on your website?"), \
    ("C", "Do you require your direct suppliers to source the {s} from smelters whose due "
          "diligence practices have been validated by an independent third party audit "
          "program?"), \
    ("D", "Have you implemented due diligence measures for responsible sourcing?"), \
    ("E", "Does your company conduct a {s} survey of your relevant supplier(s)?"), \
    ("F", "Do you review due diligence information received from your suppliers against "
          "your company's expectations?"), \
    ("G", "Does your review process include corrective action management?"), \
    ("H", "Is your company required to file an annual conflict minerals disclosure?")


def _company(subject: str, letters: str) -> tuple[tuple[str, str], ...]:
    return tuple((k, f"{k}. " + t.format(s=subject)) for k, t in _POLICY if k in letters)


LAYOUTS = {
    ("CMRT", 6): Layout("CMRT", ("Tantalum", "Tin", "Gold", "Tungsten"),
                        _questions("3TG", 6, cahra=True), _company("3TG", "ABCDEFGH")),
    ("EMRT", 1): Layout("EMRT", ("Cobalt", "Mica"), _questions("of the minerals", 5, False),
                        _company("minerals", "ABCDEFG"), frozenset("C")),
    ("EMRT", 2): Layout("EMRT", ("Cobalt", "Copper", "Graphite", "Lithium", "Mica", "Nickel"),
                        _questions("of the minerals", 5, False),
                        _company("minerals", "ABCDEFG"), frozenset("C")),
}
TEMPLATE_OF_MAJOR = {6: "CMRT", 1: "EMRT", 2: "EMRT"}  # the revisions do not overlap


def layout_of(template: str, version: str) -> Layout | None:
    """The layout of a supported template revision, None for another."""
    return LAYOUTS.get((template, int(version.split(".")[0])))
