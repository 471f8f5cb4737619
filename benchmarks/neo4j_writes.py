"""Neo4j writes: bulk load time and a POSTed answer's way to the next poll, against SQLite.

    .venv/bin/python benchmarks/neo4j_writes.py --links 1000000 --neo4j-uri bolt://127.0.0.1:7687

For each store (SQLite, the baseline, then Neo4j), in this order:

* generate: `cascade generate --companies N/3 --links N --requests 1 --seed 1 --store URL
  --replace`, the command a user runs, timed end to end (building the network included);
* load: `cascade load network FILE.json --store URL` into an emptied store, the file made
  once by `cascade generate --out` with the same arguments, timed end to end;
* POSTed ack -> poll: a service process on the loaded store (`_server.running_service`);
  an unanswered recipient of the request accepts it, and the time from sending the POST
  to `/v1/gap-counts` showing it (`http_polling.ack_to_counts`), median of --acks answers.

Each step runs --repeats times (median); --steps picks the steps. Without --neo4j-uri a
local Neo4j is started in a temporary directory (Java 17 and Maven).

`--steps rows` says where a load's time goes instead: the network is written in this
process, first through the ports' batch writes (1,000 rows a call, what the API's writes
do), then whole through `BulkLoad.load_new` (what `cascade generate` runs after building
it); per kind of row and for the whole load it reports the client's CPU (every thread)
inside the store calls, the wall time, and the Neo4j server's CPU over those calls (from
/proc: given --neo4j-pid, or the server this script started).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from _server import ROOT, running_service
from http_polling import measure_acks

from service.cli import dev_neo4j
from service.config.settings import Settings
from service.store import build_store
from service.store.port import CascadeStore

# this checkout's CLI (an installed `cascade` script may run another checkout's code)
CASCADE = [sys.executable, "-m", "service.cli.main"]
STEPS = ("generate", "load", "ack", "rows")
WRITES = ("upsert_companies", "add_links", "add_cascades", "add_acknowledgements")


def network_args(links: int) -> list[str]:
    return ["--companies", str(links // 3 + 1), "--links", str(links), "--requests", "1",
            "--seed", "1"]


def timed(command: list[str]) -> float:
    """Seconds `command` took; its output goes to stderr when it fails."""
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    seconds = time.perf_counter() - start
    if done.returncode:
        sys.stderr.write(done.stdout + done.stderr)
        raise RuntimeError(f"{' '.join(command)} exited {done.returncode}")
    return seconds


def emptied(url: str) -> None:
    """Clear the store at `url` and set its schema up, as for a first load."""
    store = build_store(Settings(store=url))
    try:
        store.init_schema()  # a new SQLite file has no tables to clear
        store.clear_all()
        store.init_schema()
    finally:
        store.close()


def generate_s(url: str, links: int) -> float:
    emptied(url)
    return timed([*CASCADE, "generate", *network_args(links), "--store", url, "--replace"])


def load_s(url: str, file: Path) -> float:
    emptied(url)
    return timed([*CASCADE, "load", "network", str(file), "--store", url])


def ack_ms(url: str, acks: int) -> float:
    knobs = argparse.Namespace(acks=acks, ack_timeout=300.0)
    with running_service(url, startup_timeout=600.0) as (base_url, auth):
        measured = measure_acks(base_url, auth, knobs)
    if measured is None:
        raise RuntimeError(f"{url}: no unanswered recipient to answer")
    return float(measured["visible_ms"])


def measure(name: str, url: str, file: Path, args: argparse.Namespace) -> dict[str, Any]:
    """The store's figures: per step the median of --repeats runs and every run."""
    runs: dict[str, list[float]] = {}
    for _ in range(args.repeats):
        if "load" in args.steps:
            runs.setdefault("load_s", []).append(load_s(url, file))
        if "generate" in args.steps or "ack" in args.steps:
            seconds = generate_s(url, args.links)  # also what the acks are measured on
            if "generate" in args.steps:
                runs.setdefault("generate_s", []).append(seconds)
        if "ack" in args.steps:
            runs.setdefault("ack_ms", []).append(ack_ms(url, args.acks))
        print(json.dumps({"store": name, **{k: v[-1] for k, v in runs.items()}}), flush=True)
    return {"store": name, **{k: statistics.median(v) for k, v in runs.items()},
            "runs": {k: [round(x, 1) for x in v] for k, v in runs.items()}}


