"""A soak under a mixed workload over real HTTP: throughput, p50/p99 latency and errors per
operation kind, and the server's memory over the run.

    .venv/bin/python benchmarks/load_mixed.py --duration 20            # a short check
    .venv/bin/python benchmarks/load_mixed.py                          # 10k links, SQLite, 300 s
    .venv/bin/python benchmarks/load_mixed.py --store neo4j://127.0.0.1:7687 --replace
    .venv/bin/python benchmarks/load_mixed.py --store sqlite:///big.db --existing

A seeded network (`cascade generate`: --links links, --requests catalog requests cascaded)
is written to --store (default: a temporary SQLite file; a store holding companies is
refused unless --replace clears it or --existing uses it as it is). The service runs in its
own uvicorn process (`_server.py`); the snapshot and each request's coverage are warmed
first. Then a separate load process (`_mixed_workload.py`) holds --connections keep-alive
httpx clients for --duration seconds, each choosing its next operation by the --mix weights:

* poll: `GET /v1/gap-counts`, revalidated with the ETag last seen (the dashboard; 304 is fine);
* ack: `POST /v1/acknowledgements` with a fresh Idempotency-Key;
* batch: `POST /v1/acknowledgements/batch` of --batch-size answers, with an Idempotency-Key;
* coverage, gaps: `GET /v1/requests/{id}/coverage` and `/gaps` (first page of 100).

Answers go to random companies (issuers aside) of random requests: 70% accepted, 15%
received, 15% declined. Every --interval seconds and at the end it prints per kind and in
all: requests/s, p50/p99 latency (failed requests included), errors (a status outside
2xx/304, a transport error, a batch item refused) and the error rate; and the server's
resident memory (VmRSS from /proc/<pid>/status of the uvicorn process and its workers,
sampled every --rss-every seconds), so growth over the soak shows. Client and server share
the machine: on few cores the load process's CPU is part of the figure. Every answer sent
is stored.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
from _mixed_workload import KINDS, LoadPlan, run_load
from _server import ROOT, running_service
from http_polling import describe

DEFAULT_MIX = "poll=80,ack=8,batch=2,coverage=6,gaps=4"
MAX_DURATION_S = 24 * 3600
MAX_COMPANIES = 20_000  # answer targets read from /v1/companies
MIB = 1024  # VmRSS is in KiB


def generate_into(store: str, args: argparse.Namespace) -> None:
    """`cascade generate` into the store; it refuses a filled one unless --replace."""
    command = [sys.executable, "-m", "service.cli.main", "generate", "--store", store,
               "--companies", str(args.companies or max(50, args.links * 3 // 10)),
               "--links", str(args.links), "--requests", str(args.requests),
               "--seed", str(args.seed), *(["--replace"] if args.replace else [])]
    if subprocess.run(command, cwd=ROOT).returncode != 0:
        sys.exit("cascade generate failed (pass --replace or --existing for a filled store)")


def answer_targets(client: httpx.Client) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The stored requests, and companies that may answer them (issuers aside)."""
    requests = client.get("/v1/requests").raise_for_status().json()
    issuers = {request["issuer_id"] for request in requests}
    companies: list[str] = []
    cursor = None
    while len(companies) < MAX_COMPANIES:
        params = {"limit": 1000, **({"cursor": cursor} if cursor else {})}
        page = client.get("/v1/companies", params=params).raise_for_status().json()
        companies += [c["id"] for c in page["items"] if c["id"] not in issuers]
        if not (cursor := page["next_cursor"]):
            break
    return tuple(request["id"] for request in requests), tuple(companies)


def warm_coverage(client: httpx.Client, request_ids: tuple[str, ...]) -> None:
    """Analyse every request once, so the soak starts from a warm service."""
    for request_id in request_ids:
        client.get(f"/v1/requests/{quote(request_id, safe='')}/coverage").raise_for_status()


def server_pid(base_url: str) -> int:
    """The uvicorn process `running_service` started: our child serving on that port."""
    port_argument = f"--port\0{urlsplit(base_url).port}\0".encode()
    for pid, parent in parent_pids().items():
        if parent == os.getpid() and port_argument in _cmdline(pid):
            return pid
    raise RuntimeError(f"no child process of ours serves {base_url}")


def parent_pids() -> dict[int, int]:
    parents = {}
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            parents[int(status.parent.name)] = int(_status_field(status, "PPid"))
        except (OSError, ValueError):
            pass  # the process ended while we looked
    return parents


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _status_field(status: Path, name: str) -> str:
    for line in status.read_text().splitlines():
        if line.startswith(f"{name}:"):
            return line.split()[1]
    raise ValueError(f"{status} has no {name}")


@dataclass
class ServerMemory:
    """VmRSS of the server process and its descendants (uvicorn workers), over time."""

    pid: int
    samples: list[tuple[float, int]] = field(default_factory=list)  # (monotonic s, KiB)

    def sample(self) -> int:
        parents = parent_pids()
        tree, frontier = {self.pid}, {self.pid}
        while frontier:
            frontier = {pid for pid, parent in parents.items() if parent in frontier}
            tree |= frontier
        kib = sum(_rss_kib(pid) for pid in tree)
        self.samples.append((time.monotonic(), kib))
        return kib

    def peak_since(self, since: float) -> int:
        return max(kib for at, kib in self.samples if at >= since)


def _rss_kib(pid: int) -> int:
    try:
        return int(_status_field(Path(f"/proc/{pid}/status"), "VmRSS"))
    except (OSError, ValueError):
        return 0  # ended, or a kernel thread


