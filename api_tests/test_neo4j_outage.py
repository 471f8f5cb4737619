"""Readiness follows a real Neo4j going down and coming back. The test runs its own
server, not the shared one, so stopping it disturbs no other test."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api_tests.conftest import require_neo4j, signed_in
from service import dev_neo4j
from service.app import create_app
from service.settings import Settings


class LocalNeo4j:
    """A private Neo4j that a test may stop and start on the same port and data."""

    def __init__(self, data: Path) -> None:
        self.port = dev_neo4j.free_port()
        self.data = data
        self.proc: subprocess.Popen[str] | None = None

    @property
    def uri(self) -> str:
        return dev_neo4j.bolt_uri(self.port)

    def start(self) -> None:
        self.proc = dev_neo4j.start_neo4j(self.port, self.data)

    def stop(self) -> None:
        if self.proc is not None:
            dev_neo4j.stop_neo4j(self.proc)
            self.proc = None


@pytest.fixture
def own_neo4j(tmp_path: Path) -> Iterator[LocalNeo4j]:
    require_neo4j()  # runs wherever the shared Neo4j runs (always under CI)
    server = LocalNeo4j(tmp_path / "neo4j")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_readyz_is_503_while_neo4j_is_down_and_recovers(own_neo4j: LocalNeo4j) -> None:
    settings = Settings(store=own_neo4j.uri, neo4j_connect_timeout=60)
    with TestClient(create_app(settings)) as client:
        signed_in(client)
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
