"""Where the RMI templates keep what the importer reads, by template and major revision.

Labels in the templates are formulas over a translation table (the language chosen in the
title block), so a file saved without cached values, or in another language, has no label
text to go by: rows and columns are fixed per revision instead, and questions are named by
their wording here (the response-share question is CMRT question 6 but EMRT question 5).

Positions (1-based rows, letters for columns), as the RMI's files place them (where each
figure was checked is in docs/minerals.md):

- *Declaration*: the title block is rows 1-6 (the revision text, "Revision 6.5", a constant;
  the language choice in `LANGUAGE_CELL`); company information in column D
  (`Layout.company_rows`: name, scope and its description in rows 8-10, the other fields
  from row 12 in a CMRT, from row 16 in an EMRT 2.x, whose rows 12-15 choose the minerals
  in scope); each numbered question a label row in column B, then one row per metal with
  the answer in D and the comment in G (CMRT and EMRT 1.x: labels every 6 rows from row
  25; EMRT 2.x: every 12 rows from row 29); the company-level questions A.. at fixed rows
  (`Layout.company_letter_rows`), answer in D and comment in G of the label's row; EMRT
  question C has one row per mineral below its label instead;
- *Smelter List*: headers on row 4, one smelter per row from row 5, columns A (id input),
  B (metal), C (look-up), D (name), E (country), F (identification).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ANSWER_COLUMN", "BANDS", "COMMENT_COLUMN", "COMPANY_FIELDS", "LANGUAGES",
           "LANGUAGE_CELL", "LAYOUTS", "RESPONSE_SHARE", "SMELTER_COLUMNS", "SMELTER_HEADER_ROW",
           "TEMPLATE_OF_MAJOR", "Layout", "Question", "answer_of", "layout_of"]

RESPONSE_SHARE = ("What percentage of relevant suppliers have provided a response to your "
                  "supply chain survey?")
# the answers of the response-share question, lowest first
BANDS = ("None", "50% or less", "Greater than 50%", "Greater than 75%", "Greater than 90%",
         "100%")
LANGUAGES = ("English", "中文", "日本語", "Français", "Deutsch", "한국어", "Português", "Español")
LANGUAGE_CELL = "D5"
COMPANY_FIELDS = ("name", "scope", "scope_description", "unique_id", "unique_id_authority",
                  "address", "contact_name", "contact_email", "contact_phone", "authorizer",
                  "authorizer_title", "authorizer_email", "authorizer_phone", "effective_date")
SMELTER_HEADER_ROW = 4
SMELTER_COLUMNS = {"input_id": 0, "metal": 1, "lookup": 2, "name": 3, "country": 4,
                   "smelter_id": 5}
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
    company_rows: dict[str, int]  # company information field -> its row (answer in D)
    first_question_row: int  # the label row of question 1
    question_step: int  # rows from one question's label to the next one's
    company_letter_rows: dict[str, int]  # company-level question -> its label row
    per_mineral_letters: frozenset[str] = frozenset()  # answered once per mineral

    def question_row(self, number: int) -> int:
        """The label row of question `number`; its metals' answers are the rows after."""
        return self.first_question_row + (number - 1) * self.question_step

    def company_question_rows(self) -> dict[str, int]:
        """letter -> its row (a per-mineral question's answers are the rows after)."""
        return dict(self.company_letter_rows)

    def question(self, key: str) -> Question:
        return next(q for q in self.questions if q.key == key)


def answer_of(question: Question, text: str | None) -> str | None:
    """An answer as the templates' lists spell it: CMRT up to 6.22 and EMRT 1.x offer the
    response share "100%" as the number 1 in a percent-formatted cell.

    >>> answer_of(CMRT_QUESTIONS[5], "1"), answer_of(CMRT_QUESTIONS[0], "1")
    ('100%', '1')
    """
    return BANDS[-1] if question.key == "response_share" and text == "1" else text


def _company_rows(after_scope: int) -> dict[str, int]:
    """Name, scope and scope description in rows 8-10; the other fields from `after_scope`."""
    rows = [8, 9, 10, *range(after_scope, after_scope + len(COMPANY_FIELDS) - 3)]
    return dict(zip(COMPANY_FIELDS, rows, strict=True))


def _numbered(*texts: tuple[str, str]) -> tuple[Question, ...]:
    return tuple(Question(n, key, text) for n, (key, text) in enumerate(texts, start=1))


def _lettered(**texts: str) -> tuple[tuple[str, str], ...]:
    return tuple((letter, f"{letter}. {text}") for letter, text in texts.items())


# The questions as the templates word them (English labels, without the "(*)" marks).
SMELTERS_REPORTED = ("Has all applicable smelter information received by your company been "
                     "reported in this declaration?")
PROCESSORS_REPORTED = ("Has all applicable smelter or processor information received by your "
                       "company been reported in this declaration?")
CMRT_QUESTIONS = _numbered(
    ("intentionally_added", "Is any 3TG intentionally added or used in the product(s) or in "
                            "the production process?"),
    ("remains", "Does any 3TG remain in the product(s)?"),
    ("covered_countries", "Do any of the smelters in your supply chain source the 3TG from "
                          "the covered countries? (SEC term, see definitions tab)"),
    ("cahra", "Do any of the smelters in your supply chain source the 3TG from "
              "conflict-affected and high-risk areas?"),
    ("recycled_scrap", "Does 100 percent of the 3TG (necessary to the functionality or "
                       "production of your products) originate from recycled or scrap "
                       "sources?"),
    ("response_share", RESPONSE_SHARE),
    ("smelters_identified", "Have you identified all of the smelters supplying the 3TG to "
                            "your supply chain?"),
    ("smelters_reported", SMELTERS_REPORTED),
)


