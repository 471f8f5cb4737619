"""Several service processes on one store: a write through any of them is seen through
every other (within the revision watch), on both stores."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from api_tests.conftest import neo4j_test_settings
from benchmarks._server import ServiceProcess, _admin_key
from graph_models.models import utc_now
from service.store.port import CascadeStore

AUTH_CACHE_S = 5  # CASCADE_AUTH_CACHE_S's default: how long a worker remembers a key
WATCH = {"CASCADE_REVISION_WATCH_MS": "50"}


@pytest.fixture
def store_url(store: CascadeStore, store_kind: str, tmp_path: Path) -> str:
    """The URL of the (empty, schema in place) parametrised store, for other processes."""
    if store_kind == "sqlite":
        return f"sqlite:///{tmp_path / 'cascade.db'}"
    return str(neo4j_test_settings()["uri"])


@pytest.fixture
def two_workers(store_url: str) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    auth = {"Authorization": f"Bearer {_admin_key(store_url)}"}
    one, two = ServiceProcess(store_url, env=WATCH), ServiceProcess(store_url, env=WATCH)
    try:
        one.start()
        two.start()
        with httpx.Client(base_url=one.base_url, headers=auth, timeout=30) as a, \
                httpx.Client(base_url=two.base_url, headers=auth, timeout=30) as b:
            yield a, b
    finally:
        one.stop()
        two.stop()


def eventually(check: Callable[[], bool], seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def counts(client: httpx.Client, request_id: str) -> dict[str, object]:
    """The request's gap-counts row, empty while the worker has not seen the request."""
    rows = client.get("/v1/gap-counts").json()["requests"]
    return next((r for r in rows if r["request_id"] == request_id), {})


def test_a_write_through_one_worker_is_seen_through_the_other(
    two_workers: tuple[httpx.Client, httpx.Client],
) -> None:
    a, b = two_workers
    for company in ("focal", "tier1"):
        assert a.post("/v1/companies", json={"id": company, "name": company}).status_code == 201
    link = {"buyer_id": "focal", "supplier_id": "tier1"}
    assert a.post("/v1/links", json=link).status_code == 201
    issued = (utc_now() - timedelta(days=1)).isoformat()
    request = {"id": "bcp", "topic": "business_continuity", "title": "BCP", "issuer_id": "focal",
               "issued_at": issued, "due_days": 30}
    assert a.post("/v1/requests", json=request).status_code == 201
    assert eventually(lambda: counts(b, "bcp").get("unreached") == 1)  # b polls a warm snapshot
    forward = {"request_id": "bcp", "from_id": "focal", "to_id": "tier1", "sent_at": issued}
    assert a.post("/v1/cascades", json=forward).status_code == 201
    assert eventually(lambda: counts(b, "bcp").get("pending") == 1)
    answer = {"request_id": "bcp", "company_id": "tier1", "status": "accepted"}
    assert b.post("/v1/acknowledgements", json=answer).status_code == 201
    assert counts(b, "bcp")["pending"] == 0  # the writer's own poll: at once
    assert eventually(lambda: counts(a, "bcp")["pending"] == 0)
    assert counts(a, "bcp") == counts(b, "bcp")


def test_a_key_revoked_through_one_worker_is_refused_by_the_other_within_the_key_cache(
    two_workers: tuple[httpx.Client, httpx.Client],
) -> None:
    a, b = two_workers
    created = a.post("/v1/keys", json={"role": "viewer", "name": "wallboard"}).json()
    wallboard = {"Authorization": f"Bearer {created['key']}"}
    assert b.get("/v1/gap-counts", headers=wallboard).status_code == 200  # b remembers it
    assert a.delete(f"/v1/keys/{created['id']}").status_code == 204
    assert a.get("/v1/gap-counts", headers=wallboard).status_code == 401  # at once
    assert eventually(lambda: b.get("/v1/gap-counts", headers=wallboard).status_code == 401,
                      seconds=AUTH_CACHE_S + 5)