def drive(plan: LoadPlan, memory: ServerMemory, rss_every: float) -> dict[str, Any]:
    """Run the load process, sampling the server's memory and printing each interval."""
    ctx = mp.get_context("spawn")
    reports = ctx.Queue()
    load = ctx.Process(target=run_load, args=(plan, reports), name="cascade-load")
    memory.sample()
    load.start()
    interval_start = time.monotonic()
    deadline = interval_start + plan.duration + plan.interval + 120  # never an endless soak
    while time.monotonic() < deadline:
        try:
            report = reports.get(timeout=rss_every)
        except Empty:
            memory.sample()
            if load.exitcode not in (None, 0):
                raise RuntimeError(f"the load process exited with {load.exitcode}") from None
            continue
        memory.sample()
        if report["final"]:
            load.join()
            return report
        print_figures(f"[{report['elapsed']:5.0f} s]", report["figures"],
                      f"server RSS {memory.samples[-1][1] / MIB:.1f} MiB (peak "
                      f"{memory.peak_since(interval_start) / MIB:.1f} in the interval)")
        interval_start = time.monotonic()
    load.terminate()
    raise TimeoutError("the load process did not finish in time")


def print_figures(title: str, rows: dict[str, dict[str, Any]], memory_note: str) -> None:
    total = rows["all"]
    rate = total["errors"] / total["count"] if total["count"] else 0.0
    print(f"\n{title} {total['per_s']:.1f} req/s in all, {total['errors']} errors "
          f"({rate:.2%}); {memory_note}")
    print(f"  {'kind':9} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'n':>8} {'errors':>7}")
    for kind in (*KINDS, "all"):
        row = rows[kind]
        if not row["count"] and kind != "all":
            continue  # not in the mix
        causes = ", ".join(f"{cause} x{n}" for cause, n in row["causes"].items())
        print(f"  {kind:9} {row['per_s']:9.1f} {row['p50_ms']:8.1f} {row['p99_ms']:8.1f} "
              f"{row['count']:8d} {row['errors']:7d}  {causes}".rstrip(), flush=True)


def print_memory(memory: ServerMemory) -> None:
    kib = [sample for _, sample in memory.samples]
    print(f"server RSS (MiB): {kib[0] / MIB:.1f} at the start (warmed), {kib[-1] / MIB:.1f} "
          f"at the end, min {min(kib) / MIB:.1f}, peak {max(kib) / MIB:.1f}, "
          f"growth {(kib[-1] - kib[0]) / MIB:+.1f} over {len(kib)} samples")


def soak(store: str, args: argparse.Namespace) -> None:
    with running_service(store, workers=args.workers, startup_timeout=600.0) as (base_url, auth):
        shape, _ = describe(base_url, auth)  # also loads the snapshot
        with httpx.Client(base_url=base_url, headers=auth, timeout=600.0) as client:
            request_ids, companies = answer_targets(client)
            warm_coverage(client, request_ids)
        print(f"service {base_url} on {store}: {shape}; {len(companies):,} companies answer")
        print(f"{args.duration:g} s, {args.connections} connections, mix "
              f"{','.join(f'{k}={w:g}' for k, w in args.mix.items())}, "
              f"batches of {args.batch_size}, {args.workers} server worker(s)", flush=True)
        plan = LoadPlan(base_url, auth, args.mix, args.connections, args.duration,
                        args.interval, args.batch_size, args.seed, request_ids, companies)
        memory = ServerMemory(server_pid(base_url))
        final = drive(plan, memory, args.rss_every)
    print_figures(f"whole run ({final['seconds']:.0f} s):", final["figures"],
                  f"server RSS peak {max(kib for _, kib in memory.samples) / MIB:.1f} MiB")
    print_memory(memory)


def parse_mix(text: str) -> dict[str, float]:
    """'poll=80,ack=8' -> {'poll': 80.0, 'ack': 8.0}; kinds left out are not run."""
    mix = {}
    for part in text.split(","):
        kind, _, weight = part.partition("=")
        if kind.strip() not in KINDS:
            raise argparse.ArgumentTypeError(f"unknown kind {kind!r}; kinds: {', '.join(KINDS)}")
        mix[kind.strip()] = float(weight)
    if any(w < 0 for w in mix.values()) or not any(mix.values()):
        raise argparse.ArgumentTypeError("weights must be >= 0 and not all 0")
    return {kind: weight for kind, weight in mix.items() if weight > 0}


def bounded_seconds(text: str) -> float:
    seconds = float(text)
    if not 1 <= seconds <= MAX_DURATION_S:
        raise argparse.ArgumentTypeError(f"between 1 and {MAX_DURATION_S} seconds")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", help="sqlite:///PATH or neo4j://HOST:PORT "
                        "(default: a temporary SQLite file)")
    parser.add_argument("--existing", action="store_true", help="use the store as it is")
    parser.add_argument("--replace", action="store_true", help="clear a filled store first")
    parser.add_argument("--links", type=int, default=10_000)
    parser.add_argument("--companies", type=int, help="default: 30%% of --links")
    parser.add_argument("--requests", type=int, default=8, help="catalog requests cascaded")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--duration", type=bounded_seconds, default=300.0, help="seconds")
    parser.add_argument("--interval", type=bounded_seconds, default=30.0,
                        help="seconds between reports")
    parser.add_argument("--connections", type=int, default=8, help="concurrent clients")
    parser.add_argument("--mix", type=parse_mix, default=parse_mix(DEFAULT_MIX),
                        help=f"weights per kind (default {DEFAULT_MIX})")
    parser.add_argument("--batch-size", type=int, default=50, help="answers per batch")
    parser.add_argument("--workers", type=int, default=1, help="server worker processes")
    parser.add_argument("--rss-every", type=float, default=2.0, help="seconds between samples")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = args.store or f"sqlite:///{Path(tmp) / 'load.db'}"
        if not args.existing:
            generate_into(store, args)
        soak(store, args)


if __name__ == "__main__":
    main()
