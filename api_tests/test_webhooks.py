"""Webhooks end to end: a real HTTP receiver on loopback gets signed deliveries, a failing
receiver gets retries, the deliveries listing shows every attempt (both stores)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api_tests.conftest import signed_in
from api_tests.test_coverage_snapshot import NOW, seed
from graph_models.models import to_epoch_us, utc_now
from service.app import create_app
from service.config.settings import Settings
from service.coverage import snapshot as coverage_module
from service.coverage.figures import RequestFigures
from service.integrations.webhooks import coverage_events, event
from service.store.port import CascadeStore, DeliveryAttempt, Webhook

ANSWER = {"request_id": "bcp", "company_id": "a", "status": "accepted",
          "at": (NOW - timedelta(days=1)).isoformat()}


class Receiver:
    """A real HTTP server on a loopback port that records what it is sent and answers
    with the statuses queued in `answers` (then 200)."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.answers: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), body))
                self.send_response(receiver.answers.pop(0) if receiver.answers else 200)
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, count: int, timeout: float = 15.0) -> list[tuple[dict[str, str], bytes]]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            assert time.monotonic() < deadline, f"got {len(self.received)} of {count}"
            time.sleep(0.05)
        return self.received

    def events(self, event_type: str) -> list[dict[str, Any]]:
        return [json.loads(body) for headers, body in self.received
                if headers["X-Cascade-Event"] == event_type]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    served = Receiver()
    yield served
    served.server.shutdown()


@pytest.fixture
def client(store: CascadeStore) -> Iterator[TestClient]:
    seed(store)
    settings = Settings(webhook_poll_s=0.05, webhook_retry_base_s=0.2,
                        allow_private_webhooks=True)  # the receiver listens on 127.0.0.1
    with TestClient(create_app(settings, store=store)) as test_client:
        yield signed_in(test_client)


def wait_until_watched(client: TestClient, request_id: str = "bcp") -> None:
    """The dispatcher has seen the request's coverage once: changes from now on count."""
    dispatcher = client.app.state.services.webhooks  # type: ignore[attr-defined]
    deadline = time.monotonic() + 15
    while not dispatcher.watches(request_id):
        assert time.monotonic() < deadline
        time.sleep(0.02)


def register(client: TestClient, url: str, events: list[str]) -> dict[str, Any]:
    response = client.post("/v1/webhooks", json={"url": url, "events": events})
    assert response.status_code == 201, response.text
    return response.json()


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """What a receiver does: recompute the HMAC over "<t>.<body>"."""
    fields = dict(part.split("=", 1) for part in headers["X-Cascade-Signature"].split(","))
    expected = hmac.new(secret.encode(), f"{fields['t']}.".encode() + body,
                        hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, fields["v1"])


def test_an_acknowledgement_is_delivered_signed(client: TestClient, receiver: Receiver) -> None:
    hook = register(client, receiver.url, ["acknowledgement.recorded"])
    assert client.post("/v1/acknowledgements", json=ANSWER).status_code == 201
    client.post("/v1/acknowledgements", json=ANSWER)  # a repeat: no second event
    [(headers, body)] = receiver.wait_for(1)
    assert verify(hook["secret"], headers, body)
    assert not verify("another secret", headers, body)
    sent = json.loads(body)
    assert sent["type"] == headers["X-Cascade-Event"] == "acknowledgement.recorded"
    assert sent["id"] == headers["X-Cascade-Delivery"]
    assert (sent["data"]["company_id"], sent["data"]["status"]) == ("a", "accepted")
    time.sleep(0.3)
    assert len(receiver.received) == 1
    assert "secret" not in client.get(f"/v1/webhooks/{hook['id']}").json()


def test_a_failing_receiver_gets_retries_listed_as_attempts(client: TestClient,
                                                           receiver: Receiver) -> None:
    receiver.answers = [500, 503]
    hook = register(client, receiver.url, ["acknowledgement.recorded"])
    client.post("/v1/acknowledgements", json=ANSWER)
    first, second, third = receiver.wait_for(3)
    assert first[1] == second[1] == third[1]  # the same event each time
    deadline = time.monotonic() + 5
    while True:
        [delivery] = client.get(f"/v1/webhooks/{hook['id']}/deliveries").json()
        if delivery["state"] == "delivered" or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert delivery["state"] == "delivered"
    assert [a["status_code"] for a in delivery["attempts"]] == [500, 503, 200]
    assert delivery["payload"]["data"]["company_id"] == "a"


def test_coverage_changes_and_overdue_companies_are_announced(
    client: TestClient, receiver: Receiver
) -> None:
    register(client, receiver.url, ["coverage.changed", "request.overdue"])
    wait_until_watched(client)
    client.post("/v1/acknowledgements", json=ANSWER)
    receiver.wait_for(1)
    [changed] = receiver.events("coverage.changed")
    assert changed["data"]["request_id"] == "bcp"
    assert changed["data"]["states"]["acknowledged"] == 1
    assert receiver.events("request.overdue") == []


