"""Idempotency-Key on the POST routes: replay, mismatch, in flight, scope, expiry, and the
record committed with its effect (on both stores)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from api_tests.conftest import bearer, signed_in
from api_tests.test_api_batches import company, seed_chain
from graph_models.models import Company, to_epoch_us, utc_now
from service.access.keys import Role, split_key
from service.app import create_app
from service.config.settings import Settings
from service.integrations.idempotency import IdempotentWrite, KeyInFlight, fingerprint_of
from service.store.port import CascadeStore, ClaimLost

ACK = {"request_id": "reach-1", "company_id": "acme-pcb", "status": "accepted",
       "at": "2026-03-02T09:00:00Z"}
SECOND = 1_000_000


def keyed(key: str) -> dict[str, str]:
    return {"Idempotency-Key": key}


def answers(client: TestClient) -> list[dict]:  # type: ignore[type-arg]
    return client.get("/v1/acknowledgements", params={"request_id": "reach-1"}).json()


def test_a_repeat_replays_the_stored_response_and_records_once(client: TestClient) -> None:
    seed_chain(client)
    first = client.post("/v1/acknowledgements", json=ACK, headers=keyed("ack-0001"))
    again = client.post("/v1/acknowledgements", json=ACK, headers=keyed('"ack-0001"'))
    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert len(answers(client)) == 1


def test_key_order_and_white_space_do_not_make_a_different_payload(client: TestClient) -> None:
    seed_chain(client)
    client.post("/v1/acknowledgements", json=ACK, headers=keyed("k"))
    reordered = '{ "at": "2026-03-02T09:00:00Z", "status": "accepted", ' \
                '"company_id": "acme-pcb", "request_id": "reach-1" }'
    again = client.post("/v1/acknowledgements", content=reordered,
                        headers={**keyed("k"), "Content-Type": "application/json"})
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"


def test_the_same_key_with_another_payload_is_refused(client: TestClient) -> None:
    seed_chain(client)
    client.post("/v1/acknowledgements", json=ACK, headers=keyed("ack-0001"))
    declined = {**ACK, "status": "declined"}
    response = client.post("/v1/acknowledgements", json=declined, headers=keyed("ack-0001"))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["field"] == "Idempotency-Key"
    assert [a["status"] for a in answers(client)] == ["accepted"]


def test_a_repeat_while_the_first_runs_is_a_conflict(client: TestClient,
                                                     store: CascadeStore) -> None:
    seed_chain(client)
    now = to_epoch_us(utc_now())
    # the first request has claimed the key and is still running
    store.claim_idempotency_key(
        f"{key_id_of(client)} POST /v1/acknowledgements", "slow-1",
        fingerprint=fingerprint_of(json.dumps(ACK).encode()), token="first",
        now_us=now, lease_until_us=now + 30 * SECOND,
    )
    response = client.post("/v1/acknowledgements", json=ACK, headers=keyed("slow-1"))
    assert response.status_code == 409
    assert response.headers["Retry-After"] == "1"
    assert answers(client) == []


def key_id_of(client: TestClient) -> str:
    parts = split_key(client.headers["Authorization"].removeprefix("Bearer "))
    assert parts is not None
    return parts[0]


def test_keys_are_scoped_to_the_caller(client: TestClient, store: CascadeStore) -> None:
    seed_chain(client)
    mine = client.post("/v1/acknowledgements", json=ACK, headers=keyed("shared"))
    theirs = client.post("/v1/acknowledgements", json={**ACK, "status": "declined"},
                         headers={**keyed("shared"), **bearer(store, Role.procurement)})
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert theirs.json()["posted_by"] != mine.json()["posted_by"]
    assert sorted(a["status"] for a in answers(client)) == ["accepted", "declined"]


def test_keys_are_scoped_to_the_route(client: TestClient) -> None:
    created = client.post("/v1/companies", json=company("acme-pcb"), headers=keyed("k-1"))
    other = client.post("/v1/companies/batch", json={"items": [company("tin-id")]},
                        headers=keyed("k-1"))
    assert created.status_code == 201
    assert other.status_code == 200
    assert "Idempotent-Replayed" not in other.headers
    assert other.json()["results"][0]["status"] == "created"


def test_a_refused_request_leaves_the_key_free(client: TestClient) -> None:
    client.post("/v1/companies/batch", json={"items": [company("focal-jp"),
                                                       company("acme-pcb")]})
    early = client.post("/v1/acknowledgements", json=ACK, headers=keyed("early"))
    assert early.status_code == 422  # the request does not exist yet
    seed_chain(client)
    retried = client.post("/v1/acknowledgements", json=ACK, headers=keyed("early"))
    assert retried.status_code == 201
    assert "Idempotent-Replayed" not in retried.headers


def test_a_batch_replay_returns_the_first_results(client: TestClient) -> None:
    body = {"items": [company("focal-jp"), {"id": "bad"}]}
    first = client.post("/v1/companies/batch", json=body, headers=keyed("b-1"))
    again = client.post("/v1/companies/batch", json=body, headers=keyed("b-1"))
    assert [r["status"] for r in again.json()["results"]] == ["created", "error"]
    assert again.content == first.content
    plain = client.post("/v1/companies/batch", json=body)  # without a key: honest outcome
    assert [r["status"] for r in plain.json()["results"]] == ["unchanged", "error"]


def test_a_malformed_key_is_refused_naming_the_header(client: TestClient) -> None:
    response = client.post("/v1/companies", json=company("acme-pcb"), headers=keyed("x" * 300))
    assert response.status_code == 422
    assert response.json()["field"].lower() == "idempotency-key"
    assert client.get("/v1/companies/acme-pcb").status_code == 404


def replayed(first: Response, again: Response, status: int) -> bool:
    return (first.status_code == again.status_code == status and again.content == first.content
            and again.headers.get("Idempotent-Replayed") == "true")


def replayed_without(secret: str, first: Response, again: Response) -> bool:
    """A replay of a secret-bearing call: the same answer, the secret withheld."""
    shown, kept = first.json(), again.json()
    return (first.status_code == again.status_code == 201 and shown[secret]
            and kept == {**shown, secret: None, "secret_withheld": True}
            and again.headers.get("Idempotent-Replayed") == "true")


def test_a_repeated_key_creates_one_api_key(client: TestClient) -> None:
    body = {"role": "viewer", "name": "dashboard"}
    first = client.post("/v1/keys", json=body, headers=keyed("key-1"))
    again = client.post("/v1/keys", json=body, headers=keyed("key-1"))
    assert replayed_without("key", first, again)
    assert [k["id"] for k in client.get("/v1/keys").json() if k["name"] == "dashboard"] == [
        first.json()["id"]]


def test_a_repeated_key_registers_one_webhook(client: TestClient) -> None:
    body = {"url": "https://hooks.example.com/hook", "events": ["coverage.changed"]}
    first = client.post("/v1/webhooks", json=body, headers=keyed("hook-1"))
    again = client.post("/v1/webhooks", json=body, headers=keyed("hook-1"))
    assert replayed_without("secret", first, again)
    assert [h["id"] for h in client.get("/v1/webhooks").json()] == [first.json()["id"]]


def upload_answers(client: TestClient, boundary: str, content: bytes = b"") -> Response:
    """An acknowledgements file without `at` (each load answers anew, at the time of
    loading), sent with the given multipart boundary."""
    csv = b"request_id,company_id,status\nreach-1,acme-pcb,accepted\n" + content
    files = {"file": ("answers.csv", csv)}
    return client.post("/v1/imports", data={"kind": "acknowledgements"}, files=files,
                       headers={**keyed("import-1"),
                                "Content-Type": f"multipart/form-data; boundary={boundary}"})


def test_an_import_retried_with_another_boundary_replays(client: TestClient) -> None:
    seed_chain(client)
    first = upload_answers(client, "first-attempt")
    again = upload_answers(client, "second-attempt")
    assert replayed(first, again, 200)
    assert first.json()["sections"]["acknowledgements"]["created"] == 1
    assert len(answers(client)) == 1
    other = upload_answers(client, "third", b"reach-1,tin-id,accepted\n")
    assert other.status_code == 422  # another file under the same key
    assert other.json()["field"] == "Idempotency-Key"


def test_a_refused_import_leaves_its_key_free(client: TestClient) -> None:
    refused = upload_answers(client, "early")  # reach-1 does not exist yet
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "acknowledgements[2].request_id"
    seed_chain(client)
    loaded = upload_answers(client, "later")
    assert loaded.status_code == 200
    assert "Idempotent-Replayed" not in loaded.headers


@pytest.fixture
def short_lived(store: CascadeStore) -> Iterator[TestClient]:
    settings = Settings(idempotency_ttl_s=0.3, revision_watch_ms=0)
    with TestClient(create_app(settings, store=store)) as test_client:
        yield signed_in(test_client)


def test_a_key_is_forgotten_after_its_retention(short_lived: TestClient) -> None:
    first = short_lived.post("/v1/companies", json=company("acme-pcb"), headers=keyed("k"))
    assert first.status_code == 201
    time.sleep(0.5)
    again = short_lived.post("/v1/companies", json=company("acme-pcb"), headers=keyed("k"))
    assert again.status_code == 409  # run again: the company exists now
    assert "Idempotent-Replayed" not in again.headers


# -- the store contract (both adapters) ------------------------------------------------------


def test_atomic_writes_all_or_nothing(store: CascadeStore) -> None:
    def half_then_fail() -> None:
        store.upsert_companies([Company(id="acme-pcb", name="Acme")])
        assert store.get_company("acme-pcb") is not None  # reads see the unit's writes
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        store.atomic(half_then_fail)
    assert store.get_company("acme-pcb") is None
    assert store.revision() == 0


def test_a_lost_claim_rolls_the_effect_back(store: CascadeStore) -> None:
    now = to_epoch_us(utc_now())
    assert store.claim_idempotency_key("s", "k", fingerprint="f", token="a", now_us=now,
                                       lease_until_us=now + 1) is None
    later = now + 10 * SECOND  # a's lease ran out: b takes the key over
    assert store.claim_idempotency_key("s", "k", fingerprint="f", token="b", now_us=later,
                                       lease_until_us=later + 30 * SECOND) is None

    def effect_of_a() -> None:
        store.upsert_companies([Company(id="acme-pcb", name="Acme")])
        store.complete_idempotency_key("s", "k", token="a", status=201, body=b"{}",
                                       content_type="application/json",
                                       expires_at_us=later + 60 * SECOND)

    with pytest.raises(ClaimLost):
        store.atomic(effect_of_a)
    assert store.get_company("acme-pcb") is None
    live = store.claim_idempotency_key("s", "k", fingerprint="f", token="c", now_us=later,
                                       lease_until_us=later + SECOND)
    assert live is not None and live.status is None  # still b's, in flight


def test_a_request_whose_key_was_taken_over_answers_in_flight(store: CascadeStore) -> None:
    """A slow request outlives its lease and a retry takes the key over: the slow one's
    effect is undone and its caller gets the retryable 409, not a 500."""
    once = IdempotentWrite(store=store, settings=Settings(), scope="s", key="k",
                           fingerprint="f")

    def slow_effect() -> tuple[int, dict[str, str]]:
        store.upsert_companies([Company(id="acme-pcb", name="Acme")])
        later = to_epoch_us(utc_now()) + 60 * SECOND  # past the 30 s lease
        store.claim_idempotency_key("s", "k", fingerprint="f", token="retry", now_us=later,
                                    lease_until_us=later + 30 * SECOND)
        return 201, {"id": "acme-pcb"}

    with pytest.raises(KeyInFlight) as refused:
        once.respond(slow_effect)
    assert refused.value.status == 409 and refused.value.retry_after == 1
    assert store.get_company("acme-pcb") is None


def test_a_finished_record_is_returned_until_it_expires(store: CascadeStore) -> None:
    now = to_epoch_us(utc_now())
    store.claim_idempotency_key("s", "k", fingerprint="f", token="a", now_us=now,
                                lease_until_us=now + SECOND)
    store.atomic(lambda: store.complete_idempotency_key(
        "s", "k", token="a", status=201, body=b'{"ok":1}', content_type="application/json",
        expires_at_us=now + 5 * SECOND))
    live = store.claim_idempotency_key("s", "k", fingerprint="g", token="b", now_us=now + 1,
                                       lease_until_us=now + SECOND)
    assert live is not None
    assert (live.fingerprint, live.status, live.body) == ("f", 201, b'{"ok":1}')
    expired = store.claim_idempotency_key("s", "k", fingerprint="g", token="b",
                                          now_us=now + 6 * SECOND,
                                          lease_until_us=now + 7 * SECOND)
    assert expired is None
    assert store.revision() == 0  # idempotency records are not data


def test_release_drops_only_its_own_unfinished_claim(store: CascadeStore) -> None:
    now = to_epoch_us(utc_now())
    store.claim_idempotency_key("s", "k", fingerprint="f", token="a", now_us=now,
                                lease_until_us=now + SECOND)
    store.release_idempotency_key("s", "k", token="someone-else")
    assert store.claim_idempotency_key("s", "k", fingerprint="f", token="b", now_us=now,
                                       lease_until_us=now + SECOND) is not None
    store.release_idempotency_key("s", "k", token="a")
    assert store.claim_idempotency_key("s", "k", fingerprint="f", token="b", now_us=now,
                                       lease_until_us=now + SECOND) is None


def test_concurrent_claims_have_one_winner(store: CascadeStore) -> None:
    now = to_epoch_us(utc_now())
    winners: list[str] = []
    start = threading.Barrier(6)

    def claim(token: str) -> None:
        start.wait()
        if store.claim_idempotency_key("s", "race", fingerprint="f", token=token, now_us=now,
                                       lease_until_us=now + 30 * SECOND) is None:
            winners.append(token)

    threads = [threading.Thread(target=claim, args=(f"t{i}",)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(winners) == 1
