"""Who may do what: every role against every route, integration keys confined to their
company, expired and revoked keys, the audit trail, limits, and the `keys` CLI."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api_tests.conftest import bearer, signed_in
from api_tests.test_api_batches import company, seed_chain
from graph_models.models import to_epoch_us, utc_now
from service.access.keys import Role, issue_key, split_key
from service.access.policy import OPEN, POLICY, rule_for
from service.app import create_app
from service.cli.main import app as cli
from service.config.settings import Settings
from service.store.port import CascadeStore

ACK = {"request_id": "reach-1", "company_id": "acme-pcb", "status": "accepted",
       "at": "2026-03-02T09:00:00Z"}


def api_routes(client: TestClient) -> list[tuple[str, str]]:
    """Every (method, path template) the API serves, from its OpenAPI document."""
    paths = client.app.openapi()["paths"]  # type: ignore[attr-defined]
    return sorted((method.upper(), path) for path, item in paths.items() for method in item)


def test_every_route_has_a_rule(client: TestClient) -> None:
    routes = api_routes(client)
    assert len(routes) >= 30  # the listing itself works
    missing = [route for route in routes if route not in POLICY]
    assert missing == []


@pytest.mark.parametrize("role", list(Role))
def test_every_role_against_every_route(client: TestClient, store: CascadeStore,
                                        role: Role) -> None:
    seed_chain(client)
    headers = bearer(store, role, "acme-pcb" if role == Role.integration else None)
    for method, template in api_routes(client):
        rule = rule_for(method, template)
        path = re.sub(r"\{[^}]+\}", "no-such-id", template)
        response = client.request(method, path, json={} if method != "GET" else None,
                                  headers=headers)
        expected_refusal = rule is not OPEN and role not in rule.roles
        refused_by_role = response.status_code == 403 and response.json()["detail"] == (
            f"a {role} key may not {method} {template}")  # not an object-level refusal
        assert refused_by_role == expected_refusal, (
            f"{role} {method} {template}: {response.status_code} {response.text[:200]}"
        )
        assert response.status_code != 401


def test_without_a_valid_key_only_health_answers(client: TestClient) -> None:
    anonymous = {"Authorization": ""}
    assert client.get("/healthz", headers=anonymous).status_code == 200
    assert client.get("/readyz", headers=anonymous).status_code == 200
    for path in ["/v1/gap-counts", "/v1/companies", "/metrics", "/v1/keys"]:
        response = client.get(path, headers=anonymous)
        assert response.status_code == 401, path
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert response.headers["content-type"] == "application/problem+json"
    forged = {"Authorization": "Bearer csk_0000_not-a-real-secret"}
    assert client.get("/v1/gap-counts", headers=forged).status_code == 401


def test_metrics_can_be_opened_by_a_setting(store: CascadeStore) -> None:
    with TestClient(create_app(Settings(metrics_public=True), store=store)) as opened:
        assert opened.get("/metrics").status_code == 200
        assert opened.get("/v1/gap-counts").status_code == 401


@pytest.fixture
def supplier_key(client: TestClient, store: CascadeStore) -> dict[str, str]:
    """acme-pcb's integration key, after focal-jp forwarded reach-1 to it; a second
    supplier branch (focal-jp -> rival-pcb -> rival-tin) it must not see."""
    seed_chain(client)
    client.post("/v1/companies/batch", json={"items": [company("rival-pcb"),
                                                       company("rival-tin", "smelter")]})
    client.post("/v1/links/batch", json={"items": [
        {"buyer_id": "focal-jp", "supplier_id": "rival-pcb"},
        {"buyer_id": "rival-pcb", "supplier_id": "rival-tin"}]})
    client.post("/v1/requests", json={"id": "bcp-1", "topic": "bcp", "title": "BCP",
                                      "issuer_id": "focal-jp", "issued_at": "2026-03-01T09:00:00Z"})
    for to in ["acme-pcb", "rival-pcb"]:
        assert client.post("/v1/cascades", json={"request_id": "reach-1", "from_id": "focal-jp",
                                                 "to_id": to}).status_code == 201
    return bearer(store, Role.integration, "acme-pcb")


def test_an_integration_speaks_only_for_its_company(client: TestClient,
                                                    supplier_key: dict[str, str]) -> None:
    own = client.post("/v1/acknowledgements", json=ACK, headers=supplier_key)
    assert own.status_code == 201
    assert own.json()["posted_by"] == split_key(supplier_key["Authorization"][7:])[0]  # type: ignore[index]
    as_rival = client.post("/v1/acknowledgements", json={**ACK, "company_id": "rival-pcb"},
                           headers=supplier_key)
    assert as_rival.status_code == 403
    assert as_rival.json()["field"] == "company_id"
    forward = {"request_id": "reach-1", "from_id": "acme-pcb", "to_id": "tin-id"}
    assert client.post("/v1/cascades", json=forward, headers=supplier_key).status_code == 201
    for_rival = {"request_id": "reach-1", "from_id": "rival-pcb", "to_id": "rival-tin"}
    assert client.post("/v1/cascades", json=for_rival, headers=supplier_key).status_code == 403
    batch = {"items": [ACK, {**ACK, "company_id": "rival-pcb"}]}
    refused = client.post("/v1/acknowledgements/batch", json=batch, headers=supplier_key)
    assert refused.status_code == 403
    assert refused.json()["field"] == "items[1].company_id"
    statuses = [a["company_id"] for a in client.get("/v1/acknowledgements").json()]
    assert statuses == ["acme-pcb"]  # nothing of the refused batch was written


def test_an_integration_cannot_see_or_guess_other_companies(client: TestClient,
                                                            supplier_key: dict[str, str]) -> None:
    assert client.get("/v1/companies/acme-pcb", headers=supplier_key).status_code == 200
    assert client.get("/v1/companies/tin-id", headers=supplier_key).status_code == 200
    hidden = client.get("/v1/companies/rival-tin", headers=supplier_key)
    unknown = client.get("/v1/companies/no-such-co", headers=supplier_key)
    assert hidden.status_code == unknown.status_code == 404
    assert hidden.json()["detail"].replace("rival-tin", "X") == \
        unknown.json()["detail"].replace("no-such-co", "X")  # no oracle
    mine = client.get("/v1/links", params={"buyer_id": "acme-pcb"}, headers=supplier_key)
    assert [link["supplier_id"] for link in mine.json()["items"]] == ["tin-id"]
    assert client.get("/v1/links", params={"buyer_id": "rival-pcb"},
                      headers=supplier_key).status_code == 403
    assert client.get("/v1/links", headers=supplier_key).status_code == 403
    # a request not addressed to it looks like one that does not exist
    assert client.get("/v1/requests/reach-1", headers=supplier_key).status_code == 200
    assert client.get("/v1/requests/bcp-1", headers=supplier_key).status_code == 404
    assert client.get("/v1/requests/nope", headers=supplier_key).status_code == 404
    listed = client.get("/v1/requests", headers=supplier_key).json()
    assert [r["id"] for r in listed] == ["reach-1"]
    unasked = client.post("/v1/acknowledgements", json={**ACK, "request_id": "bcp-1"},
                          headers=supplier_key)
    assert unasked.status_code == 404
    to_stranger = {"request_id": "reach-1", "from_id": "acme-pcb", "to_id": "rival-tin"}
    assert client.post("/v1/cascades", json=to_stranger, headers=supplier_key).status_code == 404
    assert client.get("/v1/gap-counts", headers=supplier_key).status_code == 403
    standing = "/v1/requests/reach-1/companies/{}"
    assert client.get(standing.format("acme-pcb"), headers=supplier_key).status_code == 200
    assert client.get(standing.format("rival-pcb"), headers=supplier_key).status_code == 403


def test_an_integration_lists_names_of_its_company_and_direct_suppliers_only(
        client: TestClient, supplier_key: dict[str, str]) -> None:
    own = client.get("/v1/companies", params={"ids": ["tin-id", "acme-pcb"]},
                     headers=supplier_key)
    assert own.status_code == 200
    assert [c["id"] for c in own.json()["items"]] == ["acme-pcb", "tin-id"]
    for beyond in ["rival-tin", "focal-jp", "no-such-co"]:  # hidden looks like unknown
        refused = client.get("/v1/companies", params={"ids": ["acme-pcb", beyond]},
                             headers=supplier_key)
        assert refused.status_code == 404, beyond
        assert refused.json()["detail"] == f"company {beyond!r} not found"
    everyone = client.get("/v1/companies", headers=supplier_key)
    assert everyone.status_code == 403 and everyone.json()["field"] == "ids"


@pytest.mark.parametrize("role", list(Role))
def test_a_key_reads_its_own_role_and_company(client: TestClient, store: CascadeStore,
                                              role: Role) -> None:
    seed_chain(client)
    company = "acme-pcb" if role == Role.integration else None
    me = client.get("/v1/keys/me", headers=bearer(store, role, company))
    assert me.status_code == 200, me.text
    assert (me.json()["role"], me.json()["company_id"]) == (role, company)
    assert "key" not in me.json()  # the secret is never shown again


def test_expired_and_revoked_keys_are_refused(client: TestClient, store: CascadeStore) -> None:
    _, expired = issue_key(store, role=Role.admin, expires_days=1e-9)
    assert client.get("/v1/companies", headers={"Authorization": f"Bearer {expired}"}
                      ).status_code == 401
    created = client.post("/v1/keys", json={"role": "viewer", "name": "wallboard"})
    assert created.status_code == 201
    viewer = {"Authorization": f"Bearer {created.json()['key']}"}
    assert client.get("/v1/gap-counts", headers=viewer).status_code == 200
    assert client.delete(f"/v1/keys/{created.json()['id']}").status_code == 204
    assert client.get("/v1/gap-counts", headers=viewer).status_code == 401
    listed = {k["id"]: k for k in client.get("/v1/keys").json()}
    assert listed[created.json()["id"]]["revoked_at"] is not None
    assert all("key" not in k and "secret_hash" not in k for k in listed.values())


def test_a_remembered_key_is_still_checked_on_every_request(store: CascadeStore) -> None:
    """The worker remembers a key (here for an hour), not that a caller was let in: a
    wrong secret under its id is refused, and so is the key once it expires."""
    key, text = issue_key(store, role=Role.viewer, expires_days=3 / 86400)
    app = create_app(Settings(revision_watch_ms=0, auth_cache_s=3600), store=store)
    with TestClient(app) as client:
        assert client.get("/v1/gap-counts", headers={"Authorization": f"Bearer {text}"}
                          ).status_code == 200
        forged = f"csk_{key.id}_{'x' * 32}"
        assert client.get("/v1/gap-counts", headers={"Authorization": f"Bearer {forged}"}
                          ).status_code == 401
        deadline = time.monotonic() + 30
        while (status := client.get("/v1/gap-counts", headers={
                "Authorization": f"Bearer {text}"}).status_code) == 200:
            assert time.monotonic() < deadline, "the expired key is still let in"
            time.sleep(0.2)
        assert status == 401


def test_keys_are_stored_only_as_a_hash(store: CascadeStore) -> None:
    key, text = issue_key(store, role=Role.viewer)
    secret = text.split("_", 2)[2]
    assert len(secret) >= 22  # >= 128 bits of urlsafe base64
    stored = store.get_api_key(key.id)
    assert stored is not None and secret not in stored.secret_hash


def test_the_audit_trail_names_who_wrote_and_when(client: TestClient, store: CascadeStore) -> None:
    before = to_epoch_us(utc_now())
    procurement = bearer(store, Role.procurement)
    client.post("/v1/companies", json=company("acme-pcb"), headers=procurement)
    client.post("/v1/companies", json=company("acme-pcb"), headers=procurement)  # 409
    key_id = split_key(procurement["Authorization"][7:])[0]  # type: ignore[index]
    page = client.get("/v1/audit", params={"key_id": key_id}).json()
    assert [(e["method"], e["path"], e["status"]) for e in page["items"]] == [
        ("POST", "/v1/companies", 409), ("POST", "/v1/companies", 201)]
    assert all(to_epoch_us(utc_now()) >= to_epoch_us(_parse(e["at"])) >= before
               for e in page["items"])
    assert client.get("/v1/audit", headers=procurement).status_code == 403


def _parse(text: str):  # type: ignore[no-untyped-def]
    from datetime import datetime

    return datetime.fromisoformat(text)


@pytest.fixture
def limited(store: CascadeStore) -> Iterator[TestClient]:
    settings = Settings(max_body_bytes=2048, max_batch_items=2, rate_limit_per_minute=60)
    with TestClient(create_app(settings, store=store)) as test_client:
        yield signed_in(test_client)


def test_limits_answer_413_422_and_429(limited: TestClient) -> None:
    big = {"items": [company(f"c{n:04d}") for n in range(40)]}
    too_large = limited.post("/v1/companies/batch", json=big)
    assert too_large.status_code == 413
    assert limited.get("/v1/companies/c0000").status_code == 404
    text = json.dumps(big).encode()
    streamed = limited.post(  # chunked: no Content-Length to judge by
        "/v1/companies/batch", headers={"Content-Type": "application/json"},
        content=(text[n : n + 500] for n in range(0, len(text), 500)))
    assert streamed.status_code == 413
    assert streamed.json()["type"] == too_large.json()["type"]
    assert limited.get("/v1/companies/c0000").status_code == 404
    small = json.dumps({"items": [company("c0000")]}).encode()
    chunked = limited.post("/v1/companies/batch", headers={"Content-Type": "application/json"},
                           content=(small[n : n + 10] for n in range(0, len(small), 10)))
    assert chunked.status_code == 200  # a streamed body within the limit is read whole
    assert limited.get("/v1/companies/c0000").status_code == 200
    three = {"items": [company("a"), company("b"), company("c")]}
    too_many = limited.post("/v1/companies/batch", json=three)
    assert too_many.status_code == 422
    assert too_many.json()["field"] == "items"
    statuses = [limited.get("/v1/gap-counts").status_code for _ in range(10)]
    assert 429 in statuses
    refused = limited.get("/v1/gap-counts")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1


def test_keys_cli_creates_lists_and_revokes(tmp_path: Path) -> None:
    runner = CliRunner()
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    assert runner.invoke(cli, ["init-schema", "--store", url]).exit_code == 0
    created = runner.invoke(cli, ["keys", "create", "--role", "viewer", "--name", "wall",
                                  "--store", url])
    assert created.exit_code == 0, created.output
    key = created.output.strip().splitlines()[-1]
    key_id = split_key(key)[0]  # type: ignore[index]
    listed = runner.invoke(cli, ["keys", "list", "--store", url])
    assert key_id in listed.output and key not in listed.output
    refused = runner.invoke(cli, ["keys", "create", "--role", "integration", "--store", url])
    assert refused.exit_code != 0
    assert runner.invoke(cli, ["keys", "revoke", key_id, "--store", url]).exit_code == 0
    assert runner.invoke(cli, ["keys", "revoke", "k-none", "--store", url]).exit_code != 0
    from service.store.sqlite import SqliteStore

    store = SqliteStore(str(tmp_path / "keys.db"))
    stored = store.get_api_key(key_id)
    trail = store.list_audit()
    store.close()
    assert stored is not None and stored.revoked_at_us is not None
    # The shell's writes are in the audit trail too, newest first, attempts included.
    assert [(e.method, e.path, e.status) for e in trail] == [
        ("CLI", "cascade keys revoke k-none", 404),
        ("CLI", f"cascade keys revoke {key_id}", 200),
        ("CLI", f"cascade keys create {key_id}", 201),
    ]
    assert all(e.key_id.startswith("cli:") for e in trail)


def test_serve_demo_prints_an_admin_key_that_works(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys
    import time

    import httpx

    from service.cli.dev_neo4j import free_port

    port = free_port()
    command = [sys.executable, "-m", "service.cli.main", "serve", "--demo", "--port", str(port),
               "--store", f"sqlite:///{tmp_path / 'demo.db'}"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, env=env)
    try:
        assert server.stdout is not None
        key = next(line.strip() for line in server.stdout if line.startswith("csk_"))
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                response = httpx.get(f"{base}/v1/keys",
                                     headers={"Authorization": f"Bearer {key}"})
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the service did not start"
                time.sleep(0.2)
        assert response.status_code == 200
        assert [k["role"] for k in response.json()] == ["admin"]
        assert httpx.get(f"{base}/v1/keys").status_code == 401
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_a_key_that_cannot_be_checked_while_the_store_is_down_gets_503(
    client: TestClient, store: CascadeStore, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from service.store.errors import StoreUnavailable

    viewer = bearer(store, Role.viewer)  # a key this worker has not seen yet

    def down(key_id: str) -> None:
        raise StoreUnavailable("connection refused")

    monkeypatch.setattr(store, "get_api_key", down)
    response = client.get("/v1/gap-counts", headers=viewer)
    assert response.status_code == 503 and response.headers["retry-after"]
    assert response.headers["content-type"].startswith("application/problem+json")
