"""Shared fixtures: every store-backed test runs on SQLite and on a real Neo4j.

Neo4j tests need `CASCADE_TEST_NEO4J_URI` (scripts/test starts a local Neo4j and sets it).
Without it they are skipped on a developer machine, but under CI (`CI=true`) they fail:
CI never skips the Neo4j runs silently.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.access.keys import Role, issue_key
from service.app import create_app
from service.cli import dev_neo4j
from service.config.settings import Settings
from service.store.port import CascadeStore

NEO4J_URI_ENV = "CASCADE_TEST_NEO4J_URI"
STORE_KINDS = ["sqlite", "neo4j"]


def neo4j_test_settings() -> dict[str, str | None]:
    return {
        "uri": os.environ.get(NEO4J_URI_ENV),
        "user": os.environ.get("CASCADE_TEST_NEO4J_USER"),
        "password": os.environ.get("CASCADE_TEST_NEO4J_PASSWORD"),
        "database": os.environ.get("CASCADE_TEST_NEO4J_DATABASE", "neo4j"),
    }


def require_neo4j() -> dict[str, str | None]:
    cfg = neo4j_test_settings()
    if not cfg["uri"]:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but {NEO4J_URI_ENV} is not set: the Neo4j runs are mandatory")
        pytest.skip(f"{NEO4J_URI_ENV} not set (scripts/test starts a local Neo4j)")
    return cfg


def make_store(kind: str, tmp_path: Path) -> CascadeStore:
    """A fresh, empty store of the given kind with its schema in place."""
    if kind == "sqlite":
        from service.store.sqlite import SqliteStore

        store: CascadeStore = SqliteStore(str(tmp_path / "cascade.db"))
    else:
        from service.store.neo4j import Neo4jStore

        cfg = require_neo4j()
        neo = Neo4jStore(
            cfg["uri"] or "",
            user=cfg["user"],
            password=cfg["password"],
            database=cfg["database"] or "neo4j",
        )
        neo.clear_all()  # tests share one Neo4j: start each from an empty graph
        store = neo
    store.init_schema()
    return store


@pytest.fixture(params=STORE_KINDS)
def store_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store(store_kind: str, tmp_path: Path) -> Iterator[CascadeStore]:
    s = make_store(store_kind, tmp_path)
    yield s
    s.close()


def bearer(store: CascadeStore, role: Role = Role.admin,
           company_id: str | None = None) -> dict[str, str]:
    """The Authorization header of a new key of `role`."""
    _, key = issue_key(store, role=role, company_id=company_id, name=f"test {role}")
    return {"Authorization": f"Bearer {key}"}


def signed_in(test_client: TestClient, role: Role = Role.admin) -> TestClient:
    """Send a new key of `role` with every request of this client (inside its `with`)."""
    test_client.headers.update(bearer(test_client.app.state.services.store, role))  # type: ignore[attr-defined]
    return test_client


@pytest.fixture
def client(store: CascadeStore) -> Iterator[TestClient]:
    """The REST app over the parametrised store (so every API test runs on both), called
    with an admin key. No revision watch: tests write to the store behind the service's
    back, as another worker would, and read the answer at once (the watch's own delay is
    tested in test_workers and test_coverage_snapshot)."""
    app = create_app(Settings(revision_watch_ms=0), store=store)
    with TestClient(app) as test_client:
        warmed(test_client)
        yield signed_in(test_client)


def warmed(test_client: TestClient) -> TestClient:
    """The client once its app has read its snapshot (`/readyz` answers 503 until then)."""
    assert test_client.app.state.services.warmup.wait(60)  # type: ignore[attr-defined]
    return test_client


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
