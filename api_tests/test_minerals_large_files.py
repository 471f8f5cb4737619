"""A large supplier's CMRT (issues 18 and 22): a template file listing more smelters than a
posted answer's evidence may hold imports whole, on both stores; the declaration an import
builds has its own bound (`max_declaration_bytes`), and what clients post keeps theirs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from api_tests.cmrt_workbooks import SmelterRow, Template, build
from api_tests.conftest import signed_in, warmed
from api_tests.test_minerals_rollup import seed
from service.app import create_app
from service.config.settings import Settings
from service.store.port import CascadeStore

SMELTERS = 1_500
NAMES = ("Jiangxi Tungsten Industry Co., Ltd.", "Ningxia Orient Tantalum Industry Co., Ltd.",
         "Yunnan Tin Company Limited", "Shandong Zhaojin Gold & Silver Refinery Co., Ltd.")
METALS = ("Tungsten", "Tantalum", "Tin", "Gold")


def many_smelters(count: int = SMELTERS) -> list[SmelterRow]:
    """`count` identified smelters, as a large supplier's consolidated list has them."""
    return [SmelterRow(METALS[n % 4], typed_id=f"CID{100_000 + n:06d}",
                       lookup="Smelter not listed", name=f"{NAMES[n % 4]} plant {n}",
                       country="CHINA") for n in range(count)]


def upload(client: TestClient, data: bytes) -> Any:
    return client.post("/v1/imports", data={
        "kind": "cmrt", "request_id": "minerals", "company_id": "alpha"},
        files={"file": ("alpha.xlsx", data)})


def smelter_list(client: TestClient) -> list[dict[str, Any]]:
    """The consolidated smelter list of the focal company, every page."""
    rows: list[dict[str, Any]] = []
    query: dict[str, Any] = {"limit": 1000}
    while True:
        page = client.get("/v1/requests/minerals/minerals/smelters", params=query).json()
        rows += page["items"]
        if page["next_cursor"] is None:
            return rows
        query["cursor"] = page["next_cursor"]


def test_a_file_of_1500_smelters_imports_whole_and_the_smelter_list_shows_them(
    client: TestClient,
) -> None:
    seed(client)
    response = upload(client, build(Template(company="Alpha", smelters=many_smelters())))
    assert response.status_code == 200, response.text[:500]
    assert response.json()["sections"]["companies"]["created"] == SMELTERS
    listed = smelter_list(client)
    assert {row["smelter_id"] for row in listed} == {
        f"CID{100_000 + n:06d}" for n in range(SMELTERS)}
    assert {(row["tier"], row["declaring_suppliers"]) for row in listed} == {(1, 1)}
    [answer] = client.get("/v1/acknowledgements", params={"request_id": "minerals"}).json()
    evidence = answer["evidence"]
    assert evidence["smelters"] == len(evidence["smelter_list"]) == SMELTERS
    assert len(json.dumps(evidence)) > 64 * 1024  # beyond what a client may post
    declared = client.get("/v1/requests/minerals/minerals/declaration").json()
    assert declared["templates"][0]["smelters"] == SMELTERS


@pytest.fixture
def small_declarations(store: CascadeStore) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(max_declaration_bytes=50_000), store=store)) as client:
        yield signed_in(warmed(client))


def test_a_declaration_beyond_its_bound_loads_nothing_naming_the_evidence(
    small_declarations: TestClient,
) -> None:
    seed(small_declarations)
    response = upload(small_declarations, build(Template(company="Alpha",
                                                         smelters=many_smelters())))
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["field"] == "acknowledgements[1].evidence"
    assert "at most 50,000 are kept" in error["message"]
    assert small_declarations.get("/v1/companies/CID100000").status_code == 404


def test_a_page_bound_too_small_for_the_largest_answer_is_refused_at_start() -> None:
    with pytest.raises(ValidationError, match="max_page_bytes"):
        Settings(max_page_bytes=512 * 1024)
    roomy = Settings(max_declaration_bytes=4_000_000, max_page_bytes=4_100_000)
    assert roomy.max_declaration_bytes == 4_000_000
