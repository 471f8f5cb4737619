"""CMRT / EMRT files as suppliers' tools save them: read by the template's revision and cell
positions (labels are formulas over the template's translations), every per-metal answer
kept, every country name of the template mapped, unidentified smelters kept."""

from __future__ import annotations

import pytest

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
