"""Dashboard polling over real HTTP: throughput and latency of /healthz and /v1/gap-counts,
and the time from one acknowledgement to gap counts that show it.

    .venv/bin/cascade generate --companies 3000 --links 10000 --requests 8 --seed 1 \\
        --store sqlite:////tmp/poll.db
    .venv/bin/python benchmarks/http_polling.py --store sqlite:////tmp/poll.db

Starts the service in a subprocess (`_server.py`) on a store that is already filled.
Throughput, for each number of clients in --clients (1 is a dashboard polling back to
back): that many threads, each with its own keep-alive httpx client, GET one path in a
loop for --warmup + --seconds; requests that end within the --seconds after the warm-up
count (requests/s = count / --seconds; latencies of those). If /v1/gap-counts sends an
ETag, the conditional GET a dashboard would make (If-None-Match) is measured too. A round
runs every path once, one after the other, so the ratio of a path to /healthz is taken
within a round (the machine's load drifts less in a round than over the whole run);
figures are the median of --repeats rounds; `n` is the number of requests behind the
figures of one run.
Then --acks times, one at a time on an idle service: POST an accepted acknowledgement for a
reached company that is pending or overdue, and poll /v1/gap-counts until that request's
counts change. Note: this adds --acks acknowledgements to the store.
Client and server share the machine, so on few cores the client's CPU bounds /healthz.
"""

from __future__ import annotations

import argparse
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
from _server import running_service

STANDING_TO_FIX = {"pending", "overdue"}


@dataclass(frozen=True)
class Window:
    """When load starts, when measuring starts (after the warm-up) and when it ends."""

    start: float
    measure_from: float
    end: float


@dataclass(frozen=True)
class Run:
    count: int
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int


def hammer(base_url: str, path: str, headers: dict[str, str], window: Window
           ) -> tuple[list[float], int]:
    """One client's loop: latencies (s) of the requests that ended inside the measured
    window, and errors."""
    latencies: list[float] = []
    errors = 0
    with httpx.Client(base_url=base_url, headers=headers, timeout=60.0) as client:
        time.sleep(max(0.0, window.start - time.perf_counter()))
        while (sent := time.perf_counter()) < window.end:
            response = client.get(path)
            done = time.perf_counter()
            if window.measure_from <= done <= window.end:
                latencies.append(done - sent)
                errors += response.status_code not in (200, 304)
    return latencies, errors


