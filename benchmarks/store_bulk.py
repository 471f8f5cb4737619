"""Bulk load and coverage time on SQLite versus Neo4j, measured in one run.

    .venv/bin/python benchmarks/store_bulk.py --companies 100000 --links 300000

Starts a local Neo4j with the project's launcher unless --neo4j-uri is given. For each
store: time to write the network through the port (companies, links, one request with
its cascades and answers), then the median of --repeats runs of a first full coverage
computation from a cold snapshot (load the graph + events from the store, analyse, gaps,
path counts). Prints one table and the Neo4j/SQLite ratios.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from graph_models.coverage import gap_edges
from graph_models.models import PolicyRequest, utc_now
from graph_models.paths import path_counts
from loaders.demo import write_network
from loaders.synthetic import SyntheticNetwork, generate_network, issue_and_cascade
from service.coverage import CoverageService
from service.store.port import CascadeStore


def build_network(companies: int, links: int, seed: int) -> SyntheticNetwork:
    net = generate_network(companies, seed=seed, tiers=8, links=links)
    request = PolicyRequest(id="bench-bcp", topic="business_continuity", title="BCP",
                            issuer_id=net.focal_id, issued_at=utc_now())
    issue_and_cascade(net, request, seed=seed)
    return net


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def first_coverage(store: CascadeStore) -> None:
    """A cold coverage computation: a fresh service has no snapshot yet."""
    service = CoverageService(store)
    _, analysis = service.analyse("bench-bcp", None)
    gap_edges(analysis)
    path_counts(analysis)


def measure(name: str, store: CascadeStore, net: SyntheticNetwork, repeats: int) -> dict:
    load = timed(lambda: write_network(store, net))
    runs = [timed(lambda: first_coverage(store)) for _ in range(repeats)]
    return {"store": name, "load_s": load, "coverage_s": statistics.median(runs)}


def neo4j_store(uri: str | None, workdir: Path):  # type: ignore[no-untyped-def]
    from service.store.neo4j import Neo4jStore

    proc = None
    if uri is None:
        from service import dev_neo4j

        port = dev_neo4j.free_port()
        proc = dev_neo4j.start_neo4j(port, workdir / "neo4j")
        uri = dev_neo4j.bolt_uri(port)
    store = Neo4jStore(uri, user=None, password=None, database="neo4j")
    store.clear_all()
    store.init_schema()
    return store, proc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--companies", type=int, default=100_000)
    parser.add_argument("--links", type=int, default=300_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--neo4j-uri")
    args = parser.parse_args()
    net = build_network(args.companies, args.links, args.seed)
    print(f"network: {len(net.companies)} companies, {len(net.links)} links, "
          f"{len(net.cascades)} cascades, {len(net.acknowledgements)} answers")
    with tempfile.TemporaryDirectory() as tmp:
        from service.store.sqlite import SqliteStore

        sqlite = SqliteStore(str(Path(tmp) / "bench.db"))
        sqlite.init_schema()
        rows = [measure("sqlite", sqlite, net, args.repeats)]
        sqlite.close()
        neo, proc = neo4j_store(args.neo4j_uri, Path(tmp))
        try:
            rows.append(measure("neo4j", neo, net, args.repeats))
        finally:
            neo.close()
            if proc is not None:
                from service import dev_neo4j

                dev_neo4j.stop_neo4j(proc)
    print(f"{'store':8} {'bulk load s':>12} {'first coverage s (median)':>26}")
    for row in rows:
        print(f"{row['store']:8} {row['load_s']:12.2f} {row['coverage_s']:26.2f}")
    base, neo = rows
    print(f"neo4j/sqlite: load x{neo['load_s'] / base['load_s']:.2f}, "
          f"coverage x{neo['coverage_s'] / base['coverage_s']:.2f}")


if __name__ == "__main__":
    main()
