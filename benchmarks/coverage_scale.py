"""Coverage at 10k, 100k and 1M links on SQLite and Neo4j, against the naive approaches.

    .venv/bin/python benchmarks/coverage_scale.py --links 10000 100000 1000000

For each size a seeded synthetic network (`loaders.synthetic`, 3 links per company, 8
tiers, one request issued 200 days ago and cascaded with the generator's default shares)
is written to each store. Then, each in a fresh process so nothing is warm:

* bulk load: writing companies, links, the request, its cascades and answers in batches;
* first coverage: a new `CoverageSnapshot` loads the snapshot and computes the coverage
  summary and the gap counts (states, tiers, gaps, exact path counts);
* one acknowledgement: an overdue supplier accepts; time from the store write returning
  to `gap_counts()` showing the change (median of 5);
* peak memory: the maximum resident set size of that process;
* over HTTP (a uvicorn service in its own process, 4 keep-alive client threads,
  `benchmarks/http_polling.py`): `/healthz` and `/v1/gap-counts` (cache hit) throughput
  and p99, median of 3 runs of 5 s, and the time from a POSTed acknowledgement to
  `/v1/gap-counts` showing it.

Baselines measured in the same run: the naive networkx enumeration of every issuer-to-leaf
simple path (checking each for coverage) and a variable-length Cypher path count on Neo4j,
each stopped after --naive-timeout seconds; where they finish, their counts are compared
with the engine's. The network is acyclic by default (--cycle-share 0) so the naive path
counts mean the same thing as the engine's.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import networkx as nx

from graph_models.models import Acknowledgement, PolicyRequest, utc_now
from graph_models.reference.analysis import analyse_coverage, request_subgraph, supply_graph
from loaders.demo import write_network
from loaders.synthetic import SyntheticNetwork, generate_network, issue_and_cascade
from service.config.settings import Settings
from service.coverage.answers import coverage_read
from service.coverage.dashboard import GapCountsDashboard
from service.coverage.snapshot import CoverageSnapshot
from service.store import build_store

REQUEST = "bench-bcp"


def build_network(links: int, seed: int, cycle_share: float) -> SyntheticNetwork:
    net = generate_network(max(50, links // 3), seed=seed, tiers=8, links=links,
                           cycle_share=cycle_share)
    request = PolicyRequest(id=REQUEST, topic="business_continuity", title="BCP",
                            issuer_id=net.focal_id, issued_at=utc_now() - timedelta(days=200),
                            due_days=30, valid_days=365)
    issue_and_cascade(net, request, seed=seed)
    return net


def open_store(url: str):  # type: ignore[no-untyped-def]
    store = build_store(Settings(store=url))  # type: ignore[call-arg]
    store.init_schema()
    return store


def cold_coverage(url: str, request_id: str, queue: mp.Queue) -> None:  # type: ignore[type-arg]
    """In a fresh process: first coverage, then single acknowledgements; report figures."""
    store = open_store(url)
    service = CoverageSnapshot(store)
    dashboard = GapCountsDashboard(service)
    start = time.perf_counter()
    summary = coverage_read(service.read(request_id, None), as_of=None)
    counts = dashboard.gap_counts().requests[0]
    first = time.perf_counter() - start
    analysis = service.read(request_id, None).analysis
    overdue = [analysis.scope.network.ids[i]
               for i in (analysis.state == 3).nonzero()[0][:5]]  # 3: NodeState.overdue
    ack_ms = []
    for company in overdue:
        store.add_acknowledgements([Acknowledgement(
            request_id=request_id, company_id=company, status="accepted", at=utc_now())])
        start = time.perf_counter()
        after = dashboard.gap_counts().requests[0]
        ack_ms.append((time.perf_counter() - start) * 1000)
        # pending and overdue together: on a large network some forward turns overdue
        # while this runs, moving a company from one to the other
        assert after.overdue + after.pending == counts.overdue + counts.pending - 1, \
            "the acknowledgement must show"
        counts = after
    queue.put({
        "first_s": first, "ack_ms": statistics.median(ack_ms) if ack_ms else None,
        "ack_runs_ms": [round(ms, 1) for ms in ack_ms],
        "peak_mib": peak_rss_mib(),
        "paths": [summary.paths.total, summary.paths.covered], "reloads": service.reloads,
        "companies": analysis.scope.network.size, "links": analysis.scope.network.link_count,
    })
    store.close()


def peak_rss_mib() -> float:
    """This process's peak resident set size. Linux keeps `ru_maxrss` across exec, so a
    spawned child would report its parent's peak (the generator's network) when larger;
    `VmHWM` belongs to the process's own memory."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kib = next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(kib) / 1024


