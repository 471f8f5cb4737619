"""What a due date passing costs: the gap counts again when the clock turns a state.

    .venv/bin/python benchmarks/clock_turn.py --store sqlite:///big.db --runs 5

Loads the store's first request (or --request) as a worker does, then, --runs times, moves
to the first instant at which a state turns by the clock alone (`valid_until()`: a pending
company falling overdue, an acceptance expiring) and computes the figures a gap-counts
poll shows (states, coverage, gap links, path counts) two ways, checking they agree:

* baseline: a full analysis at that instant, as if nothing were known;
* advanced: from the previous analysis (`analyse(..., previous=)`), which states again
  only the companies the clock turned.

Prints the medians, their ratio, and how many companies are pending (each a due date
ahead).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from functools import partial

import numpy as np

from graph_models.engine import STATE_CODE, ArrayAnalysis, analyse
from graph_models.models import NodeState, from_epoch_us
from service.config.settings import Settings
from service.coverage.snapshot import CoverageSnapshot
from service.store import build_store


def figures(analysis: ArrayAnalysis) -> tuple[object, ...]:
    """What a gap-counts poll shows of the analysis."""
    return (analysis.state_counts(), analysis.coverage_ratio, int(analysis.gap_links.size),
            analysis.path_counts())


def timed(work: Callable[[], ArrayAnalysis]) -> tuple[float, ArrayAnalysis]:
    start = time.perf_counter()
    analysis = work()
    figures(analysis)
    return time.perf_counter() - start, analysis


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", required=True, help="sqlite:///PATH or bolt://...")
    parser.add_argument("--request", help="default: the store's first request")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    store = build_store(Settings(store=args.store))
    request_id = args.request or store.list_requests()[0].id
    snapshot = CoverageSnapshot(store)
    start = time.perf_counter()
    analysis = snapshot.read(request_id, None).analysis
    figures(analysis)
    print(f"{args.store}: {analysis.scope.network.size:,} companies; request {request_id} "
          f"loaded in {time.perf_counter() - start:.1f} s; "
          f"{int((analysis.state == STATE_CODE[NodeState.pending]).sum()):,} pending")
    full, advanced = [], []
    for _ in range(args.runs):
        at = from_epoch_us(analysis.valid_until())
        took, fresh = timed(partial(ArrayAnalysis, analysis.ledger, at))
        full.append(took)
        took, nxt = timed(partial(analyse, analysis.ledger, at, previous=analysis))
        advanced.append(took)
        assert figures(nxt) == figures(fresh) and np.array_equal(nxt.state, fresh.state)
        analysis = nxt
    baseline, ours = statistics.median(full), statistics.median(advanced)
    print(f"a state turned by the clock, median of {args.runs}: full analysis "
          f"{baseline * 1000:.1f} ms, advanced {ours * 1000:.1f} ms ({baseline / ours:.1f}x)")
    store.close()


if __name__ == "__main__":
    main()
