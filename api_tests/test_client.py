"""The typed client against a real uvicorn server on loopback: typed results, safe retries
with one Idempotency-Key per logical call, ETag reuse, problems raised."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from graph_models.models import Company, SupplyLink
from service.app import create_app
from service.auth import Role, issue_key
from service.client import CascadeClient, ProblemError
from service.dev_neo4j import free_port
from service.schemas import AcknowledgementCreate, CascadeCreate, RequestCreate
from service.settings import Settings
from service.store.port import CascadeStore
from service.store.sqlite import SqliteStore


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, str, CascadeStore]]:
    """A real HTTP server on a loopback port over a SQLite file; (url, admin key, store)."""
    store = SqliteStore(str(tmp_path / "cascade.db"))
    store.init_schema()
    _, key = issue_key(store, role=Role.admin)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(Settings(), store=store),
                                           host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}", key, store
    server.should_exit = True
    thread.join(timeout=10)
    store.close()


def seed(cascade: CascadeClient) -> None:
    for cid in ("focal-jp", "acme-pcb"):
        cascade.create_company(Company(id=cid, name=cid.upper()))
    cascade.add_link(SupplyLink(buyer_id="focal-jp", supplier_id="acme-pcb"))
    cascade.issue_request(RequestCreate(id="bcp-1", topic="business_continuity", title="BCP",
                                        issuer_id="focal-jp"))
    cascade.cascade(CascadeCreate(request_id="bcp-1", from_id="focal-jp", to_id="acme-pcb"))


ANSWER = AcknowledgementCreate(request_id="bcp-1", company_id="acme-pcb", status="accepted")


def test_typed_calls_end_to_end(served: tuple[str, str, CascadeStore]) -> None:
    url, key, _ = served
    with CascadeClient(url, key) as cascade:
        seed(cascade)
        assert cascade.gap_counts().requests[0].pending == 1
        answer = cascade.acknowledge(ANSWER)
        assert (answer.company_id, answer.seq > 0) == ("acme-pcb", True)
        report = cascade.coverage("bcp-1")
        assert report.counts["acknowledged"] == 1 and report.coverage_ratio == 1.0
        assert cascade.standing("bcp-1", "acme-pcb").state == "acknowledged"
        assert cascade.gaps("bcp-1").items == []
        assert len(cascade.history("bcp-1").points) == 1
        results = cascade.batch("companies", [Company(id="tin-id", name="Tin"), {"id": "x"}])
        assert [r.status for r in results.results] == ["created", "error"]


def test_a_lost_answer_is_retried_with_the_same_key_and_recorded_once(
    served: tuple[str, str, CascadeStore],
) -> None:
    url, key, store = served
    real = httpx.HTTPTransport()
    keys: list[str] = []

    class LosesTheFirstAnswer(httpx.BaseTransport):
        """Delivers every request, but the first answer to an acknowledgement is lost on
        the way back (the server did record it)."""

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            response = real.handle_request(request)
            if request.url.path == "/v1/acknowledgements":
                keys.append(request.headers["Idempotency-Key"])
                if len(keys) == 1:
                    response.read()
                    raise httpx.ReadError("connection reset", request=request)
            return response

    with CascadeClient(url, key) as setup:
        seed(setup)
    with CascadeClient(url, key, transport=LosesTheFirstAnswer(), backoff_s=0.01) as cascade:
        answer = cascade.acknowledge(ANSWER)
    assert len(keys) == 2 and keys[0] == keys[1]  # one logical call, one key
    stored = store.list_acknowledgements(request_id="bcp-1")
    assert [a.seq for a in stored] == [answer.seq]  # recorded once; the replay says so


def test_gap_counts_reuse_the_body_on_304(served: tuple[str, str, CascadeStore]) -> None:
    url, key, _ = served
    with CascadeClient(url, key) as cascade:
        seed(cascade)
        first = cascade.gap_counts()
        assert cascade.gap_counts() is first  # 304: the held body
        cascade.acknowledge(ANSWER)
        assert cascade.gap_counts().requests[0].pending == 0


def test_a_refusal_raises_the_problem_without_retrying(
    served: tuple[str, str, CascadeStore],
) -> None:
    url, key, _ = served
    with CascadeClient(url, key) as cascade, pytest.raises(ProblemError) as refused:
        cascade.acknowledge(ANSWER)  # no such request yet
    assert refused.value.status == 422
    assert refused.value.problem["field"] == "request_id"


def test_503_and_429_are_retried_honouring_retry_after() -> None:
    seen: list[tuple[str, float]] = []
    answers = iter([
        httpx.Response(503, headers={"Retry-After": "1"}, json={"title": "Store unavailable"}),
        httpx.Response(429, headers={"Retry-After": "1"}, json={"title": "Too many"}),
        httpx.Response(201, json={"id": "acme", "name": "ACME"}),
    ])

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.headers["Idempotency-Key"], time.monotonic()))
        return next(answers)

    with CascadeClient("http://cascade.test", "csk_x_y", max_wait_s=0.05,
                       transport=httpx.MockTransport(handler)) as cascade:
        created = cascade.create_company(Company(id="acme", name="ACME"))
    assert created.id == "acme"
    assert len({k for k, _ in seen}) == 1 and len(seen) == 3


def test_retries_stop_after_the_attempts() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(503, json={"title": "Store unavailable"})

    with CascadeClient("http://cascade.test", "k", attempts=3, backoff_s=0.001,
                       transport=httpx.MockTransport(handler)) as cascade, \
            pytest.raises(ProblemError):
        cascade.gap_counts()
    assert calls == 3