def in_fresh_process(url: str, request_id: str = REQUEST) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=cold_coverage, args=(url, request_id, queue))
    proc.start()
    result = queue.get(timeout=3600)
    proc.join()
    return result  # type: ignore[no-any-return]


def naive_networkx(net: SyntheticNetwork, timeout: float) -> dict[str, Any]:
    """Every issuer-to-leaf simple path, enumerated and checked one by one."""
    graph = supply_graph({c.id: c.kind.value for c in net.companies}, net.links)
    request = net.requests[0]
    analysis = analyse_coverage(graph, request, net.cascades, net.acknowledgements, utc_now())
    sub = request_subgraph(graph, request)
    leaves = [v for v in sub if sub.out_degree(v) == 0]
    acked = {v for v, s in analysis.states.items() if s.value == "acknowledged"}
    total = covered = 0
    start = time.perf_counter()
    for path in nx.all_simple_paths(sub, request.issuer_id, leaves):
        total += 1
        steps = zip(path, path[1:], strict=False)
        covered += all(step in analysis.cascaded for step in steps) and \
            all(v in acked for v in path[1:])
        if total % 10_000 == 0 and time.perf_counter() - start > timeout:
            return {"s": None, "paths": None, "seen": total}
    return {"s": time.perf_counter() - start, "paths": [total, covered], "seen": total}


def naive_cypher(url: str, root: str, timeout: float) -> dict[str, Any]:
    """A variable-length Cypher path count, with a transaction timeout."""
    import neo4j

    driver = neo4j.GraphDatabase.driver(url, auth=None)
    query = ("MATCH p = (r:Company {id: $root})-[:SUPPLIED_BY*]->(leaf:Company) "
             "WHERE NOT (leaf)-[:SUPPLIED_BY]->() RETURN count(p) AS paths")
    start = time.perf_counter()
    try:
        with driver.session(database="neo4j") as session:
            tx_query = neo4j.Query(query, timeout=timeout)
            paths = session.run(tx_query, root=root).single()["paths"]  # type: ignore[index]
        return {"s": time.perf_counter() - start, "paths": int(paths)}
    except neo4j.exceptions.ClientError:
        return {"s": None, "paths": None}
    finally:
        driver.close()


def over_http(url: str, args: argparse.Namespace) -> dict[str, Any]:
    """Poll throughput and ack-to-counts through a real service process, once it is
    ready and done warming."""
    from _server import running_service
    from http_polling import HEALTHZ, describe, measure_acks, polling_endpoints, throughput

    knobs = argparse.Namespace(seconds=5.0, warmup=1.0, repeats=3, acks=5, ack_timeout=300.0)
    with running_service(url, startup_timeout=600.0, settle=True) as (base_url, auth):
        describe(base_url, auth)
        rounds = throughput(base_url, polling_endpoints(auth, None), 4, knobs)
        acks = measure_acks(base_url, auth, knobs)
    health, polls = rounds.runs[HEALTHZ.name], rounds.runs["GET /v1/gap-counts"]
    return {"healthz_rps": health.requests_per_s, "poll_rps": polls.requests_per_s,
            "poll_p99_ms": polls.p99_ms, "poll_p50_ms": polls.p50_ms,
            "http_ack_ms": acks["visible_ms"] if acks else None}


def run_size(links: int, args: argparse.Namespace, workdir: Path, neo4j_url: str | None,
             ) -> list[dict[str, Any]]:
    net = build_network(links, args.seed, args.cycle_share)
    print(f"\n{len(net.companies):,} companies, {len(net.links):,} links, "
          f"{len(net.cascades):,} cascades, {len(net.acknowledgements):,} answers", flush=True)
    naive = naive_networkx(net, args.naive_timeout)
    rows = []
    stores = {"sqlite": f"sqlite:///{workdir / f'bench-{links}.db'}"}
    if neo4j_url:
        stores["neo4j"] = neo4j_url
    for name, url in stores.items():
        store = open_store(url)
        store.clear_all()
        store.init_schema()
        start = time.perf_counter()
        write_network(store, net)
        load = time.perf_counter() - start
        store.close()
        runs = [in_fresh_process(url) for _ in range(args.repeats)]
        row = {"links": len(net.links), "store": name, "load_s": load,
               "first_s": statistics.median(r["first_s"] for r in runs),
               "first_runs_s": [round(r["first_s"], 2) for r in runs],
               "ack_ms": statistics.median(r["ack_ms"] for r in runs),
               "peak_mib": max(r["peak_mib"] for r in runs), "paths": runs[0]["paths"],
               "naive_nx_s": naive["s"], "naive_nx_paths": naive["paths"],
               "naive_seen": naive["seen"]}
        row |= over_http(url, args)
        if name == "neo4j":
            cypher = naive_cypher(url, net.focal_id, args.naive_timeout)
            row |= {"naive_cypher_s": cypher["s"], "naive_cypher_paths": cypher["paths"]}
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def run_store(url: str, request_id: str | None, args: argparse.Namespace) -> dict[str, Any]:
    """The figures of a network already in a store (a 10M-link one takes longer to generate
    than to measure: `cascade generate` once, then this): no load, no naive baseline."""
    store = open_store(url)
    request_id = request_id or store.list_requests()[0].id
    store.close()
    runs = [in_fresh_process(url, request_id) for _ in range(args.repeats)]
    print(f"\n{url}: {runs[0]['companies']:,} companies, {runs[0]['links']:,} links; "
          f"request {request_id}", flush=True)
    row = {"links": runs[0]["links"], "store": url.split(":", 1)[0], "load_s": 0.0,
           "first_s": statistics.median(r["first_s"] for r in runs),
           "first_runs_s": [round(r["first_s"], 2) for r in runs],
           "ack_ms": statistics.median(r["ack_ms"] for r in runs),
           "peak_mib": max(r["peak_mib"] for r in runs), "paths": runs[0]["paths"],
           "naive_nx_s": None, "naive_nx_paths": None, "naive_seen": 0}
    row |= over_http(url, args)
    print(json.dumps(row), flush=True)
    return row


