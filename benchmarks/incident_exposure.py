"""Incident exposure at scale: cold and warm, from the coverage snapshot.

    .venv/bin/cascade generate --companies 300000 --links 1000000 --seed 1 \\
        --store sqlite:///big.db
    .venv/bin/python benchmarks/incident_exposure.py --store sqlite:///big.db

or, without a store, a network generated in memory into a temporary SQLite file:

    .venv/bin/python benchmarks/incident_exposure.py --links 100000

Two incidents: every company in Japan (a country-wide pandemic: ~1/13 of the generated
companies) and 50 listed companies (a fire at a few plants). For the root (the focal
company) it prints, in one process:

* cold, median of --runs fresh snapshots: the first coverage of the root's request (if it
  has one), then the first exposure (locations read, the root's reach bits built), then a
  new country-wide area on that now warm root;
* the warm start of a worker with the incidents open (`IncidentAtlas.warm`), then
  `GET .../exposure` and the first page of `.../exposure/companies` (100 rows), median of
  --runs, nothing written in between;
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

from graph_models.areas import Area
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


def cold(store: CascadeStore, root: str, request_id: str | None,
         incident_id: str) -> tuple[float, float, float]:
    """A fresh worker's snapshot and atlas: (first coverage, then the first exposure, then
    a new country-wide area on the now warm root), in seconds."""
    snapshot = CoverageSnapshot(store)
    atlas = IncidentAtlas(store, snapshot)
    first = 0.0
    if request_id is not None:
        first, _ = timed(lambda: coverage_read(snapshot.read(request_id, None), as_of=None))
    exposure, _ = timed(lambda: exposure_of(atlas, incident_id, root))
    other = Area(countries=frozenset({"CN"}))
    fresh, _ = timed(lambda: atlas.exposure(atlas.base(root, None), other).tier1())
    return first, exposure, fresh


def exposure_of(atlas: IncidentAtlas, incident_id: str, root: str) -> Any:
    return incidents.exposure(atlas=atlas, incident_id=incident_id, root=root,
                              categories=None, as_of=None)


def run(store: CascadeStore, runs: int) -> None:
    root, incident_ids = prepare(store)
    requests = [r.id for r in store.list_requests() if r.issuer_id == root] or [None]
    colds = [cold(store, root, requests[0], incident_ids[0]) for _ in range(runs)]
    first, exposure, fresh = (statistics.median(c[i] for c in colds) for i in range(3))
    print(f"fresh snapshot, median of {runs}: first coverage ({requests[0]}) {first:.2f} s, "
          f"then first exposure ({incident_ids[0]}) +{exposure:.2f} s; "
          f"a new country-wide area (CN) on the warm root {fresh:.2f} s")
    snapshot = CoverageSnapshot(store)
    atlas = IncidentAtlas(store, snapshot)
    took, warmed = timed(atlas.warm)
    print(f"warm start with the open incidents: {warmed} exposures in {took:.2f} s")
    network = snapshot.network()
    print(f"network: {network.size:,} companies, {network.link_count:,} links; root {root}")
    for incident_id in incident_ids:
        def exposure_now(incident_id: str = incident_id) -> Any:
            return exposure_of(atlas, incident_id, root)

        def companies(incident_id: str = incident_id) -> Any:
            return incidents.exposed_companies(atlas=atlas, incident_id=incident_id, root=root,
                                               categories=None, as_of=None, limit=100,
                                               cursor=None)

        found = exposure_now()
        print(f"{incident_id}: exposed {found.exposed:,}, tier-1 {len(found.tier1)}, "
              f"paths {found.paths.exposed:,}/{found.paths.total:,}")
        print(f"  exposure after the warm start, median of {runs}: "
              f"{median_of(runs, exposure_now):.3f} s")
        print(f"  companies page (100), median of {runs}: {median_of(runs, companies):.3f} s")
    if requests[0] is not None:
        supplier = found.tier1[0].company_id if found.tier1 else root
        store.add_acknowledgements([Acknowledgement(
            request_id=requests[0], company_id=supplier, status="accepted", at=utc_now())])
        took, _ = timed(exposure_now)
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
