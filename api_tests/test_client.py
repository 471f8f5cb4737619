"""The typed client against a real uvicorn server on loopback: typed results, safe retries
with one Idempotency-Key per logical call, ETag reuse, problems raised."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import httpx
import pytest
import uvicorn

from graph_models.models import Company, SupplyLink
from service.access.keys import Role, issue_key
from service.app import create_app
from service.cli.dev_neo4j import free_port
from service.config.settings import Settings
from service.integrations.client import CascadeClient, ProblemError
from service.ledger.schemas import AcknowledgementCreate, CascadeCreate
from service.registry.schemas import RequestCreate
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
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
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


def test_the_bookmark_of_a_write_goes_with_every_later_call(
    served: tuple[str, str, CascadeStore],
) -> None:
    url, key, _ = served
    sent: list[str | None] = []

    def note(request: httpx.Request) -> None:
        sent.append(request.headers.get("Cascade-Bookmark"))

    with CascadeClient(url, key) as cascade:
        cascade.http.event_hooks["request"].append(note)
        assert cascade.list_requests() == [] and sent == [None]  # nothing written yet
        seed(cascade)
        assert cascade.bookmark is not None
        cascade.gap_counts()
        assert sent[-1] == cascade.bookmark  # another replica would wait for it
        cascade.bookmark = "not a bookmark"
        with pytest.raises(ProblemError) as refused:
            cascade.gap_counts()
        assert refused.value.problem["field"] == "Cascade-Bookmark"


def test_reads_of_every_resource_are_typed(served: tuple[str, str, CascadeStore]) -> None:
    url, key, _ = served
    with CascadeClient(url, key) as cascade:
        seed(cascade)
        odd = "acme #2?"  # an id with characters that mean something in a URL
        cascade.create_company(Company(id=odd, name="Acme 2", country="TW"))
        cascade.add_link(SupplyLink(buyer_id="acme-pcb", supplier_id=odd))
        assert cascade.get_company(odd).country == "TW"
        assert [c.id for c in cascade.list_companies(country="TW").items] == [odd]
        page = cascade.list_companies(limit=2)
        assert len(page.items) == 2 and page.next_cursor is not None
        assert [(u.id, u.tier) for u in cascade.upstream("focal-jp")] == [("acme-pcb", 1),
                                                                          (odd, 2)]
        assert [link.supplier_id for link in cascade.list_links(buyer_id="acme-pcb").items] \
            == [odd]
        assert cascade.get_request("bcp-1").issuer_id == "focal-jp"
        assert [r.id for r in cascade.list_requests()] == ["bcp-1"]
        assert [(e.from_id, e.to_id) for e in cascade.cascades(request_id="bcp-1")] == [
            ("focal-jp", "acme-pcb")]
        cascade.acknowledge(ANSWER)
        assert [a.status for a in cascade.acknowledgements(company_id="acme-pcb")] == [
            "accepted"]
        assert cascade.standing("bcp-1", odd).state == "unreached"
        assert [g.to_id for g in cascade.gaps("bcp-1").items] == [odd]
        paths = cascade.uncovered_paths("bcp-1", target=odd)
        assert paths.items[0].companies == ["focal-jp", "acme-pcb", odd]
        long_ago = datetime.now(UTC) - timedelta(days=1)  # before anything was sent
        assert cascade.standing("bcp-1", "acme-pcb", as_of=long_ago).state == "unreached"
        assert cascade.coverage("bcp-1", as_of=long_ago).counts["unreached"] == 2
        assert cascade.history("bcp-1", start=long_ago, step=timedelta(hours=12)).points[
            -1].counts["acknowledged"] == 1


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


def scripted(*answers: httpx.Response) -> tuple[httpx.MockTransport, list[httpx.Request]]:
    """A transport that gives `answers` in turn and records the requests."""
    seen: list[httpx.Request] = []
    queue = iter(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return next(queue)

    return httpx.MockTransport(handler), seen


def test_503_and_429_are_retried_after_retry_after_with_one_key() -> None:
    in_five_s = format_datetime(datetime.now(UTC) + timedelta(seconds=5), usegmt=True)
    transport, seen = scripted(
        httpx.Response(503, headers={"Retry-After": "2"}, json={"title": "Store unavailable"}),
        httpx.Response(429, headers={"Retry-After": in_five_s}, json={"title": "Too many"}),
        httpx.Response(201, json={"id": "acme", "name": "ACME"}),
    )
    slept: list[float] = []
    with CascadeClient("http://cascade.test", "csk_x_y", transport=transport,
                       sleep=slept.append) as cascade:
        created = cascade.create_company(Company(id="acme", name="ACME"))
    assert created.id == "acme"
    assert len(seen) == 3 and len({r.headers["Idempotency-Key"] for r in seen}) == 1
    assert slept[0] == 2.0 and 3.0 < slept[1] <= 5.0  # waited out in full, date or seconds


def test_a_retry_after_beyond_max_wait_ends_the_call() -> None:
    transport, seen = scripted(
        httpx.Response(429, headers={"Retry-After": "120"}, json={"title": "Too many"}))
    slept: list[float] = []
    with CascadeClient("http://cascade.test", "k", transport=transport, max_wait_s=30,
                       sleep=slept.append) as cascade, pytest.raises(ProblemError) as refused:
        cascade.gap_counts()
    assert (refused.value.status, refused.value.retry_after) == (429, 120.0)
    assert len(seen) == 1 and slept == []


def test_only_a_409_for_a_key_in_flight_is_retried() -> None:
    in_flight = {"type": "/problems/idempotency-key-in-flight", "title": "In progress"}
    conflict = {"type": "/problems/conflict", "title": "Conflict", "detail": "exists"}
    transport, seen = scripted(
        httpx.Response(409, headers={"Retry-After": "1"}, json=in_flight),
        httpx.Response(409, json=conflict),
    )
    with CascadeClient("http://cascade.test", "k", transport=transport,
                       sleep=lambda _: None) as cascade, pytest.raises(ProblemError) as refused:
        cascade.create_company(Company(id="acme", name="ACME"))
    assert refused.value.problem == conflict  # final: raised with its problem body
    assert len(seen) == 2
    assert seen[0].headers["Idempotency-Key"] == seen[1].headers["Idempotency-Key"]


def test_gets_and_posts_survive_a_dropped_connection() -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) % 2:  # every first attempt: the server hung up
            raise httpx.RemoteProtocolError("Server disconnected", request=request)
        return httpx.Response(200, json={"revision": 7, "requests": []},
                              headers={"ETag": '"t"'})

    with CascadeClient("http://cascade.test", "k", transport=httpx.MockTransport(handler),
                       sleep=lambda _: None) as cascade:
        assert cascade.gap_counts().revision == 7
    assert len(calls) == 2


def test_retries_stop_after_the_attempts() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(503, json={"title": "Store unavailable"})

    with CascadeClient("http://cascade.test", "k", attempts=3, sleep=lambda _: None,
                       transport=httpx.MockTransport(handler)) as cascade, \
            pytest.raises(ProblemError):
        cascade.gap_counts()
    assert calls == 3