def show(rows: list[dict[str, Any]], timeout: float) -> None:
    def naive(seconds: float | None, ours: float) -> str:
        if seconds is None:
            return f">{timeout:.0f} s (>{timeout / ours:,.0f}x)"
        return f"{seconds:.2f} s ({seconds / ours:,.0f}x)"

    print(f"\n{'links':>9} {'store':7} {'load s':>8} {'first coverage s':>17} "
          f"{'1 ack->counts ms':>17} {'peak MiB':>9}  naive networkx / naive Cypher")
    print(f"{'':>9} HTTP: gap-counts req/s (x healthz), p50/p99 ms; POSTed ack -> counts ms")
    for r in rows:
        cypher = naive(r.get("naive_cypher_s"), r["first_s"]) if r["store"] == "neo4j" else ""
        print(f"{r['links']:>9,} {r['store']:7} {r['load_s']:8.1f} {r['first_s']:17.2f} "
              f"{r['ack_ms']:17.1f} {r['peak_mib']:9.0f}  "
              f"{naive(r['naive_nx_s'], r['first_s']) if r['naive_seen'] else 'not run'}"
              f" / {cypher}")
        print(f"{'':>9} HTTP: {r['poll_rps']:.0f} req/s "
              f"(x{r['poll_rps'] / r['healthz_rps']:.2f} of healthz {r['healthz_rps']:.0f}), "
              f"p50 {r['poll_p50_ms']:.1f} / p99 {r['poll_p99_ms']:.1f} ms; "
              f"ack -> counts {r['http_ack_ms']:.1f} ms")
        if r["naive_nx_paths"] is not None:
            same = r["naive_nx_paths"] == r["paths"]
            print(f"{'':>9} path counts engine {r['paths']} naive {r['naive_nx_paths']}: "
                  f"{'identical' if same else 'DIFFERENT'}")
        if r.get("naive_cypher_paths") is not None:
            same = r["naive_cypher_paths"] == r["paths"][0]
            print(f"{'':>9} Cypher total {r['naive_cypher_paths']}: "
                  f"{'identical' if same else 'DIFFERENT'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--links", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cycle-share", type=float, default=0.0)
    parser.add_argument("--naive-timeout", type=float, default=120.0)
    parser.add_argument("--no-neo4j", action="store_true")
    parser.add_argument("--neo4j-uri", help="use this Neo4j instead of starting one")
    parser.add_argument("--store", help="measure the network already in this store "
                        "(sqlite:///PATH or bolt://...) instead of generating one")
    parser.add_argument("--request", help="with --store: the request (default: the first)")
    args = parser.parse_args()
    if args.store:
        show([run_store(args.store, args.request, args)], args.naive_timeout)
        return
    proc = None
    url = args.neo4j_uri
    with tempfile.TemporaryDirectory() as tmp:
        if url is None and not args.no_neo4j:
            from service.cli import dev_neo4j

            port = dev_neo4j.free_port()
            proc = dev_neo4j.start_neo4j(port, Path(tmp) / "neo4j")
            url = dev_neo4j.bolt_uri(port)
        try:
            rows = [row for links in args.links
                    for row in run_size(links, args, Path(tmp), url)]
        finally:
            if proc is not None:
                from service.cli import dev_neo4j

                dev_neo4j.stop_neo4j(proc)
    show(rows, args.naive_timeout)


if __name__ == "__main__":
    main()
