"""`GET /metrics` in the Prometheus text format.

- HTTP: requests by method, route template and status, and their latency (templates, not
  raw paths, so an id never becomes a label value).
- Coverage: per request (labels `request_id`, `topic`; never a company) the number of
  companies in each state, gaps, uncovered paths and the coverage ratio, read at scrape
  time from the coverage service's cached analyses.
- `cascade_store_up`: 1 while the store answers.

Each app has its own registry (several apps in one test process must not collide); with
several workers each answers for itself, so scrape them all or run one.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.coverage.dashboard import GapCountsDashboard
from service.coverage.figures import request_figures
from service.store.port import CascadeStore

__all__ = ["CONTENT_TYPE", "HttpMetrics", "Metrics"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Label values come from closed sets only: a stranger's made-up method or path must not
# add a time series (each one is a line of /metrics, forever).
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def method_label(method: str) -> str:
    return method if method in KNOWN_METHODS else "other"


def route_label(scope: Scope) -> str:
    """The template of the route that answered (a closed set), else `unmatched`."""
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) else "unmatched"


class CoverageCollector(Collector):
    """Per-request coverage gauges, from what the coverage service already holds."""

    def __init__(self, dashboard: GapCountsDashboard, store: CascadeStore) -> None:
        self.dashboard = dashboard
        self.store = store

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = self.store.ping()
        yield GaugeMetricFamily("cascade_store_up", "1 while the store answers", value=up)
        if not up:
            return
        labels = ["request_id", "topic"]
        states = GaugeMetricFamily("cascade_request_companies",
                                   "Companies of a request in each state",
                                   labels=[*labels, "state"])
        gaps = GaugeMetricFamily("cascade_request_gaps",
                                 "Links the request should have been forwarded over", labels=labels)
        paths = GaugeMetricFamily("cascade_request_uncovered_paths",
                                  "Root-to-leaf supply paths not covered", labels=labels)
        ratio = GaugeMetricFamily("cascade_request_coverage_ratio",
                                  "Share of applicable companies covered", labels=labels)
        for row in request_figures(self.dashboard):
            key = [row.request_id, row.topic]
            for state, count in row.states.items():
                states.add_metric([*key, state], count)
            gaps.add_metric(key, row.gaps)
            paths.add_metric(key, as_sample(row.uncovered_paths))
            ratio.add_metric(key, row.coverage_ratio)
        yield from (states, gaps, paths, ratio)


def as_sample(count: int) -> float:
    """A sample value of an exact count: path counts grow exponentially and may pass what a
    float holds (~1.8e308), where Prometheus gets +Inf instead of a failed scrape."""
    try:
        return float(count)
    except OverflowError:
        return math.inf


class Metrics:
    """The registry of one app, and the ASGI middleware that times its requests."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("cascade_http_requests", "HTTP requests answered",
                                ["method", "route", "status"], registry=self.registry)
        self.unaudited = Counter("cascade_audit_unrecorded", "Writes refused 401 that the "
                                 "audit trail did not record (over its rate for strangers)",
                                 registry=self.registry)
        self.latency = Histogram("cascade_http_request_duration_seconds",
                                 "Time to answer an HTTP request", ["method", "route"],
                                 registry=self.registry)
        # the labelled series of each (method, route, status): a closed set, looked up
        # once rather than through `labels` (which checks and locks) on every request
        self._series: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    def answered(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count and time one HTTP request."""
        series = self._series.get((method, route, status))
        if series is None:
            series = (self.requests.labels(method, route, str(status)),
                      self.latency.labels(method, route))
            self._series[(method, route, status)] = series
        series[0].inc()
        series[1].observe(seconds)

    def watch_coverage(self, dashboard: GapCountsDashboard, store: CascadeStore) -> Collector:
        collector = CoverageCollector(dashboard, store)
        self.registry.register(collector)
        return collector

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class HttpMetrics:
    """ASGI middleware: count and time every HTTP request by its route template."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        start = time.perf_counter()

        async def remember(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, remember)
        finally:
            self.metrics.answered(method_label(scope["method"]), route_label(scope), status,
                                  time.perf_counter() - start)
