"""The gap list with exact impacts (uncovered companies upstream of each gap head) of one
request, on a store that is already filled:

    .venv/bin/python benchmarks/gap_impacts.py --store sqlite:///big.db --request gen-bcp

Prints the gap and head counts, then the median of --runs computations of the impacts
each way `graph_models.engine.reach.reach_counts` can put the bits (the cost model picks
one; the other is the baseline), on one snapshot read once.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from graph_models.engine import reach  # noqa: E402
from service.config.settings import Settings  # noqa: E402
from service.coverage.snapshot import CoverageSnapshot  # noqa: E402
from service.store import build_store  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", required=True)
    parser.add_argument("--request", required=True)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    store = build_store(Settings(store=args.store))  # type: ignore[call-arg]
    analysis = CoverageSnapshot(store).read(args.request, None).analysis
    scope = analysis.scope
    heads = np.unique(scope.dst[analysis.gap_links])
    uncovered = np.flatnonzero(scope.inside & ~analysis.covered)
    print(f"{args.request}: {scope.dag.size:,} groups, {scope.dag.edge_src.size:,} group "
          f"links; {analysis.gap_links.size:,} gaps into {heads.size:,} heads; "
          f"{uncovered.size:,} uncovered companies")
    chosen = reach._cheaper_upwards(scope.dag, heads.size, uncovered.size,
                                    np.unique(scope.dag.comp[uncovered]).size)
    original = reach._cheaper_upwards
    for upwards in (chosen, not chosen):
        reach._cheaper_upwards = lambda *_, up=upwards: up  # type: ignore[assignment]
        took = []
        for _ in range(args.runs):
            start = time.perf_counter()
            reach.reach_counts(scope.dag, heads, uncovered)
            took.append(time.perf_counter() - start)
        way = "uncovered bits up, popcount per head" if upwards else \
            "head bits down, weighed per uncovered group"
        label = "chosen" if upwards == chosen else "other"
        print(f"{label:>6}: {way}: median of {args.runs} {statistics.median(took):.1f} s")
    reach._cheaper_upwards = original
    store.close()


if __name__ == "__main__":
    main()
