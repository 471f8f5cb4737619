"""Property-based fuzzing of the whole REST API from its own OpenAPI schema (Schemathesis).

Every operation gets valid and invalid input (bodies, path and query parameters, headers)
with a valid admin key and a fresh Idempotency-Key on each POST, against a SQLite store
holding a small real network; ids are often ones that exist, so the answers checked are
the real ones too, not only 404s. Whatever comes in, the service must not answer 5xx, must
refuse what the schema forbids, and every answer must be one the schema documents: its
status code, its content type, its body's schema.

Examples per operation are bounded and derandomized, so a run is repeatable and takes
about a minute on two cores.
"""

from __future__ import annotations

import io
import uuid
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from schemathesis import Case
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api_tests.conftest import bearer, make_store
from api_tests.test_api_batches import seed_chain
from graph_models.models import to_epoch_us, utc_now
from loaders.demo import demo_network, write_network
from service.app import create_app
from service.config.settings import Settings
from service.http.pagination import encode_cursor
from service.registry.catalog import POLICIES
from service.store.port import Webhook

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, response_headers_conformance, negative_data_rejection]
READINESS_CHECKS = [check for check in CHECKS if check is not not_a_server_error]
NETWORK = demo_network(companies=40)
COMPANIES = [company.id for company in NETWORK.companies]
REQUESTS = [request.id for request in NETWORK.requests]
WEBHOOK = Webhook(id="wh_fuzz", url="http://127.0.0.1:9/never-called",
                  events=("coverage.changed",), secret="fuzz", description="",
                  created_at_us=to_epoch_us(utc_now()))