def test_counts_returning_to_an_earlier_value_are_announced_again(
    client: TestClient, receiver: Receiver
) -> None:
    register(client, receiver.url, ["coverage.changed"])
    wait_until_watched(client)
    statuses = ["accepted", "declined", "accepted", "declined"]
    for n, status in enumerate(statuses, start=1):
        at = (NOW - timedelta(days=5 - n)).isoformat()  # each answer replaces the last
        answer = {**ANSWER, "status": status, "at": at}
        assert client.post("/v1/acknowledgements", json=answer).status_code == 201
        receiver.wait_for(n)  # seen before the next answer
    time.sleep(0.3)
    changed = receiver.events("coverage.changed")
    assert [e["data"]["states"]["acknowledged"] for e in changed] == [1, 0, 1, 0]
    assert [e["data"]["states"]["declined"] for e in changed] == [0, 1, 0, 1]
    assert len({e["id"] for e in changed}) == 4


def test_companies_turning_overdue_by_the_clock_are_announced_once(
    client: TestClient, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    register(client, receiver.url, ["request.overdue"])
    wait_until_watched(client)  # a and c pending
    later = NOW + timedelta(days=21)  # reached 10 days ago, due in 30
    monkeypatch.setattr(coverage_module, "utc_now", lambda: later)
    receiver.wait_for(2)
    time.sleep(0.3)
    overdue = receiver.events("request.overdue")
    assert sorted(e["data"]["company_id"] for e in overdue) == ["a", "c"]


def test_registration_is_validated(client: TestClient) -> None:
    for body, field in [({"url": "ftp://x", "events": ["coverage.changed"]}, "url"),
                        ({"url": "http://x.test", "events": []}, "events"),
                        ({"url": "http://x.test", "events": ["coverage.exploded"]}, "events[0]")]:
        response = client.post("/v1/webhooks", json=body)
        assert response.status_code == 422
        assert response.json()["field"] == field
    assert client.get("/v1/webhooks/nope/deliveries").status_code == 404


# -- the store contract -----------------------------------------------------------------------


def hook(store: CascadeStore, hook_id: str, events: tuple[str, ...]) -> Webhook:
    created = Webhook(id=hook_id, url="http://127.0.0.1:9/x", events=events, secret="s",
                      description="", created_at_us=to_epoch_us(utc_now()))
    store.add_webhook(created)
    return created


def test_events_are_enqueued_once_per_subscriber_and_claimed_once(store: CascadeStore) -> None:
    hook(store, "w1", ("acknowledgement.recorded",))
    hook(store, "w2", ("coverage.changed", "acknowledgement.recorded"))
    ack = event("acknowledgement.recorded", "ack:1", {"seq": 1})
    assert store.enqueue_events([ack, event("coverage.changed", "cov:1", {})]) == 3
    assert store.enqueue_events([ack]) == 0  # another worker noticed the same thing
    revision = store.revision()
    now = to_epoch_us(utc_now())
    claimed = store.claim_deliveries(now_us=now, lease_until_us=now + 10**7, limit=10)
    assert sorted((d.webhook_id, d.event_id) for d, _ in claimed) == [
        ("w1", "ack:1"), ("w2", "ack:1"), ("w2", "cov:1")]
    assert store.claim_deliveries(now_us=now, lease_until_us=now + 10**7, limit=10) == []
    delivery, _ = claimed[0]
    attempt = DeliveryAttempt(at_us=now, status_code=500, error=None, duration_ms=3.0)
    store.finish_attempt(delivery.id, attempt, state="pending", next_attempt_at_us=now + 5)
    again = store.claim_deliveries(now_us=now + 5, lease_until_us=now + 10**7, limit=10)
    assert [(d.id, d.attempts) for d, _ in again] == [(delivery.id, (attempt,))]
    assert store.revision() == revision  # the outbox is not data
    assert store.delete_webhook("w1") and store.list_deliveries("w1") == []
    assert [d.event_id for d in store.list_deliveries("w2")] == ["cov:1", "ack:1"]


def figures(acknowledged: int, *, revision: int, valid_until: int = 10**18) -> RequestFigures:
    return RequestFigures(request_id="bcp", topic="business_continuity",
                          states={"acknowledged": acknowledged, "pending": 2 - acknowledged},
                          gaps=0, uncovered_paths=2 - acknowledged, coverage_ratio=0.5,
                          overdue=(), revision=revision, valid_until=valid_until)


def test_workers_seeing_one_change_enqueue_one_event_and_a_revisit_is_new(
    store: CascadeStore,
) -> None:
    hook(store, "w1", ("coverage.changed",))
    now = figures(1, revision=7)
    assert store.enqueue_events(coverage_events({"bcp": figures(0, revision=5)}, [now])) == 1
    # another worker, which last looked at another revision, sees the same change
    assert store.enqueue_events(coverage_events({"bcp": figures(0, revision=6)}, [now])) == 0
    back = figures(0, revision=8)  # a later write brings the counts back
    assert store.enqueue_events(coverage_events({"bcp": now}, [back])) == 1
    by_clock = figures(1, revision=8, valid_until=2 * 10**18)  # and the clock, forth again
    assert store.enqueue_events(coverage_events({"bcp": back}, [by_clock])) == 1
    assert len(store.list_deliveries("w1")) == 3
