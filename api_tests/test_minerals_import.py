"""CMRT / EMRT files as suppliers' tools save them: read by the template's revision and cell
positions (labels are formulas over the template's translations), every per-metal answer
kept, every country name of the template mapped, unidentified smelters kept."""

from __future__ import annotations

import io
from datetime import date, datetime

import pytest
from openpyxl import Workbook

from api_tests.cmrt_workbooks import SmelterRow, Template, build, template_countries
from loaders.cmrt import read_cmrt
from loaders.countries import country_code

TIMAH = SmelterRow("Tin", typed_id="CID001482", lookup="Smelter not listed",
                   name="PT Timah Tbk Mentok", country="INDONESIA")
UNKNOWN_TIN = SmelterRow("Tin", lookup="Smelter not yet identified")


@pytest.mark.parametrize("labels", ["English", "formulas", "日本語"])
def test_a_file_without_cached_labels_or_in_another_language_reads_the_same(
    labels: str
) -> None:
    spec = Template(labels=labels, language="English" if labels != "日本語" else labels,
                    answers={(6, "Tin"): "Greater than 75%"}, smelters=[TIMAH, UNKNOWN_TIN])
    declaration = read_cmrt(build(spec))
    assert (declaration.template, declaration.version) == ("CMRT", "6.5")
    assert declaration.company["name"] == "Acme PCB Co., Ltd."
    assert declaration.company["contact_email"] == "aiko@acme-pcb.example"
    assert len(declaration.answers) == 8 * 4
    share = [a for a in declaration.answers if a.question == 6 and a.metal == "Tin"]
    assert share[0].answer == "Greater than 75%"
    assert [(s.smelter_id, s.name) for s in declaration.smelters] == [
        ("CID001482", "PT Timah Tbk Mentok"), (None, None)]


def test_the_template_is_told_by_its_revision_when_no_title_reads() -> None:
    declaration = read_cmrt(build(Template(template="EMRT", version="2.1", labels="formulas")))
    assert (declaration.template, declaration.version) == ("EMRT", "2.1")
    assert {a.metal for a in declaration.answers} == {
        "Cobalt", "Copper", "Graphite", "Lithium", "Mica", "Nickel"}
    assert len(declaration.answers) == 7 * 6


def test_emrt_company_question_c_keeps_an_answer_per_mineral() -> None:
    spec = Template(template="EMRT", version="2.1", mineral_answers={
        ("C", "Cobalt"): "Yes", ("C", "Mica"): "No"})
    answers = read_cmrt(build(spec)).company_answers
    question_c = {a.metal: a.answer for a in answers if a.question == "C"}
    assert question_c["Cobalt"] == "Yes" and question_c["Mica"] == "No"
    assert len(question_c) == 6
    assert [a.question for a in answers if a.metal is None] == list("ABDEFG")


def test_every_country_name_of_the_template_maps_to_its_country() -> None:
    names = template_countries()
    assert len(names) == 249
    unmapped = {code: name for code, name in names.items() if country_code(name) != code}
    assert unmapped == {}


@pytest.mark.parametrize(("name", "code"), [
    ("CONGO, DEMOCRATIC REPUBLIC OF THE", "CD"), ("Bolivia", "BO"), ("Turkey", "TR"),
    ("Türkiye", "TR"), ("China", "CN"), ("  viet nam ", "VN"), ("JP", "JP"), ("Atlantis", None),
])
def test_country_names_as_suppliers_write_them(name: str, code: str | None) -> None:
    assert country_code(name) == code


def rmi_positions(revision: str, cells: dict[str, object]) -> bytes:
    """A workbook with values only at the given Declaration cells, as the RMI's own files
    place them (not through `loaders.cmrt_layout`: the positions are the templates')."""
    book = Workbook()
    sheet = book.active
    sheet.title = "Declaration"
    sheet["B4"] = f"Revision {revision}"
    for coordinate, value in cells.items():
        sheet[coordinate] = value
    book.create_sheet("Smelter List")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_cmrt_is_read_where_the_rmi_template_keeps_its_cells() -> None:
    # CMRT 6.x: company name D8, effective date D22, question 2 from row 31 (tantalum in
    # D32), question 6 from row 55, company question A in D75, H in D89
    declaration = read_cmrt(rmi_positions("6.22", {
        "D8": "Acme", "D15": "Aiko Sato", "D22": datetime(2026, 3, 1), "D32": "Yes",
        "D57": 1, "D75": "Yes", "G77": "https://acme.example", "D89": "No"}))
    assert declaration.company == {"name": "Acme", "contact_name": "Aiko Sato"}
    assert declaration.effective_date == date(2026, 3, 1)
    answers = {(a.question, a.metal): a.answer for a in declaration.answers if a.answer}
    assert answers == {(2, "Tantalum"): "Yes", (6, "Tin"): "100%"}  # 6.22's 100% is the 1
    company = {a.question: (a.answer, a.comment) for a in declaration.company_answers}
    assert (company["A"], company["B"], company["H"]) == (
        ("Yes", None), (None, "https://acme.example"), ("No", None))


def test_an_emrt_2_is_read_where_the_rmi_template_keeps_its_cells() -> None:
    # EMRT 2.x: company fields from row 16 (effective date D26), question 5 from row 77
    # (cobalt in D78), company question C from row 119 (cobalt in D120), G in D137
    declaration = read_cmrt(rmi_positions("2.1", {
        "D8": "Acme", "D19": "Aiko Sato", "D26": datetime(2026, 3, 1),
        "D78": "Greater than 90%", "D120": "Yes", "D137": "Yes"}))
    assert (declaration.template, declaration.company["contact_name"]) == ("EMRT", "Aiko Sato")
    assert declaration.effective_date == date(2026, 3, 1)
    answers = {(a.question, a.metal): a.answer for a in declaration.answers if a.answer}
    assert answers == {(5, "Cobalt"): "Greater than 90%"}
    company = {(a.question, a.metal): a.answer for a in declaration.company_answers if a.answer}
    assert company == {("C", "Cobalt"): "Yes", ("G", None): "Yes"}