def load_run(base_url: str, path: str, headers: dict[str, str], clients: int,
             args: argparse.Namespace) -> Run:
    start = time.perf_counter() + 0.2  # every client connected and waiting
    window = Window(start, start + args.warmup, start + args.warmup + args.seconds)
    with ThreadPoolExecutor(max_workers=clients) as pool:
        results = list(pool.map(lambda _: hammer(base_url, path, headers, window),
                                range(clients)))
    latencies = sorted(lat for lats, _ in results for lat in lats)
    if not latencies:
        return Run(0, 0.0, float("nan"), float("nan"), sum(err for _, err in results))
    return Run(
        count=len(latencies),
        requests_per_s=len(latencies) / args.seconds,
        p50_ms=1000 * latencies[len(latencies) // 2],
        p99_ms=1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        errors=sum(err for _, err in results),
    )


@dataclass(frozen=True)
class Endpoint:
    name: str
    path: str
    headers: dict[str, str]


HEALTHZ = Endpoint("GET /healthz", "/healthz", {})


def polling_endpoints(auth: dict[str, str], etag: str | None) -> list[Endpoint]:
    """/healthz (the baseline), the gap counts, and their revalidation if they send an ETag."""
    counts = Endpoint("GET /v1/gap-counts", "/v1/gap-counts", auth)
    revalidated = ([Endpoint("GET /v1/gap-counts If-None-Match", "/v1/gap-counts",
                             {**auth, "If-None-Match": etag})] if etag else [])
    return [HEALTHZ, counts, *revalidated]


@dataclass(frozen=True)
class Rounds:
    """Per endpoint the median run of several rounds, and the median of its per-round
    throughput ratios to /healthz."""

    runs: dict[str, Run]
    ratios: dict[str, float]


def throughput(base_url: str, endpoints: list[Endpoint], clients: int,
               args: argparse.Namespace) -> Rounds:
    """--repeats rounds, each running every endpoint once with `clients` clients."""
    rounds = [{e.name: load_run(base_url, e.path, e.headers, clients, args)
               for e in endpoints} for _ in range(args.repeats)]
    runs = {e.name: median_run([r[e.name] for r in rounds]) for e in endpoints}
    ratios = {e.name: statistics.median(
        r[e.name].requests_per_s / r[HEALTHZ.name].requests_per_s
        if r[HEALTHZ.name].requests_per_s else float("nan") for r in rounds)
        for e in endpoints if e is not HEALTHZ}
    return Rounds(runs, ratios)


def median_run(runs: list[Run]) -> Run:
    """The median of several runs, figure by figure."""
    return Run(
        count=int(statistics.median(r.count for r in runs)),
        requests_per_s=statistics.median(r.requests_per_s for r in runs),
        p50_ms=statistics.median(r.p50_ms for r in runs),
        p99_ms=statistics.median(r.p99_ms for r in runs),
        errors=sum(r.errors for r in runs),
    )


def gap_counts(client: httpx.Client) -> dict[str, dict[str, Any]]:
    response = client.get("/v1/gap-counts")
    response.raise_for_status()
    return {row["request_id"]: row for row in response.json()["requests"]}


def companies_to_answer(client: httpx.Client, request_id: str, wanted: int) -> list[str]:
    """Reached companies whose standing is pending or overdue: the break points of
    uncovered paths broken for that reason."""
    found: dict[str, None] = {}
    cursor = None
    for _ in range(50):  # pages
        params = {"limit": 1000, **({"cursor": cursor} if cursor else {})}
        page = client.get(f"/v1/requests/{request_id}/uncovered-paths", params=params)
        page.raise_for_status()
        for path in page.json()["items"]:
            if path["reason"] in STANDING_TO_FIX:
                found.setdefault(path["companies"][path["break_index"]])
        cursor = page.json()["next_cursor"]
        if len(found) >= wanted or not cursor:
            break
    if len(found) < wanted:  # the first paths may all break where nobody forwarded
        found |= dict.fromkeys(_unanswered_recipients(client, request_id, wanted - len(found)))
    return list(found)[:wanted]


def _unanswered_recipients(client: httpx.Client, request_id: str, wanted: int) -> list[str]:
    """Companies the request was forwarded to whose standing is pending or overdue."""
    forwards = client.get("/v1/cascades", params={"request_id": request_id, "limit": 1000})
    forwards.raise_for_status()
    found: list[str] = []
    for company_id in dict.fromkeys(event["to_id"] for event in forwards.json()):
        standing = client.get(f"/v1/requests/{request_id}/companies/{company_id}")
        if standing.status_code == 200 and standing.json()["state"] in STANDING_TO_FIX:
            found.append(company_id)
        if len(found) >= wanted:
            break
    return found


def ack_to_counts(client: httpx.Client, request_id: str, company_id: str, timeout: float
                  ) -> tuple[float, float, int]:
    """POST one acceptance; ms until the POST answered, ms until gap counts changed, polls."""
    before = gap_counts(client)[request_id]
    sent = time.perf_counter()
    body = {"request_id": request_id, "company_id": company_id, "status": "accepted"}
    response = client.post("/v1/acknowledgements", json=body)
    posted = time.perf_counter()
    if response.status_code != 201:
        raise RuntimeError(f"acknowledgement refused: {response.status_code} {response.text}")
    polls = 0
    while time.perf_counter() - sent < timeout:
        polls += 1
        if gap_counts(client)[request_id] != before:
            return 1000 * (posted - sent), 1000 * (time.perf_counter() - sent), polls
    raise TimeoutError(f"gap counts of {request_id} unchanged {timeout:.0f} s after the ack")


def measure_acks(base_url: str, auth: dict[str, str], args: argparse.Namespace
                 ) -> dict[str, Any] | None:
    with httpx.Client(base_url=base_url, headers=auth, timeout=300.0) as client:
        counts = gap_counts(client)
        if not counts:
            return None
        request_id = max(counts, key=lambda r: counts[r]["pending"] + counts[r]["overdue"])
        companies = companies_to_answer(client, request_id, args.acks)
        samples = [ack_to_counts(client, request_id, c, args.ack_timeout) for c in companies]
    if not samples:
        return None
    return {"request": request_id, "acks": len(samples),
            "post_ms": statistics.median(s[0] for s in samples),
            "visible_ms": statistics.median(s[1] for s in samples),
            "visible_min_ms": min(s[1] for s in samples),
            "visible_max_ms": max(s[1] for s in samples),
            "polls": statistics.median(s[2] for s in samples)}


def describe(base_url: str, auth: dict[str, str]) -> tuple[str, str | None]:
    with httpx.Client(base_url=base_url, headers=auth, timeout=300.0) as client:
        first = client.get("/v1/gap-counts")  # also warms the snapshot before any timing
        first.raise_for_status()
        body = first.json()
        shape = (f"{len(body['requests'])} requests, revision {body['revision']}, "
                 f"gap-counts body {len(first.content):,} bytes")
        return shape, first.headers.get("etag")


def print_table(rounds: Rounds, clients: int, args: argparse.Namespace) -> None:
    print(f"\nmedian of {args.repeats} rounds of {args.seconds:g} s runs after {args.warmup:g} s "
          f"warm-up, {clients} keep-alive client(s), {args.workers} server worker(s)")
    print(f"{'endpoint':34} {'req/s':>9} {'× /healthz':>10} {'p50 ms':>9} {'p99 ms':>9} "
          f"{'n':>7} {'errors':>6}")
    for name, run in rounds.runs.items():
        ratio = f"{rounds.ratios[name]:10.3f}" if name in rounds.ratios else f"{'':10}"
        print(f"{name:34} {run.requests_per_s:9.2f} {ratio} {run.p50_ms:9.2f} "
              f"{run.p99_ms:9.2f} {run.count:7d} {run.errors:6d}")
        if not run.count:
            print(f"  {name}: no request ended within the window; raise --seconds")


def print_acks(acks: dict[str, Any] | None, args: argparse.Namespace) -> None:
    if args.acks == 0 or acks is None:
        print("one ack to updated counts: " + ("skipped (--acks 0)" if args.acks == 0 else
              "no request has a pending or overdue company"))
        return
    print(f"\none acknowledgement to updated counts ({acks['request']}, median of "
          f"{acks['acks']} acks): POST {acks['post_ms']:.1f} ms, counts changed after "
          f"{acks['visible_ms']:.1f} ms (min {acks['visible_min_ms']:.1f}, max "
          f"{acks['visible_max_ms']:.1f}; {acks['polls']:g} polls)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", required=True, help="sqlite:///PATH or neo4j://HOST:PORT")
    parser.add_argument("--seconds", type=float, default=5.0, help="measured seconds a run")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds first")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4],
                        help="client threads: one measurement for each number given")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--acks", type=int, default=7, help="ack-to-counts samples")
    parser.add_argument("--ack-timeout", type=float, default=120.0)
    parser.add_argument("--workers", type=int, default=1, help="server worker processes")
    args = parser.parse_args()
    with running_service(args.store, workers=args.workers) as (base_url, auth):
        shape, etag = describe(base_url, auth)
        print(f"service {base_url} on {args.store}: {shape}")
        endpoints = polling_endpoints(auth, etag)
        measured = {clients: throughput(base_url, endpoints, clients, args)
                    for clients in args.clients}
        acks = measure_acks(base_url, auth, args) if args.acks > 0 else None
    for clients, rounds in measured.items():
        print_table(rounds, clients, args)
    print_acks(acks, args)


if __name__ == "__main__":
    main()
