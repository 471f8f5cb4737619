"""The registry's service functions against the in-memory fakes (no database): what a
caller of the API would see, one layer down."""

from __future__ import annotations

import pytest

from api_tests.fakes import FakeGraph
from graph_models.models import Company, SupplyLink
from service.http.errors import Conflict, InvalidField, NotFound
from service.registry import service
from service.registry.schemas import CompanyPut, CompanyUpdate

FOCAL = Company(id="focal-jp", name="Focal Electronics", country="JP")
ACME = Company(id="acme-tier1", name="ACME Components", country="CN")


@pytest.fixture
def graph() -> FakeGraph:
    graph = FakeGraph()
    graph.upsert_companies([FOCAL, ACME])
    return graph


def test_a_second_create_of_one_id_is_a_conflict_naming_id(graph: FakeGraph) -> None:
    with pytest.raises(Conflict) as refused:
        service.create_company(store=graph, company=FOCAL)
    assert refused.value.field == "id"
    assert graph.get_company("focal-jp") == FOCAL


def test_put_tells_created_from_replaced(graph: FakeGraph) -> None:
    body = CompanyPut(name="Beta Metal Works", country="MY")
    assert service.put_company(store=graph, company_id="beta-tier2", body=body)[1] is True
    renamed = CompanyPut(name="Beta Metal Works Sdn Bhd", country="MY")
    company, created = service.put_company(store=graph, company_id="beta-tier2", body=renamed)
    assert (company.name, created) == ("Beta Metal Works Sdn Bhd", False)


def test_patch_keeps_what_it_does_not_name_and_refuses_a_null_name(graph: FakeGraph) -> None:
    patched = service.patch_company(store=graph, company_id="acme-tier1",
                                    body=CompanyUpdate(tags=["tier1"]))
    assert (patched.name, patched.country, patched.tags) == (ACME.name, "CN", ["tier1"])
    with pytest.raises(InvalidField) as refused:
        service.patch_company(store=graph, company_id="acme-tier1",
                              body=CompanyUpdate.model_validate({"name": None}))
    assert refused.value.field == "name"


def test_a_company_with_links_is_deleted_only_by_force(graph: FakeGraph) -> None:
    service.add_link(store=graph, link=SupplyLink(buyer_id="focal-jp", supplier_id="acme-tier1"))
    with pytest.raises(Conflict):
        service.delete_company(store=graph, company_id="acme-tier1", force=False)
    service.delete_company(store=graph, company_id="acme-tier1", force=True)
    assert graph.list_links() == []
    with pytest.raises(NotFound):
        service.get_company(store=graph, company_id="acme-tier1")


def test_a_link_to_an_unknown_company_names_the_field(graph: FakeGraph) -> None:
    with pytest.raises(InvalidField) as refused:
        service.add_link(store=graph, link=SupplyLink(buyer_id="focal-jp", supplier_id="ghost"))
    assert refused.value.field == "supplier_id"
    assert graph.revision() == 1  # the seed only: nothing was written


def test_adding_a_link_twice_is_new_once(graph: FakeGraph) -> None:
    link = SupplyLink(buyer_id="focal-jp", supplier_id="acme-tier1")
    assert service.add_link(store=graph, link=link)[1] is True
    assert service.add_link(store=graph, link=link)[1] is False
    assert graph.revision() == 2


def test_pages_of_companies_follow_their_cursor(graph: FakeGraph) -> None:
    graph.upsert_companies([Company(id=f"sup-{n}", name=f"Supplier {n}") for n in range(5)])
    seen, cursor = [], None
    while True:
        page = service.list_companies(store=graph, kind=None, country=None, q=None, limit=3,
                                      cursor=cursor)
        seen += [company.id for company in page.items]
        if (cursor := page.next_cursor) is None:
            break
    assert seen == sorted(graph.companies)
    with pytest.raises(InvalidField):
        service.list_companies(store=graph, kind=None, country=None, q=None, limit=3,
                               cursor="not-a-cursor")
