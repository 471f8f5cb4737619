"""The load process of `load_mixed.py`: keep-alive httpx clients running a mixed workload.

    reports = multiprocessing.get_context("spawn").Queue()
    run_load(plan, reports)   # in its own process; a dict per interval, then the run's

Each of `plan.connections` threads holds one client and picks its next operation by the
`plan.mix` weights (`KINDS`): a gap-counts poll revalidated with the ETag it last saw, one
acknowledgement or a batch of them (each POST with a fresh Idempotency-Key), a coverage or
a gaps query. Answers go to random `plan.companies` of random `plan.requests`. A request
fails with a status outside 2xx/304, a transport error, or (a batch) an item refused.
Reports are plain dicts: `figures` maps each kind and "all" to count, per_s, p50_ms,
p99_ms (latencies of failed requests included), errors and their causes.
"""

from __future__ import annotations

import multiprocessing as mp
import random
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

KINDS = ("poll", "ack", "batch", "coverage", "gaps")
ANSWER_STATUSES, ANSWER_WEIGHTS = ("accepted", "received", "declined"), (70, 15, 15)
REQUEST_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class LoadPlan:
    """Everything the load process needs: where, what mix, how long, whom to answer for."""

    base_url: str
    auth: dict[str, str]
    mix: dict[str, float]
    connections: int
    duration: float
    interval: float
    batch_size: int
    seed: int
    requests: tuple[str, ...]
    companies: tuple[str, ...]


@dataclass
class Connection:
    """One dashboard-or-integration client: its keep-alive client, dice and last ETag."""

    client: httpx.Client
    plan: LoadPlan
    rng: random.Random
    etag: str | None = None

    def request_id(self) -> str:
        return quote(self.rng.choice(self.plan.requests), safe="")

    def answer(self) -> dict[str, str]:
        status = self.rng.choices(ANSWER_STATUSES, ANSWER_WEIGHTS)[0]
        return {"request_id": self.rng.choice(self.plan.requests),
                "company_id": self.rng.choice(self.plan.companies), "status": status}


def poll_gap_counts(conn: Connection) -> httpx.Response:
    headers = {"If-None-Match": conn.etag} if conn.etag else {}
    response = conn.client.get("/v1/gap-counts", headers=headers)
    conn.etag = response.headers.get("etag", conn.etag)
    return response


def acknowledge_one(conn: Connection) -> httpx.Response:
    return conn.client.post("/v1/acknowledgements", json=conn.answer(),
                            headers={"Idempotency-Key": str(uuid.uuid4())})


def acknowledge_batch(conn: Connection) -> httpx.Response:
    items = [conn.answer() for _ in range(conn.plan.batch_size)]
    return conn.client.post("/v1/acknowledgements/batch", json={"items": items},
                            headers={"Idempotency-Key": str(uuid.uuid4())})


def query_coverage(conn: Connection) -> httpx.Response:
    return conn.client.get(f"/v1/requests/{conn.request_id()}/coverage")


def query_gaps(conn: Connection) -> httpx.Response:
    return conn.client.get(f"/v1/requests/{conn.request_id()}/gaps", params={"limit": 100})


OPERATIONS = {"poll": poll_gap_counts, "ack": acknowledge_one, "batch": acknowledge_batch,
              "coverage": query_coverage, "gaps": query_gaps}


def failure(kind: str, conn: Connection) -> str | None:
    """Run one operation; None if it succeeded, else what went wrong."""
    try:
        response = OPERATIONS[kind](conn)
    except httpx.TransportError as exc:
        return type(exc).__name__
    if response.status_code != 304 and not 200 <= response.status_code < 300:
        return str(response.status_code)
    if kind == "batch" and any(r["status"] == "error" for r in response.json()["results"]):
        return "item refused"
    return None


@dataclass
class Samples:
    latencies: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in KINDS})
    errors: dict[str, Counter[str]] = field(default_factory=lambda: {k: Counter() for k in KINDS})


class Tally:
    """Latencies and errors per kind, for the running interval and for the whole run."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.interval, self.run = Samples(), Samples()

    def record(self, kind: str, seconds: float, error: str | None) -> None:
        with self.lock:
            for samples in (self.interval, self.run):
                samples.latencies[kind].append(seconds)
                if error:
                    samples.errors[kind][error] += 1

    def take_interval(self) -> Samples:
        with self.lock:
            taken, self.interval = self.interval, Samples()
        return taken


def figures(samples: Samples, seconds: float) -> dict[str, dict[str, Any]]:
    """Per kind and 'all': count, requests/s, p50/p99 ms, errors and their causes."""
    rows = {kind: _row(samples.latencies[kind], samples.errors[kind], seconds) for kind in KINDS}
    everything = [lat for lats in samples.latencies.values() for lat in lats]
    rows["all"] = _row(everything, sum(samples.errors.values(), Counter()), seconds)
    return rows


def _row(latencies: list[float], errors: Counter[str], seconds: float) -> dict[str, Any]:
    ordered = sorted(latencies)
    count = len(ordered)

    def percentile_ms(q: float) -> float:
        return 1000 * ordered[min(count - 1, int(count * q))] if count else float("nan")

    return {"count": count, "per_s": count / seconds, "p50_ms": percentile_ms(0.50),
            "p99_ms": percentile_ms(0.99), "errors": sum(errors.values()),
            "causes": dict(errors)}


def connection_loop(plan: LoadPlan, tally: Tally, index: int, stop_at: float) -> None:
    kinds, weights = list(plan.mix), list(plan.mix.values())
    with httpx.Client(base_url=plan.base_url, headers=plan.auth,
                      timeout=REQUEST_TIMEOUT_S) as client:
        conn = Connection(client, plan, random.Random(plan.seed * 1_000 + index))
        while time.perf_counter() < stop_at:
            kind = conn.rng.choices(kinds, weights)[0]
            sent = time.perf_counter()
            error = failure(kind, conn)
            tally.record(kind, time.perf_counter() - sent, error)


def run_load(plan: LoadPlan, reports: mp.Queue[dict[str, Any]]) -> None:
    """The load process: connections in threads; a report per interval, then the run's."""
    tally = Tally()
    start = time.perf_counter()
    stop_at = start + plan.duration
    threads = [threading.Thread(target=connection_loop, args=(plan, tally, i, stop_at))
               for i in range(plan.connections)]
    for thread in threads:
        thread.start()
    reported = start
    while (now := time.perf_counter()) < stop_at:
        time.sleep(max(0.0, min(reported + plan.interval, stop_at) - now))
        now = time.perf_counter()
        if now - reported >= plan.interval and now < stop_at - 1.0:  # else: the last report
            reported = _report(reports, tally, start, reported)
    for thread in threads:
        thread.join()  # the requests in flight end in the last interval
    _report(reports, tally, start, reported)
    reports.put({"final": True, "seconds": time.perf_counter() - start,
                 "figures": figures(tally.run, time.perf_counter() - start)})


def _report(reports: mp.Queue[dict[str, Any]], tally: Tally, start: float, since: float
            ) -> float:
    now = time.perf_counter()
    reports.put({"final": False, "elapsed": now - start,
                 "figures": figures(tally.take_interval(), now - since)})
    return now
