"""The per-worker snapshot: follows writes through the change log, serves repeated polls
from cache, and turns states by the clock without a write. Run on both stores."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from collections.abc import Iterator, Mapping
from datetime import timedelta
from pathlib import Path

import pytest

from api_tests.conftest import signed_in, warmed
from graph_models.models import (
    Acknowledgement,
    CascadeEvent,
    Company,
    CompanyKind,
    PolicyRequest,
    SupplyLink,
    utc_now,
)
from service.coverage import answers, heap
from service.coverage import snapshot as coverage_module
from service.coverage.dashboard import GapCountsDashboard
from service.coverage.snapshot import CoverageSnapshot
from service.store.port import CascadeStore, SnapshotEvents, StoreUnavailable

NOW = utc_now()


def seed(store: CascadeStore) -> None:
    """focal -> a -> b, focal -> c; the request reached a and c 10 days ago (due in 30)."""
    store.upsert_companies([Company(id=c, name=c.upper()) for c in ("focal", "a", "b", "c")])
    store.add_links([SupplyLink(buyer_id="focal", supplier_id="a"),
                     SupplyLink(buyer_id="a", supplier_id="b"),
                     SupplyLink(buyer_id="focal", supplier_id="c")])
    store.create_request(PolicyRequest(id="bcp", topic="business_continuity", title="BCP",
                                       issuer_id="focal", issued_at=NOW - timedelta(days=11),
                                       due_days=30))
    sent = NOW - timedelta(days=10)
    store.add_cascades([CascadeEvent(request_id="bcp", from_id="focal", to_id=v, sent_at=sent)
                        for v in ("a", "c")])


def row(service: GapCountsDashboard) -> dict:
    return service.gap_counts().requests[0].model_dump()


def test_a_repeated_poll_is_a_cache_hit(store: CascadeStore) -> None:
    seed(store)
    service = GapCountsDashboard(CoverageSnapshot(store))
    first = row(service)
    computed = service.snapshot.analyses
    assert row(service) == first
    assert service.snapshot.analyses == computed and service.snapshot.reloads == 1


def test_one_acknowledgement_updates_the_counts_without_reloading_the_network(
    store: CascadeStore,
) -> None:
    seed(store)
    service = GapCountsDashboard(CoverageSnapshot(store))
    before = row(service)
    assert (before["pending"], before["gaps"], before["unreached"]) == (2, 0, 1)
    store.add_acknowledgements([Acknowledgement(request_id="bcp", company_id="a",
                                                status="accepted", at=NOW - timedelta(days=1))])
    after = row(service)
    # a is acknowledged now: one fewer pending, and its uncascaded link to b is a gap
    assert (after["pending"], after["gaps"], after["unreached"]) == (1, 1, 1)
    assert service.snapshot.reloads == 1


def test_network_changes_reach_the_snapshot_through_the_change_log(store: CascadeStore) -> None:
    seed(store)
    service = GapCountsDashboard(CoverageSnapshot(store))
    assert row(service)["unreached"] == 1
    store.upsert_companies([Company(id="d", name="D", kind=CompanyKind.smelter)])
    store.add_links([SupplyLink(buyer_id="c", supplier_id="d", category="raw_materials")])
    assert row(service)["unreached"] == 2
    store.delete_link("a", "b")
    assert row(service)["unreached"] == 1
    assert service.snapshot.reloads == 1
    assert [u.id for u in answers.upstream(service.snapshot, company_id="c", depth=2)] == ["d"]


def test_a_second_worker_sees_the_first_workers_writes(store: CascadeStore) -> None:
    seed(store)
    one, two = (GapCountsDashboard(CoverageSnapshot(store)) for _ in range(2))
    assert row(one) == row(two)
    store.add_cascades([CascadeEvent(request_id="bcp", from_id="a", to_id="b",
                                     sent_at=NOW - timedelta(days=2))])
    assert row(two)["unreached"] == 0 and row(one)["unreached"] == 0
    assert one.snapshot.reloads == two.snapshot.reloads == 1


def test_a_pending_company_turns_overdue_by_the_clock_alone(
    store: CascadeStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(store)
    service = GapCountsDashboard(CoverageSnapshot(store))
    assert (row(service)["pending"], row(service)["overdue"]) == (2, 0)
    later = NOW + timedelta(days=21)  # reached 10 days ago + 30 days due, and a bit
    monkeypatch.setattr(coverage_module, "utc_now", lambda: later)
    assert (row(service)["pending"], row(service)["overdue"]) == (0, 2)


def test_a_reload_happens_when_the_change_log_cannot_answer(store: CascadeStore) -> None:
    seed(store)
    service = GapCountsDashboard(CoverageSnapshot(store, change_limit=1))
    row(service)
    store.upsert_companies([Company(id=f"x{i}", name=f"X{i}") for i in range(3)])
    store.add_links([SupplyLink(buyer_id="c", supplier_id=f"x{i}") for i in range(3)])
    assert row(service)["unreached"] == 4
    assert service.snapshot.reloads == 2


class EventsLost(Mapping[str, SnapshotEvents]):
    """A snapshot's events whose background read failed (Neo4j reads them after the
    network, while the engine builds on it)."""

    def __getitem__(self, request_id: str) -> SnapshotEvents:
        raise StoreUnavailable("the events' connection dropped")

    def __iter__(self) -> Iterator[str]:
        raise StoreUnavailable("the events' connection dropped")

    def __len__(self) -> int:
        raise StoreUnavailable("the events' connection dropped")


def test_a_failed_events_read_caches_nothing_and_the_next_poll_reloads(
    store: CascadeStore, monkeypatch: pytest.MonkeyPatch,
) -> None:
    seed(store)
    service = GapCountsDashboard(CoverageSnapshot(store))
    load = store.load_snapshot
    monkeypatch.setattr(store, "load_snapshot",
                        lambda ids: dataclasses.replace(load(ids), events=EventsLost()))
    with pytest.raises(StoreUnavailable):
        row(service)
    monkeypatch.setattr(store, "load_snapshot", load)
    assert (row(service)["pending"], row(service)["unreached"]) == (2, 1)
    assert service.snapshot.reloads == 1


def test_over_http_a_workers_own_write_shows_at_once_and_others_within_the_watch(
    store: CascadeStore,
) -> None:
    import time

    from fastapi.testclient import TestClient

    from service.app import create_app
    from service.config.settings import Settings

    seed(store)
    app = create_app(Settings(revision_watch_ms=20), store=store)
    with TestClient(app) as client:
        signed_in(warmed(client))
        def pending() -> int:
            return client.get("/v1/gap-counts").json()["requests"][0]["pending"]

        assert pending() == 2
        service = app.state.services.dashboard
        time.sleep(0.1)  # the watch has seen the revision: polls are answered from memory
        computed = service.snapshot.analyses
        assert [pending() for _ in range(5)] == [2] * 5 and service.snapshot.analyses == computed
        answer = {"request_id": "bcp", "company_id": "a", "status": "accepted",
                  "at": (NOW - timedelta(days=1)).isoformat()}
        assert client.post("/v1/acknowledgements", json=answer).status_code == 201
        assert pending() == 1  # this worker's own write: no waiting for the watch
        store.add_acknowledgements([Acknowledgement(  # another worker's write
            request_id="bcp", company_id="c", status="declined", at=NOW - timedelta(hours=1))])
        deadline = time.monotonic() + 5
        while pending() != 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert pending() == 0



_BUILD = """
import os, resource, numpy as np
from pathlib import Path
from service.coverage import heap

