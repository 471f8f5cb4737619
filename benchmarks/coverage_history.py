"""A 1,000-point coverage history of each demo request: wall time (median of several runs)
and how many analyses it took, against a baseline in the same run that analyses every
point (the cost before histories skipped the points where nothing changed).

    .venv/bin/python benchmarks/coverage_history.py [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from graph_models.engine import analyse
from graph_models.models import utc_now
from loaders.demo import load_demo_if_empty
from service.config.settings import Settings
from service.coverage import answers
from service.coverage.snapshot import CoverageSnapshot
from service.store import build_store


def every_point(snapshot: CoverageSnapshot, request_id: str, points: int) -> float:
    """The baseline: one analysis per point, each from the one before."""
    _, request, ledger = snapshot.ledger(request_id)
    start, to = request.issued_at, utc_now()
    step = (to - start) / (points - 1)
    began, previous = time.perf_counter(), None
    for n in range(points):
        previous = analyse(ledger, start + n * step, previous)
        previous.path_counts()
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        store = build_store(Settings(store=f"sqlite:///{Path(folder) / 'demo.db'}"))
        store.init_schema()
        load_demo_if_empty(store)
        snapshot = CoverageSnapshot(store)
        print(f"{'request':<30} {'points':>6} {'analyses':>8} {'median s':>9} "
              f"{'every point s':>14}")
        for request in store.list_requests():
            _, _, ledger = snapshot.ledger(request.id)
            step = (utc_now() - request.issued_at) / 999
            counted: list[int] = []
            real = answers.analyse

            def counting(*a: object, _real: object = real, _seen: list[int] = counted) -> object:
                _seen.append(1)
                return _real(*a)  # type: ignore[operator]

            answers.analyse = counting  # type: ignore[assignment]
            times = []
            for _ in range(args.runs):
                counted.clear()
                began = time.perf_counter()
                history = answers.history(snapshot, request_id=request.id, start=None,
                                          to=None, step=step, max_points=1000)
                times.append(time.perf_counter() - began)
            answers.analyse = real
            base = statistics.median(every_point(snapshot, request.id, len(history.points))
                                     for _ in range(args.runs))
            print(f"{request.id:<30} {len(history.points):>6} {len(counted):>8} "
                  f"{statistics.median(times):>9.3f} {base:>14.3f}")
        store.close()


if __name__ == "__main__":
    main()
