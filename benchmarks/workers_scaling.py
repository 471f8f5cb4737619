"""Several workers on one store: gap-counts throughput with N workers against 1, and the
resident memory of each worker after its warm start.

    .venv/bin/cascade generate --companies 333334 --links 1000000 --requests 1 --seed 1 \\
        --store sqlite:////tmp/1m.db
    .venv/bin/python benchmarks/workers_scaling.py --store sqlite:////tmp/1m.db

For each round (--repeats) and each worker count in --workers: starts `uvicorn --workers N`
on the store (`_server.py`), waits until every worker says ready (`/readyz` 200 on
--ready-streak fresh connections in a row: a connection goes to whichever worker accepts
it, and a worker answers 503 until its snapshot is loaded) and then until every worker
is idle (less than --idle-cpu of a core over a second: after saying ready a worker goes
on warming, e.g. the reach bits of business-continuity issuers), reads each worker's
VmRSS and VmHWM from /proc, then runs --clients keep-alive clients, each in its own process
(so the client's GIL does not cap the figure), against `/v1/gap-counts` (a cache hit) for
--warmup + --seconds, and stops the service. Throughput is the median over the rounds;
the ratio is taken within each round (N workers against 1), then its median. `server
cores` is the CPU time the workers used over the window per second of it, `CPU µs/req`
that time per request answered: with the clients on the same cores, more workers can add
throughput only while the machine has idle cores. Memory is
the median over the rounds of each worker's figure (with one worker, uvicorn runs it in
the main process).
"""

from __future__ import annotations

import argparse
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

from _server import (
    ServiceProcess,
    WorkerMemory,
    _admin_key,
    cpu_seconds,
    memory_of,
    wait_idle,
    wait_ready,
)
from http_polling import Window, describe, hammer

MIB = 1024 * 1024


@dataclass(frozen=True)
class Measured:
    load: Load
    start_s: float  # from starting the service to every worker ready
    settled_s: float  # from starting the service to every worker idle
    memory: list[WorkerMemory]


def worker_pids(main_pid: int, workers: int) -> list[int]:
    """The processes serving requests: uvicorn's main process with one worker, else its
    children started by multiprocessing's spawn (not its resource tracker)."""
    if workers == 1:
        return [main_pid]
    children = Path(f"/proc/{main_pid}/task/{main_pid}/children").read_text().split()
    return [int(pid) for pid in children
            if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()]


@dataclass(frozen=True)
class Load:
    requests_per_s: float
    errors: int
    server_cpu_s: float  # CPU seconds the workers used in the measured window


def poll_load(base_url: str, auth: dict[str, str], pids: list[int],
              args: argparse.Namespace, pool: ProcessPoolExecutor) -> Load:
    """--clients processes polling /v1/gap-counts: requests/s in the window, errors and
    the workers' CPU time over the window."""
    start = time.perf_counter() + 1.0  # every client process connected and waiting
    window = Window(start, start + args.warmup, start + args.warmup + args.seconds)
    futures = [pool.submit(hammer, base_url, "/v1/gap-counts", auth, window)
               for _ in range(args.clients)]
    time.sleep(max(0.0, window.measure_from - time.perf_counter()))
    cpu_from = sum(cpu_seconds(pid) for pid in pids)
    time.sleep(max(0.0, window.end - time.perf_counter()))
    cpu = sum(cpu_seconds(pid) for pid in pids) - cpu_from
    results = [f.result() for f in futures]
    return Load(sum(len(lats) for lats, _ in results) / args.seconds,
                sum(errors for _, errors in results), cpu)


def measure(store: str, workers: int, auth_key: str, args: argparse.Namespace,
            pool: ProcessPoolExecutor) -> Measured:
    server = ServiceProcess(store, workers=workers, startup_timeout=args.startup_timeout)
    started = time.perf_counter()
    try:
        server.start()
        wait_ready(server.base_url, args.startup_timeout, args.ready_streak)
        start_s = time.perf_counter() - started
        assert server.process is not None
        pids = worker_pids(server.process.pid, workers)
        wait_idle(pids, args.idle_cpu, args.startup_timeout)
        settled_s = time.perf_counter() - started
        memory = [memory_of(pid) for pid in pids]
        auth = {"Authorization": f"Bearer {auth_key}"}
        describe(server.base_url, auth)
        load = poll_load(server.base_url, auth, pids, args, pool)
    except Exception:
        print(f"--- service log (last lines) ---\n{server.log_tail()}")
        raise
    finally:
        server.stop()
        server.log.close()
    return Measured(load, start_s, settled_s, memory)


def report(store: str, runs: dict[int, list[Measured]], args: argparse.Namespace) -> None:
    base = args.workers[0]
    print(f"\n{store}: median of {args.repeats} rounds, {args.clients} client processes, "
          f"{args.seconds:g} s after {args.warmup:g} s warm-up")
    print(f"{'workers':>7} {'req/s':>9} {f'× {base} worker':>11} {'errors':>6} "
          f"{'server cores':>12} {'CPU µs/req':>10} "
          f"{'ready s':>8} {'idle s':>7} {'VmRSS MiB/worker':>17} {'VmHWM MiB/worker':>17}")
    for workers, measured in runs.items():
        ratio = statistics.median(m.load.requests_per_s / b.load.requests_per_s
                                  for m, b in zip(measured, runs[base], strict=True))
        rss = statistics.median(w.rss for m in measured for w in m.memory) / MIB
        hwm = statistics.median(w.hwm for m in measured for w in m.memory) / MIB
        cores = statistics.median(m.load.server_cpu_s / args.seconds for m in measured)
        per_request = statistics.median(1e6 * m.load.server_cpu_s / args.seconds
                                        / m.load.requests_per_s for m in measured)
        print(f"{workers:7d} {statistics.median(m.load.requests_per_s for m in measured):9.1f} "
              f"{ratio:11.3f} {sum(m.load.errors for m in measured):6d} "
              f"{cores:12.2f} {per_request:10.0f} "
              f"{statistics.median(m.start_s for m in measured):8.1f} "
              f"{statistics.median(m.settled_s for m in measured):7.1f} {rss:17.0f} {hwm:17.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", required=True, nargs="+",
                        help="filled stores: sqlite:///PATH or neo4j://HOST:PORT")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2],
                        help="worker counts, the first the baseline")
    parser.add_argument("--clients", type=int, default=4, help="client processes")
    parser.add_argument("--seconds", type=float, default=5.0, help="measured seconds a run")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds first")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--ready-streak", type=int, default=20)
    parser.add_argument("--idle-cpu", type=float, default=0.1,
                        help="share of a core below which a worker counts as idle")
    parser.add_argument("--startup-timeout", type=float, default=600.0)
    args = parser.parse_args()
    with ProcessPoolExecutor(args.clients, mp_context=get_context("spawn")) as pool:
        for store in args.store:
            key = _admin_key(store)
            runs: dict[int, list[Measured]] = {w: [] for w in args.workers}
            for _ in range(args.repeats):
                for workers in args.workers:
                    runs[workers].append(measure(store, workers, key, args, pool))
            report(store, runs, args)


if __name__ == "__main__":
    main()