def resident_mib():
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

before = resident_mib()
with heap.roomy_heap():
    temporaries = [np.ones(n) for n in range(1_000, 200_000, 997)]
    for _ in range(5):  # large arrays built and dropped, as the engine's are
        column = np.ones(8_000_000)
        del column
    del temporaries
    held = resident_mib()
after = resident_mib()
faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(100):  # what an answer's update does at a million companies
    column = np.ones(1_000_000)
    column = column + 1
faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults
print(held - before, after - before, faults)
"""


@pytest.mark.skipif(heap._LIBC is None, reason="tunes glibc's allocator only")
def test_the_memory_a_snapshot_build_reuses_is_handed_back_when_it_ends() -> None:
    """A cold read keeps freed memory for its next arrays (no page faults for each), a
    worker holds no more than its snapshot once the read is over, and the arrays of
    later updates still come from the heap (a fresh process, so no earlier test's free
    memory is counted)."""
    run = subprocess.run([sys.executable, "-c", _BUILD], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).parents[1])
    held, after, faults = (float(figure) for figure in run.stdout.split())
    assert held > 100, "freed memory is kept for reuse while the build runs"
    assert after < 32, "and handed back once it ends"
    # later arrays of a few MB reuse the heap: not 2,000 pages faulted in for each
    assert faults < 20_000
