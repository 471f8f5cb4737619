"""What a supplier's cascade view costs next to the request's own coverage.

    .venv/bin/cascade generate --companies 300000 --links 1000000 --seed 1 \\
        --store sqlite:///big.db
    .venv/bin/python benchmarks/cascade_views.py --store sqlite:///big.db

On the first request of the store, for the `--viewers` tier-1 suppliers with the largest
cones (the costliest views), each figure the median of `--runs`:

* request, first coverage: a new `CoverageSnapshot` in a fresh process loads the network
  and the request's events and answers `coverage` (the issuer's own cold read);
* view, cold: the same in a fresh process for a supplier's view (load included);
* view, first on a warm snapshot: a view not read before, on a snapshot that has the
  request loaded (what a supplier's first poll costs a running service);
* view, poll: the same view read again with nothing written (a cache hit);
* view, after one answer: a direct supplier of the viewer accepts, the view is read again
  (its ledger folds the event, the previous analysis is advanced);
* view, masked gap page: the first page of gaps as the supplier's integration key sees it;
  dominated by the engine's exact impact of every gap (computed once per "now" analysis
  and kept, as for the request's own `/gaps`); the pseudonyms are computed once and kept.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from graph_models.models import Acknowledgement, utc_now
from service.access.keys import Principal, Role
from service.config.settings import Settings
from service.coverage import views
from service.coverage.answers import coverage_read
from service.coverage.snapshot import CoverageSnapshot
from service.store import build_store
from service.store.port import CascadeStore

SECRET = b"benchmark-secret"


def _open(url: str) -> CascadeStore:
    return build_store(Settings(store=url))


def _timed(work: Callable[[], Any]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def _cold(url: str, request_id: str, viewer: str | None, out: Any) -> None:
    """In a fresh process: a new snapshot's first coverage of the request or a view."""
    store = _open(url)
    snapshot = CoverageSnapshot(store)
    read = ((lambda: snapshot.read(request_id, None)) if viewer is None
            else (lambda: snapshot.read_view(request_id, viewer, None)))
    out.put(_timed(lambda: coverage_read(read(), as_of=None)))
    store.close()


def cold_median(url: str, request_id: str, viewer: str | None, runs: int) -> float:
    times = []
    for _ in range(runs):
        queue: Any = mp.get_context("spawn").Queue()
        process = mp.get_context("spawn").Process(target=_cold,
                                                  args=(url, request_id, viewer, queue))
        process.start()
        times.append(queue.get())
        process.join()
    return statistics.median(times)


def widest_suppliers(snapshot: CoverageSnapshot, request_id: str, count: int) -> list[str]:
    """The issuer's direct suppliers that reach the most companies, widest first."""
    analysis = snapshot.read(request_id, None).analysis
    scope = analysis.scope
    suppliers = np.unique(scope.dst[scope.src == scope.root])
    # a supplier's cone is at least the suppliers above it in the tiers: rank by the
    # links out of it and its suppliers (two hops), cheap and close enough to pick
    out = np.bincount(scope.src, minlength=scope.network.size)
    reach = {int(s): int(out[s]) + int(out[scope.dst[scope.src == s]].sum())
             for s in suppliers}
    ranked = sorted(reach, key=lambda s: -reach[s])[:count]
    return [scope.network.ids[s] for s in ranked]


def warm_figures(url: str, request_id: str, viewers: list[str]) -> dict[str, list[float]]:
    store = _open(url)
    snapshot = CoverageSnapshot(store, view_limit=len(viewers) + 1)
    coverage_read(snapshot.read(request_id, None), as_of=None)
    figures: dict[str, list[float]] = {"first": [], "poll": [], "answer": [], "page": []}
    for viewer in viewers:
        figures["first"].append(_timed(lambda v=viewer: coverage_read(  # type: ignore[misc]
            snapshot.read_view(request_id, v, None), as_of=None)))
        figures["poll"].append(statistics.median(_timed(lambda v=viewer: coverage_read(  # type: ignore[misc]
            snapshot.read_view(request_id, v, None), as_of=None)) for _ in range(20)))
        reading = snapshot.read_view(request_id, viewer, None)
        who = Principal(key_id="bench", role=Role.integration, company_id=viewer)
        ids = views.identities_for(reading, who, SECRET)
        figures["page"].append(_timed(lambda r=reading, i=ids: views.view_gap_page(  # type: ignore[misc]
            snapshot, r, i, limit=100, cursor=None)))
    for viewer in viewers:  # a direct supplier of the viewer answers; the view read again
        scope = snapshot.read_view(request_id, viewer, None).analysis.scope
        supplier = scope.network.ids[int(scope.dst[scope.src == scope.root][0])]
        store.add_acknowledgements([Acknowledgement(
            request_id=request_id, company_id=supplier, status="accepted", at=utc_now())])
        figures["answer"].append(_timed(lambda v=viewer: coverage_read(  # type: ignore[misc]
            snapshot.read_view(request_id, v, None), as_of=None)))
    store.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default="sqlite:///big.db")
    parser.add_argument("--viewers", type=int, default=5)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    store = _open(args.store)
    request_id = store.list_requests()[0].id
    viewers = widest_suppliers(CoverageSnapshot(store), request_id, args.viewers)
    links = len(CoverageSnapshot(store).network().src)
    store.close()
    print(f"{args.store}: {links:,} links, request {request_id}, viewers {viewers}")
    own = cold_median(args.store, request_id, None, args.runs)
    cold = cold_median(args.store, request_id, viewers[0], args.runs)
    print(f"request, first coverage (fresh process)   median {own * 1000:8.1f} ms")
    print(f"view, cold (fresh process)                median {cold * 1000:8.1f} ms")
    warm = warm_figures(args.store, request_id, viewers)
    for name, label in [("first", "view, first on a warm snapshot"),
                        ("poll", "view, poll (cache hit)"),
                        ("answer", "view, after one answer"),
                        ("page", "view, first masked gap page (100)")]:
        print(f"{label:<42}median {statistics.median(warm[name]) * 1000:8.1f} ms"
              f"  (max {max(warm[name]) * 1000:.1f})")


if __name__ == "__main__":
    main()
