"""Incident exposure at scale: cold and warm, from the coverage snapshot.

    .venv/bin/cascade generate --companies 300000 --links 1000000 --seed 1 \\
        --store sqlite:///big.db
    .venv/bin/python benchmarks/incident_exposure.py --store sqlite:///big.db

or, without a store, a network generated in memory into a temporary SQLite file:

    .venv/bin/python benchmarks/incident_exposure.py --links 100000

Two incidents: every company in Japan (a country-wide pandemic: ~1/13 of the generated
companies) and 50 listed companies (a fire at a few plants). For the root (the focal
company) it prints, in one process:

* cold: a fresh snapshot's first coverage of the root's request (if it has one), then the
  first exposure (locations read, the root's component DAG built);
* warm: `GET .../exposure` and the first page of `.../exposure/companies` (100 rows), the
  median of --runs runs, nothing written in between;
* after one write (an answer): the exposure again (the atlas follows the change log).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from graph_models.incidents import Incident
from graph_models.models import Acknowledgement, utc_now
from loaders.demo import write_network
from loaders.synthetic import generate_network
from service.config.settings import Settings
from service.coverage.answers import coverage_read
from service.coverage.snapshot import CoverageSnapshot
from service.incidents import service as incidents
from service.incidents.atlas import IncidentAtlas
from service.store import build_store
from service.store.port import CascadeStore


def timed(work: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = work()
    return time.perf_counter() - start, result


def median_of(runs: int, work: Callable[[], Any]) -> float:
    return statistics.median(timed(work)[0] for _ in range(runs))


def prepare(store: CascadeStore) -> tuple[str, list[str]]:
    """The root and the incident ids, recorded if missing."""
    root = next(r.issuer_id for r in store.list_requests()) if store.list_requests() \
        else store.list_companies(limit=1)[0].id
    listed = [c.id for c in store.list_companies(limit=50, after="s3")]
    areas = {"bench-country": {"countries": ["JP"]}, "bench-plants": {"company_ids": listed}}
    for incident_id, area in areas.items():
        if store.get_incident(incident_id) is None:  # type: ignore[attr-defined]
            store.create_incident(Incident.model_validate({  # type: ignore[attr-defined]
                "id": incident_id, "title": incident_id, "kind": "other",
                "occurred_at": utc_now(), "created_at": utc_now(), "area": area}))
    return root, list(areas)


def run(store: CascadeStore, runs: int) -> None:
    root, incident_ids = prepare(store)
    snapshot = CoverageSnapshot(store)
    atlas = IncidentAtlas(store, snapshot)
    requests = [r for r in store.list_requests() if r.issuer_id == root]
    if requests:
        took, _ = timed(lambda: coverage_read(snapshot.read(requests[0].id, None), as_of=None))
        print(f"cold first coverage ({requests[0].id}): {took:.2f} s")
    network = snapshot.network()
    print(f"network: {network.size:,} companies, {network.link_count:,} links; root {root}")
    for incident_id in incident_ids:
        def exposure(incident_id: str = incident_id) -> Any:
            return incidents.exposure(atlas=atlas, incident_id=incident_id, root=root,
                                      categories=None, as_of=None)

        def companies(incident_id: str = incident_id) -> Any:
            return incidents.exposed_companies(atlas=atlas, incident_id=incident_id, root=root,
                                               categories=None, as_of=None, limit=100,
                                               cursor=None)

        took, found = timed(exposure)
        print(f"{incident_id}: exposed {found.exposed:,}, tier-1 {len(found.tier1)}, "
              f"paths {found.paths.exposed:,}/{found.paths.total:,}")
        print(f"  first exposure (cold for this incident): {took:.3f} s")
        print(f"  warm exposure, median of {runs}: {median_of(runs, exposure):.3f} s")
        print(f"  warm companies page (100), median of {runs}: {median_of(runs, companies):.3f} s")
    if requests:
        supplier = found.tier1[0].company_id if found.tier1 else root
        store.add_acknowledgements([Acknowledgement(
            request_id=requests[0].id, company_id=supplier, status="accepted", at=utc_now())])
        took, _ = timed(exposure)
        print(f"exposure after one answer (change log followed): {took:.3f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", help="sqlite:///PATH or neo4j://...; default: generate")
    parser.add_argument("--links", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.store or f"sqlite:///{Path(tmp) / 'bench.db'}"
        store = build_store(Settings(store=url))  # type: ignore[call-arg]
        store.init_schema()
        if args.store is None:
            net = generate_network(max(50, args.links // 3), seed=1, tiers=8, links=args.links)
            took, _ = timed(lambda: write_network(store, net))
            print(f"generated {args.links:,} links into {url} in {took:.1f} s")
        try:
            run(store, args.runs)
        finally:
            store.close()


if __name__ == "__main__":
    main()