def cpu_s(pid: int | None) -> float:
    """CPU seconds process `pid` has used (0 without one)."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rows_profile(url: str, links: int, server_pid: int | None) -> None:
    """Write the generator's network in this process into an emptied store twice: through
    the ports' batch writes, 1,000 rows a call (what the API's writes do), per kind of row
    (rows, server CPU, client CPU, wall time in the calls); then whole (`load_new`, what
    `cascade generate` runs)."""
    from graph_models.models import utc_now
    from loaders.demo import catalog_requests
    from loaders.synthetic import generate_network, issue_and_cascade

    net = generate_network(links // 3 + 1, seed=1, links=links)
    for request in catalog_requests(net.focal_id, 1, prefix="gen", now=utc_now()):
        issue_and_cascade(net, request, seed=1)
    rows = {"upsert_companies": net.companies, "add_links": net.links,
            "add_cascades": net.cascades, "add_acknowledgements": net.acknowledgements}
    print(f"\n{url}, {links:,} links; load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"{'store call':22} {'rows':>9} {'server us/row':>14} {'client us/row':>14} "
          f"{'wall s':>7}")
    total = [0, 0.0, 0.0, 0.0]
    with emptied_store(url) as store:
        for request in net.requests:
            store.create_request(request)
        for name in WRITES:
            items = rows[name]
            spent = timed_in_calls(getattr(store, name), [
                items[start : start + 1000] for start in range(0, len(items), 1000)],
                server_pid)
            print_row(name, len(items), spent)
            total = [a + b for a, b in zip(total, [len(items), *spent], strict=True)]
    print_row("the four, in total", int(total[0]), total[1:])
    with emptied_store(url) as store:
        spent = timed_in_calls(store.load_new, [net], server_pid)
    print_row("load_new", int(total[0]) + len(net.requests), spent)


@contextlib.contextmanager
def emptied_store(url: str) -> Iterator[CascadeStore]:
    emptied(url)
    store = build_store(Settings(store=url))
    try:
        yield store
    finally:
        store.close()


def timed_in_calls(write: Any, calls: list[Any], server_pid: int | None
                   ) -> tuple[float, float, float]:
    """Server CPU, client CPU (every thread) and wall seconds of `write(c)` for `calls`."""
    server, client, wall = 0.0, 0.0, 0.0
    for items in calls:
        server0, client0, wall0 = cpu_s(server_pid), time.process_time(), time.perf_counter()
        write(items)
        server += cpu_s(server_pid) - server0
        client += time.process_time() - client0
        wall += time.perf_counter() - wall0
    return server, client, wall


def print_row(name: str, count: int, spent: Sequence[float]) -> None:
    server_s, client_s, wall_s = spent
    print(f"{name:22} {count:9,} {1e6 * server_s / max(count, 1):14.0f} "
          f"{1e6 * client_s / max(count, 1):14.0f} {wall_s:7.1f}")


def show(rows: list[dict[str, Any]], args: argparse.Namespace) -> None:
    print(f"\n{args.links:,} links, median of {args.repeats}; load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    base = rows[0]
    for row in rows:
        cells = []
        for key, unit in (("generate_s", "s"), ("load_s", "s"), ("ack_ms", "ms")):
            if key in row:
                ratio = f" ({row[key] / base[key]:.2f}x {base['store']})" if row is not base else ""
                cells.append(f"{key.rsplit('_', 1)[0]} {row[key]:.1f} {unit}{ratio}")
        print(f"{row['store']:7} " + ", ".join(cells) + f"  runs {row['runs']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--links", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--acks", type=int, default=5, help="answers per ack measurement")
    parser.add_argument("--steps", nargs="+", choices=STEPS, default=list(STEPS))
    parser.add_argument("--neo4j-uri", help="use this Neo4j (it is cleared) instead of "
                        "starting one")
    parser.add_argument("--no-sqlite", action="store_true", help="skip the SQLite baseline")
    parser.add_argument("--neo4j-pid", type=int, help="with --neo4j-uri and --steps rows: "
                        "the server's process, for its CPU time")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp) / "network.json"
        if "load" in args.steps:
            timed([*CASCADE, "generate", *network_args(args.links), "--out", str(file)])
        stores = {} if args.no_sqlite else {"sqlite": f"sqlite:///{Path(tmp) / 'bench.db'}"}
        proc = None
        url, pid = args.neo4j_uri, args.neo4j_pid
        if url is None:
            port = dev_neo4j.free_port()
            proc = dev_neo4j.start_neo4j(port, Path(tmp) / "neo4j")
            url, pid = dev_neo4j.bolt_uri(port), proc.pid
        try:
            if args.steps == ["rows"]:
                rows_profile(url, args.links, pid)
                return
            rows = [measure(name, store, file, args)
                    for name, store in {**stores, "neo4j": url}.items()]
        finally:
            if proc is not None:
                dev_neo4j.stop_neo4j(proc)
    show(rows, args)


if __name__ == "__main__":
    main()