EMRT_1_QUESTIONS = _numbered(
    ("intentionally_added", "Is any cobalt or mica intentionally added or used in the "
                            "product(s) or in the production process?"),
    ("remains", "Does any cobalt or mica remain in the product(s)?"),
    ("cahra", "Do any of the smelters or processors in your supply chain source cobalt or mica "
              "from conflict-affected and high-risk areas? (OECD Due Diligence Guidance, see "
              "definitions tab)"),
    ("recycled_scrap", "Does 100 percent of the cobalt originate from recycled or scrap "
                       "sources?"),
    ("response_share", RESPONSE_SHARE),
    ("smelters_identified", "Have you identified all of the smelters or processors supplying "
                            "cobalt or mica to your supply chain?"),
    ("smelters_reported", PROCESSORS_REPORTED),
)
EMRT_2_QUESTIONS = _numbered(
    ("intentionally_added", "Is any of the specified mineral/metal intentionally added or "
                            "used in the product(s) or in the production process?"),
    ("remains", "Does any of the specified mineral/metal remain in the product(s)?"),
    ("cahra", "Do any of the smelters or processors in your supply chain source the specified "
              "mineral/metal from conflict-affected and high-risk areas? (OECD Due Diligence "
              "Guidance, see definitions tab)"),
    ("recycled_scrap", "Does 100 percent of the specified mineral/metal originate from "
                       "recycled or scrap sources?"),
    ("response_share", RESPONSE_SHARE),
    ("smelters_identified", "Have you identified all of the smelters or processors supplying "
                            "the specified minerals/metal to your supply chain?"),
    ("smelters_reported", PROCESSORS_REPORTED),
)

POLICY = "Have you established a responsible minerals sourcing policy?"
PUBLIC = ("Is your responsible minerals sourcing policy publicly available on your website? "
          "(Note – If yes, the user shall specify the URL in the comment field.)")
MEASURES = "Have you implemented due diligence measures for responsible sourcing?"
REVIEW = ("Do you review due diligence information received from your suppliers against your "
          "company’s expectations?")
CORRECTIVE = "Does your review process include corrective action management?"
AUDITED = ("Do you require your direct suppliers to source {} from smelters whose due "
           "diligence practices have been validated by an independent third{}party audit "
           "program{}?")

CMRT_6 = Layout(
    "CMRT", ("Tantalum", "Tin", "Gold", "Tungsten"), CMRT_QUESTIONS,
    _lettered(A=POLICY, B=PUBLIC, C=AUDITED.format("the 3TG", " ", ""), D=MEASURES,
              E="Does your company conduct Conflict Minerals survey(s) of your relevant "
                "supplier(s)?",
              F=REVIEW, G=CORRECTIVE,
              H="Is your company required to file an annual conflict minerals disclosure?"),
    _company_rows(12), 25, 6, {letter: 75 + 2 * n for n, letter in enumerate("ABCDEFGH")})
EMRT_1 = Layout(
    "EMRT", ("Cobalt", "Mica"), EMRT_1_QUESTIONS,
    _lettered(A=POLICY, B=PUBLIC,
              C=AUDITED.format("cobalt", "-", ", or mica from processors with equivalent "
                                              "qualifications"),
              D=MEASURES, E="Does your company conduct cobalt and/or mica supply chain "
                            "survey(s) of your relevant supplier(s)?",
              F=REVIEW, G=CORRECTIVE),
    _company_rows(12), 25, 6, {"A": 69, "B": 71, "C": 73, "D": 77, "E": 79, "F": 81, "G": 83},
    frozenset("C"))
EMRT_2 = Layout(
    "EMRT", ("Cobalt", "Copper", "Graphite", "Lithium", "Mica", "Nickel"),
    EMRT_2_QUESTIONS,
    _lettered(A=POLICY, B=PUBLIC, C=AUDITED.format("the specified minerals/metals", "-", ""),
              D=MEASURES, E="Does your company conduct supply chain survey(s) of your "
                            "relevant supplier(s) on the specified minerals/metals?",
              F=REVIEW, G=CORRECTIVE),
    _company_rows(16), 29, 12,
    {"A": 115, "B": 117, "C": 119, "D": 131, "E": 133, "F": 135, "G": 137}, frozenset("C"))

LAYOUTS = {("CMRT", 6): CMRT_6, ("EMRT", 1): EMRT_1, ("EMRT", 2): EMRT_2}
TEMPLATE_OF_MAJOR = {6: "CMRT", 1: "EMRT", 2: "EMRT"}  # the revisions do not overlap


def layout_of(template: str, version: str) -> Layout | None:
    """The layout of a supported template revision, None for another.

    >>> layout = layout_of("CMRT", "6.5")
    >>> layout.company_rows["name"], layout.company_rows["effective_date"]
    (8, 22)
    >>> layout.question_row(2) + 1, layout.company_question_rows()["A"]  # Q2 tantalum, A
    (32, 75)
    >>> emrt = layout_of("EMRT", "2.1")
    >>> emrt.question_row(1), emrt.company_question_rows()["C"] + 1  # Q1, C's cobalt
    (29, 120)
    """
    return LAYOUTS.get((template, int(version.split(".")[0])))
