"""Coverage on the real supply-chain shapes of Willems (2008): 38 chains, 8 to 2,025 stages.

    .venv/bin/python benchmarks/willems_coverage.py [--data ../shared/data/willems2008]

Loads every chain (`cascade load willems`) into a fresh SQLite store, issues the catalog's
business-continuity request (it applies to every link) from each focal company, cascades
it with 80% forwards and 75% answers (seeded, as `cascade generate` does). Then times the
snapshot load of the whole store, and per chain the first coverage of its request (its
events loaded and analysed, exact path counts) and its gap listing with exact impact.
Prints a line per chain and the totals.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from graph_models.models import utc_now
from loaders.demo import catalog_requests, write_network
from loaders.importer import import_rows
from loaders.synthetic import ModelRows, SyntheticNetwork, issue_and_cascade
from loaders.willems import WillemsChain, focal_company_id, read_willems, willems_rows
from service.coverage.answers import coverage_read
from service.coverage.snapshot import CoverageSnapshot
from service.store.sqlite import SqliteStore

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "willems2008"


def cascaded(chain: WillemsChain) -> SyntheticNetwork:
    """The chain's request and its seeded forwards and answers (no companies or links)."""
    rows = willems_rows([chain])
    companies = [(r.fields["id"], r.fields["kind"]) for r in rows if r.section == "companies"]
    links = [(r.fields["buyer_id"], r.fields["supplier_id"], r.fields["category"])
             for r in rows if r.section == "links"]
    focal = focal_company_id(chain.chain)
    net = SyntheticNetwork(companies=ModelRows(lambda r: r, [(c, _Kind(k)) for c, k in companies]),
                           links=ModelRows(lambda r: r, links), tiers=[[focal]])
    (request,) = catalog_requests(focal, 1, prefix=f"w{chain.chain}", now=utc_now())
    issue_and_cascade(net, request, seed=int(chain.chain), as_of=utc_now())
    return net


class _Kind(str):
    """A kind as `issue_and_cascade` reads it from a company row (`row[1].value`)."""

    @property
    def value(self) -> str:
        return str(self)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args()
    chains = read_willems(args.data)
    with tempfile.TemporaryDirectory() as folder:
        store = SqliteStore(str(Path(folder) / "willems.db"))
        store.init_schema()
        start = time.perf_counter()
        import_rows(store, "willems", willems_rows(chains))
        print(f"loaded {len(chains)} chains in {time.perf_counter() - start:.1f} s")
        requests = {}
        for chain in chains:
            net = cascaded(chain)
            net.companies, net.links = ModelRows(lambda r: r), ModelRows(lambda r: r)
            write_network(store, net)
            requests[chain.chain] = net.requests[0].id
        service = CoverageSnapshot(store)
        start = time.perf_counter()
        service.refresh()
        print(f"snapshot of {len(chains)} chains loaded in "
              f"{(time.perf_counter() - start) * 1000:.0f} ms")
        print(f"{'chain':>5} {'stages':>7} {'arcs':>7} {'paths':>12} {'covered':>8} "
              f"{'gaps':>5} {'cold ms':>8} {'gaps ms':>8}")
        total = sum(_measure(service, chain, requests[chain.chain]) for chain in chains)
        print(f"all chains: {total * 1000:.0f} ms")
        store.close()


def _measure(service: CoverageSnapshot, chain: WillemsChain, request_id: str) -> float:
    start = time.perf_counter()
    reading = service.read(request_id, None)
    report = coverage_read(reading, as_of=None)
    cold = time.perf_counter() - start
    start = time.perf_counter()
    gaps = service.gaps(reading)
    listed = time.perf_counter() - start
    print(f"{chain.chain:>5} {len(chain.stages):>7,} {len(chain.arcs):>7,} "
          f"{report.paths.total:>12,} {report.coverage_ratio:>8.1%} {len(gaps):>5,} "
          f"{cold * 1000:>8.1f} {listed * 1000:>8.1f}")
    return cold + listed


if __name__ == "__main__":
    main()
