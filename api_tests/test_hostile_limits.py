"""Hostile input (issue 18), what the first suite (`test_hostile_input.py`) left: pages of
answers bounded in bytes, the audit trail of refused strangers bounded, ids with edge
spaces in files, a missing Neo4j database. API cases run on both stores."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api_tests.conftest import bearer, require_neo4j, signed_in, warmed
from api_tests.test_api_batches import seed_chain
from service.app import create_app
from service.cli import main as cli
from service.config.settings import Settings
from service.integrations.client import CascadeClient
from service.store.port import CascadeStore

PAGE_BYTES = 200_000


@pytest.fixture
def small_pages(store: CascadeStore) -> Iterator[TestClient]:
    app = create_app(Settings(max_page_bytes=PAGE_BYTES, max_declaration_bytes=PAGE_BYTES // 2),
                     store=store)
    with TestClient(app) as client:
        yield signed_in(warmed(client))


def answer(n: int, note: int) -> dict[str, Any]:
    return {"request_id": "reach-1", "company_id": "acme-pcb", "status": "received",
            "at": f"2026-03-{n // 24 + 2:02d}T{n % 24:02d}:00:00Z",
            "evidence": {"note": "n" * note}}


def test_a_page_of_answers_stops_at_its_byte_budget_and_the_cursor_continues(
    small_pages: TestClient,
) -> None:
    seed_chain(small_pages)
    posted = [answer(n, 60_000 if n % 3 else 10) for n in range(12)]  # 8 large, 4 small
    results = small_pages.post("/v1/acknowledgements/batch", json={"items": posted}).json()
    assert {r["status"] for r in results["results"]} == {"created"}
    pages, query = [], {"request_id": "reach-1", "limit": 10}
    while True:
        response = small_pages.get("/v1/acknowledgements", params=query)
        assert len(response.content) <= PAGE_BYTES  # was 10 x 60 KB: 600 KB
        pages.append(response.json())
        link = response.headers.get("link")
        if link is None:
            break
        query = {"request_id": "reach-1", "limit": 10,
                 "cursor": re.search(r"cursor=([^&>]+)", link)[1]}  # type: ignore[index]
    seen = [a["at"] for page in pages for a in page]
    assert sorted(seen, reverse=True) == seen and len(set(seen)) == len(seen) == 12
    assert len(pages) == 3 and all(pages)  # 8 x 60 KB in pages of 200 KB: 3 a page


def test_a_page_ends_at_its_limit_with_a_cursor_only_when_more_follow(client: TestClient
                                                                      ) -> None:
    seed_chain(client)
    client.post("/v1/acknowledgements/batch", json={"items": [answer(n, 5) for n in range(4)]})
    first = client.get("/v1/acknowledgements", params={"limit": 2})
    assert [a["at"][:13] for a in first.json()] == ["2026-03-02T03", "2026-03-02T02"]
    following = client.get(first.headers["link"].split(">")[0].lstrip("<"))
    assert [a["at"][:13] for a in following.json()] == ["2026-03-02T01", "2026-03-02T00"]
    assert "link" not in following.headers
    assert "link" not in client.get("/v1/acknowledgements", params={"limit": 4}).headers


@pytest.mark.parametrize("cursor", ["WzEsMl0", "bm9wZQ", "W3RydWUsMV0", "WzFlMzAsMV0", "!!"])
def test_a_cursor_this_service_did_not_issue_is_422(client: TestClient, cursor: str) -> None:
    response = client.get("/v1/acknowledgements", params={"cursor": cursor})
    if cursor == "WzEsMl0":  # [1, 2]: a position, however old
        assert response.status_code == 200
        return
    assert response.status_code == 422 and response.json()["field"] == "cursor"


def test_the_python_client_follows_pages_up_to_its_limit(small_pages: TestClient,
                                                         store: CascadeStore) -> None:
    seed_chain(small_pages)
    small_pages.post("/v1/acknowledgements/batch",
                     json={"items": [answer(n, 60_000) for n in range(7)]})
    key = bearer(store)["Authorization"].removeprefix("Bearer ")
    with CascadeClient("http://testserver", key, transport=small_pages._transport) as cascade:
        assert len(cascade.acknowledgements(request_id="reach-1")) == 7  # pages of 3
        assert len(cascade.acknowledgements(request_id="reach-1", limit=4)) == 4


def test_a_flood_of_strangers_adds_a_bounded_number_of_audit_entries(client: TestClient
                                                                      ) -> None:
    for n in range(150):  # each claims another key
        response = client.post("/v1/companies", json={"id": "x", "name": "x"},
                               headers={"Authorization": f"Bearer csk_{n:012x}_{'s' * 32}"})
        assert response.status_code == 401
    client.post("/v1/companies", json={"id": "bad id!"})  # a key's own refused write
    entries = client.get("/v1/audit", params={"limit": 500}).json()["items"]
    strangers = [e for e in entries if e["status"] == 401]
    assert 1 <= len(strangers) <= 30  # was 150: 6 at once, then one a second
    assert [e["status"] for e in entries if e["key_id"] not in {s["key_id"] for s in strangers}
            and e["path"] == "/v1/companies"] == [422]  # every key's own write is kept
    metrics = client.get("/metrics").text
    unrecorded = re.search(r"^cascade_audit_unrecorded_total (\S+)$", metrics, re.M)
    assert unrecorded is not None and float(unrecorded[1]) == 150 - len(strangers)


def test_a_missing_neo4j_database_is_one_line_like_a_missing_sqlite_file(tmp_path: Path
                                                                         ) -> None:
    neo4j = require_neo4j()
    env = {"CASCADE_NEO4J_DATABASE": "no-such-db", "CASCADE_NEO4J_USER": neo4j["user"],
           "CASCADE_NEO4J_PASSWORD": neo4j["password"]}
    runs = [(["coverage", "x", "--store", str(neo4j["uri"])], env),
            (["init-schema", "--store", str(neo4j["uri"])], env),  # it cannot make one
            (["coverage", "x", "--store", f"sqlite:///{tmp_path}/no-such.db"], {})]
    said = []
    for args, extra in runs:
        result = CliRunner().invoke(cli.app, args, env={k: v for k, v in extra.items() if v})
        lines = result.output.strip().splitlines()
        assert result.exit_code == 2 and len(lines) == 1, result.output  # was "cannot reach"
        said.append(lines[0])
    assert said[0] == said[1]
    assert said[0].startswith(f"no store at {neo4j['uri']} (database 'no-such-db' does not "
                              "exist there): create it")
    assert said[2].startswith(f"no store at sqlite:///{tmp_path}/no-such.db (")


@pytest.mark.parametrize(("kind", "csv", "column"), [
    ("companies", "id,name\nacme-pcb,Acme\n tin-id,Tin\n", "id"),
    ("links", "buyer_id,supplier_id\nfocal-jp,acme-pcb\nacme-pcb,tin-id\u00a0\n", "supplier_id"),
    ("cascades", "request_id,from_id,to_id\nreach-1,focal-jp,acme-pcb\nreach-1 ,acme-pcb,"
     "tin-id\n", "request_id"),
    ("acknowledgements", "request_id,company_id,status\nreach-1,acme-pcb,received\n"
     "reach-1,\u2003acme-pcb,accepted\n", "company_id"),
])
def test_a_csv_id_with_edge_space_is_refused_naming_row_and_column(
    client: TestClient, kind: str, csv: str, column: str
) -> None:
    seed_chain(client)
    response = client.post("/v1/imports", data={"kind": kind},
                           files={"file": (f"{kind}.csv", csv.encode())})
    assert response.status_code == 422, response.text  # was 201: the id trimmed silently
    (error,) = response.json()["errors"]
    assert (error["section"], error["row"], error["field"]) == (kind, 3, f"{kind}[3].{column}")
    assert "white space" in error["message"]


def test_other_csv_cells_are_still_trimmed(client: TestClient) -> None:
    file = b"id,name,country\nbeta-co,  Beta Co  , JP \n"
    response = client.post("/v1/imports", data={"kind": "companies"},
                           files={"file": ("companies.csv", file)})
    assert response.status_code == 200, response.text
    stored = client.get("/v1/companies/beta-co").json()
    assert (stored["name"], stored["country"]) == ("Beta Co", "JP")