# Parameters and body fields that name a stored thing, and what exists. Key ids are left
# out on purpose: revoking the admin key would turn the rest of the run into 401s.
KNOWN: dict[str, list[str]] = {
    **dict.fromkeys(["company_id", "buyer_id", "supplier_id", "from_id", "to_id",
                     "issuer_id", "target"], COMPANIES),
    **dict.fromkeys(["request_id", "supersedes"], REQUESTS),
    "catalog_id": [policy.catalog_id for policy in POLICIES],
    "webhook_id": [WEBHOOK.id],
}


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A SQLite file with the network, a webhook and an admin key; its Authorization."""
    folder = tmp_path_factory.mktemp("fuzz")
    store = make_store("sqlite", folder)
    write_network(store, NETWORK)
    store.add_webhook(WEBHOOK)
    admin = bearer(store)
    store.close()
    return folder / "cascade.db", admin


@pytest.fixture(scope="module")
def api(seeded: tuple[Path, dict[str, str]]) -> FastAPI:
    path, _ = seeded
    return create_app(Settings(
        store=f"sqlite:///{path}",
        # one client sending thousands of requests a minute; the limit has its own tests
        rate_limit_per_minute=10**6,
        # the fuzzer registers webhooks with made-up URLs: no delivery may leave the machine
        webhook_poll_s=86_400,
    ))


@pytest.fixture(scope="module")
def admin(seeded: tuple[Path, dict[str, str]]) -> dict[str, str]:
    return seeded[1]


# The schema as the service publishes it (building the app connects nothing); the calls go
# to the app over the seeded store, whose lifespan Schemathesis runs for each operation.
# A body over the size limit (a batch past maxItems can be) is refused with 413: a refusal.
CONFIG = schemathesis.Config.from_dict({"checks": {"negative_data_rejection": {
    "expected-statuses": ["400", "401", "403", "404", "405", "406", "409", "413", "415",
                          "422", "428", "429"]}}})
schema = schemathesis.openapi.from_dict(create_app(Settings()).openapi(), config=CONFIG)


def use_known_ids(case: Case, data: st.DataObject) -> None:
    """Set some of the fields that name stored things to ones that exist. Assigned to the
    case (not changed in place, nor in a generation hook), so Schemathesis re-checks
    whether a case generated invalid is still invalid as sent."""
    for part in ("path_parameters", "query", "body"):
        values = getattr(case, part)
        if isinstance(values, dict) and values.keys() & KNOWN.keys():
            known = {name: data.draw(st.sampled_from(KNOWN[name]), label=name)
                     for name in sorted(values.keys() & KNOWN.keys())
                     if data.draw(st.booleans(), label=f"known {name}")}
            if known:
                setattr(case, part, {**values, **known})


# No operation is left out: the multipart import is fuzzed too (its files are random bytes,
# refused as unreadable), and DELETEs may remove seeded companies, links and the webhook,
# so later operations also meet a network with holes in it.
@schema.parametrize()
@schema.given(data=st.data())
@settings(max_examples=100, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_no_input_breaks_the_api_or_leaves_its_schema(
    case: Case, data: st.DataObject, api: FastAPI, admin: dict[str, str]
) -> None:
    use_known_ids(case, data)
    if case.operation.get_parameter("Idempotency-Key", "header") is not None:
        case.headers = {**(case.headers or {}), "Idempotency-Key": uuid.uuid4().hex}
    # /readyz answers a documented 503 while the app (started anew for each call) still
    # reads its snapshot: not a server error there
    checks = READINESS_CHECKS if case.operation.path == "/readyz" else CHECKS
    case.call_and_validate(app=api, headers=admin, checks=checks)


# -- what the fuzzer found, pinned down ------------------------------------------------------


def problem_field(response: Response) -> str:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return str(response.json()["field"])


def test_an_unreadable_body_is_a_422_naming_the_body(client: TestClient) -> None:
    json_type = {"Content-Type": "application/json"}
    for body in (b"\xff\xfe{", b'{"id": '):  # not UTF-8; cut short
        response = client.post("/v1/companies", content=body, headers=json_type)
        assert problem_field(response) == "body"
    broken_form = client.post("/v1/imports", content=b"--x",
                              headers={"Content-Type": "multipart/form-data"})
    assert problem_field(broken_form) == "body"


def test_a_number_or_an_out_of_range_instant_is_no_timestamp(client: TestClient) -> None:
    # `since=2026` used to mean 1970-01-01T00:33:46Z; year 1 at +00:01 is year 0 in UTC
    assert problem_field(client.get("/v1/audit", params={"since": "2026"})) == "since"
    seed_chain(client)
    early = client.get("/v1/requests/reach-1/gaps", params={"as_of": "0001-01-01T00:00+00:01"})
    assert problem_field(early) == "as_of"
    answer = {"request_id": "reach-1", "company_id": "acme-pcb", "status": "accepted", "at": 1}
    assert problem_field(client.post("/v1/acknowledgements", json=answer)) == "at"


def test_odd_ids_cursors_and_flags_are_refused_by_name(client: TestClient) -> None:
    put = client.put("/v1/companies/%0D", json={"name": "Carriage Return Ltd"})
    assert problem_field(put) == "company_id"
    assert problem_field(client.get("/v1/audit", params={"before": 2**63})) == "before"
    foreign = encode_cursor([{"buyer_id": "x"}, 2**70])
    assert problem_field(client.get("/v1/links", params={"cursor": foreign})) == "cursor"
    seed_chain(client)
    one_day = {"catalog_id": "bcp", "issuer_id": "focal-jp", "valid_days": True}
    assert problem_field(client.post("/v1/requests", json=one_day)) == "valid_days"


def test_a_name_with_control_characters_still_exports_to_excel(client: TestClient) -> None:
    seed_chain(client)  # focal-jp has not forwarded reach-1 to acme-pcb: one gap
    client.put("/v1/companies/acme-pcb", json={"name": "Acme\x0bPCB\x00"})
    response = client.get("/v1/requests/reach-1/gaps.xlsx")
    assert response.status_code == 200
    gaps = load_workbook(io.BytesIO(response.content))["Gaps"]
    names = [cell.value for cell in gaps[2]]
    assert "Acme\ufffdPCB\ufffd" in names
