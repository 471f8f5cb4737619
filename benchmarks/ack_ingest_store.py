"""Bulk acknowledgement ingestion through the store port, on SQLite and on Neo4j.

    .venv/bin/python benchmarks/ack_ingest_store.py --answers 100000 --batch 10000

Builds a synthetic network (companies and links, written through the port), then per run
creates a fresh request and times `add_acknowledgements` of --answers new answers in
batches of --batch (the REST batch endpoint's maximum), then a retry of the same batches,
which must be all `unchanged` and leave the revision alone. Runs accumulate in one store
(each run answers its own request), as history does. Prints the median of --repeats runs
per store. Neo4j: --neo4j-uri, or a local one started with `service.cli.dev_neo4j`.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Iterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from graph_models.models import Acknowledgement, AckStatus, PolicyRequest, utc_now
from loaders.demo import write_network
from loaders.synthetic import SyntheticNetwork, generate_network
from service.store.port import CascadeStore, WriteOutcome

STATUSES = (AckStatus.received, AckStatus.accepted, AckStatus.declined)


def answers_for(request_id: str, company_ids: Sequence[str], count: int) -> list[Acknowledgement]:
    """`count` distinct answers to one request, spread over the companies, with evidence."""
    start = utc_now()
    return [
        Acknowledgement(
            request_id=request_id,
            company_id=company_ids[n % len(company_ids)],
            status=STATUSES[n % 3],
            at=start + timedelta(milliseconds=n),
            evidence={"document": f"cmrt-{n}.xlsx", "cmrt_version": "6.4"},
            posted_by="bench",
        )
        for n in range(count)
    ]


def batches(items: list[Acknowledgement], size: int) -> Iterator[list[Acknowledgement]]:
    for begin in range(0, len(items), size):
        yield items[begin : begin + size]


def ingest(store: CascadeStore, answers: list[Acknowledgement], size: int) -> tuple[float, set]:
    """Seconds to add every batch, and the set of outcomes seen."""
    outcomes: set[WriteOutcome] = set()
    start = time.perf_counter()
    for batch in batches(answers, size):
        outcomes.update(outcome for outcome, _ in store.add_acknowledgements(batch))
    return time.perf_counter() - start, outcomes


def one_run(store: CascadeStore, net: SyntheticNetwork, run: int, args: Any) -> dict[str, float]:
    request = PolicyRequest(
        id=f"bench-ack-{run}",
        topic="conflict_minerals",
        title="Minerals",
        issuer_id=net.focal_id,
        issued_at=utc_now(),
    )
    store.create_request(request)
    suppliers = [company_id for tier in net.tiers[1:] for company_id in tier]
    answers = answers_for(request.id, suppliers, args.answers)
    fresh_s, fresh = ingest(store, answers, args.batch)
    if fresh != {WriteOutcome.created}:
        raise SystemExit(f"run {run}: fresh answers gave {fresh}")
    revision = store.revision()
    retry_s, again = ingest(store, answers, args.batch)
    if again != {WriteOutcome.unchanged} or store.revision() != revision:
        raise SystemExit(f"run {run}: the retry gave {again} and moved the revision")
    return {"fresh_s": fresh_s, "retry_s": retry_s}


def measure(name: str, store: CascadeStore, args: Any) -> dict[str, Any]:
    net = generate_network(args.companies, seed=args.seed, tiers=6, links=args.links)
    write_network(store, net)
    runs = [one_run(store, net, run, args) for run in range(args.repeats)]
    print(f"{name}: " + ", ".join(f"{r['fresh_s']:.2f}/{r['retry_s']:.2f}" for r in runs))
    return {
        "store": name,
        "fresh_s": statistics.median(r["fresh_s"] for r in runs),
        "retry_s": statistics.median(r["retry_s"] for r in runs),
    }


def neo4j_store(uri: str | None, workdir: Path):  # type: ignore[no-untyped-def]
    from service.store.neo4j import Neo4jStore

    proc = None
    if uri is None:
        from service.cli import dev_neo4j

        port = dev_neo4j.free_port()
        proc = dev_neo4j.start_neo4j(port, workdir / "neo4j")
        uri = dev_neo4j.bolt_uri(port)
    store = Neo4jStore(uri, user=None, password=None, database="neo4j")
    store.clear_all()
    store.init_schema()
    return store, proc


def run_sqlite(args: Any, workdir: Path) -> dict[str, Any]:
    from service.store.sqlite import SqliteStore

    store = SqliteStore(str(workdir / "bench.db"))
    store.init_schema()
    try:
        return measure("sqlite", store, args)
    finally:
        store.close()


def run_neo4j(args: Any, workdir: Path) -> dict[str, Any]:
    store, proc = neo4j_store(args.neo4j_uri, workdir)
    try:
        return measure("neo4j", store, args)
    finally:
        store.close()
        if proc is not None:
            from service.cli import dev_neo4j

            dev_neo4j.stop_neo4j(proc)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--answers", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--companies", type=int, default=20_000)
    parser.add_argument("--links", type=int, default=60_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--stores", default="sqlite,neo4j", help="comma-separated")
    parser.add_argument("--neo4j-uri")
    args = parser.parse_args()
    runners = {"sqlite": run_sqlite, "neo4j": run_neo4j}
    with tempfile.TemporaryDirectory() as tmp:
        rows = [runners[name](args, Path(tmp)) for name in args.stores.split(",")]
    print(f"\n{args.answers} answers in batches of {args.batch}, median of {args.repeats} runs")
    print(f"{'store':8} {'ingest s':>10} {'answers/s':>11} {'retry s':>9}")
    for row in rows:
        rate = args.answers / row["fresh_s"]
        print(f"{row['store']:8} {row['fresh_s']:10.2f} {rate:11,.0f} {row['retry_s']:9.2f}")


if __name__ == "__main__":
    main()
