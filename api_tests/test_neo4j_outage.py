"""Readiness follows a real Neo4j going down and coming back. The test runs its own
server, not the shared one, so stopping it disturbs no other test."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api_tests.bolt_proxy import BoltProxy, Cut
from api_tests.conftest import LocalNeo4j, make_store, require_neo4j, signed_in, warmed
from service.app import create_app
from service.config.settings import Settings


def test_readyz_is_503_while_neo4j_is_down_and_recovers(own_neo4j: LocalNeo4j) -> None:
    settings = Settings(store=own_neo4j.uri, neo4j_connect_timeout=60)
    with TestClient(create_app(settings)) as client:
        signed_in(warmed(client))
        assert client.get("/readyz").status_code == 200
        client.post("/v1/companies", json={"id": "focal-jp", "name": "Focal"})

        own_neo4j.stop()
        down = client.get("/readyz")
        assert down.status_code == 503
        assert down.headers["retry-after"]
        assert client.get("/healthz").status_code == 200  # the process itself still answers

        own_neo4j.start()
        assert client.get("/readyz").status_code == 200
        assert client.get("/v1/companies/focal-jp").json()["name"] == "Focal"


ACK_INSERT = b"CREATE (a:Acknowledgement {"  # the query that appends an answer


@pytest.mark.parametrize("cut", ["after", "before"])
def test_a_commit_whose_answer_is_lost_is_503_and_the_keyed_retry_settles_it(
    cut: Cut, tmp_path: Path
) -> None:
    """The connection to Neo4j drops while the answer's transaction commits: after Neo4j
    committed it (`after`) or before the commit reached it (`before`). The client cannot
    know which; it gets a 503 to retry, and its retry with the same key lands exactly once."""
    cfg = require_neo4j()
    make_store("neo4j", tmp_path).close()  # an empty shared database
    proxy = BoltProxy(int((cfg["uri"] or "").rsplit(":", 1)[1]))
    settings = Settings(store=proxy.uri, neo4j_user=cfg["user"],
                        neo4j_password=cfg["password"], neo4j_database=cfg["database"] or "neo4j")
    answer = {"request_id": "bcp", "company_id": "acme", "status": "accepted",
              "at": "2026-11-30T09:00:00Z"}
    try:
        with TestClient(create_app(settings)) as client:
            signed_in(client)
            _network_with_one_request(client)
            proxy.arm(ACK_INSERT, cut)
            lost = client.post("/v1/acknowledgements", json=answer,
                               headers={"Idempotency-Key": "portal-42"})
            retried = client.post("/v1/acknowledgements", json=answer,
                                  headers={"Idempotency-Key": "portal-42"})
            history = client.get("/v1/acknowledgements", params={"request_id": "bcp"}).json()
    finally:
        proxy.close()

    assert proxy.cuts == 1
    assert lost.status_code == 503
    assert lost.json()["type"] == "/problems/commit-outcome-unknown"
    assert lost.headers["retry-after"] == "1"
    assert retried.status_code == 201
    replayed = retried.headers.get("idempotent-replayed")
    assert replayed == ("true" if cut == "after" else None)  # stored then, or stored now
    assert [a["company_id"] for a in history] == ["acme"]  # once


def _network_with_one_request(client: TestClient) -> None:
    for company in ({"id": "focal", "name": "Focal"}, {"id": "acme", "name": "Acme"}):
        assert client.post("/v1/companies", json=company).status_code == 201
    link = {"buyer_id": "focal", "supplier_id": "acme", "category": "components"}
    assert client.post("/v1/links", json=link).status_code == 201
    request = {"id": "bcp", "catalog_id": "bcp", "issuer_id": "focal"}
    assert client.post("/v1/requests", json=request).status_code == 201
