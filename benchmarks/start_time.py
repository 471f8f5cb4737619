"""How long a worker takes to start on a store: until it listens, until it is ready.

    .venv/bin/python benchmarks/start_time.py --store sqlite:///big.db --runs 3

Per run, a fresh service process (`benchmarks/_server.py`, the same app `cascade serve`
runs) on the store: the seconds from launch until `/healthz` answers (the interpreter, the
imports, the app and its store connection), then until `/readyz` answers 200 (the warm
start: the snapshot read and every request's gap counts computed), then the first
`/v1/gap-counts`, which a warm worker answers from memory, and the worker's peak resident
memory by then. A load balancer that sends
traffic only to ready workers never makes a user wait for the cold read; the baseline in
the same run is the first gap-counts answer of a worker that is only listening (as a
service without the warm start would serve its first user), measured by asking for it
before `/readyz` says ready. Medians of --runs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _server import ServiceProcess, _admin_key, memory_of, wait_ready  # noqa: E402


def one_start(store: str, auth: dict[str, str], *, early_poll: bool) -> dict[str, float]:
    """Launch, then time /healthz, (the first gap counts while not ready), /readyz and a
    gap-counts poll, in seconds from launch."""
    server = ServiceProcess(store, startup_timeout=600)
    began = time.perf_counter()
    try:
        server.start()  # returns once /healthz answers
        figures = {"listening_s": time.perf_counter() - began}
        if early_poll:  # a user arriving before the worker is ready waits for the cold read
            asked = time.perf_counter()
            httpx.get(f"{server.base_url}/v1/gap-counts", headers=auth,
                      timeout=600).raise_for_status()
            figures["unready_poll_s"] = time.perf_counter() - asked
        wait_ready(server.base_url, 600)
        figures["ready_s"] = time.perf_counter() - began
        asked = time.perf_counter()
        httpx.get(f"{server.base_url}/v1/gap-counts", headers=auth,
                  timeout=60).raise_for_status()
        figures["ready_poll_ms"] = (time.perf_counter() - asked) * 1000
        assert server.process is not None  # one worker: uvicorn serves in its own process
        figures["peak_mib"] = memory_of(server.process.pid).hwm / 2**20
        return figures
    except Exception:
        print(server.log_tail(), file=sys.stderr)
        raise
    finally:
        server.stop()
        server.log.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", required=True, help="sqlite:///PATH or bolt://...")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    auth = {"Authorization": f"Bearer {_admin_key(args.store)}"}
    plain = [one_start(args.store, auth, early_poll=False) for _ in range(args.runs)]
    early = [one_start(args.store, auth, early_poll=True) for _ in range(args.runs)]

    def median(runs: list[dict[str, float]], name: str) -> float:
        return statistics.median(run[name] for run in runs)

    print(f"{args.store}, median of {args.runs} starts:")
    print(f"  listening (/healthz 200)           {median(plain, 'listening_s'):7.2f} s")
    print(f"  ready (/readyz 200, snapshot warm) {median(plain, 'ready_s'):7.2f} s")
    print(f"  first gap counts once ready        {median(plain, 'ready_poll_ms'):7.1f} ms")
    print(f"  peak resident memory once ready    {median(plain, 'peak_mib'):7.0f} MiB")
    print(f"  baseline: first gap counts asked before ready "
          f"{median(early, 'unready_poll_s'):.2f} s after listening")


if __name__ == "__main__":
    main()
