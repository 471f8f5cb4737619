"""The dashboards' hot path: `/v1/gap-counts`, every request's counts in one body.

A poll with nothing changed costs a revision check and a few comparisons; with the
revision watch on, a poll between two checks is answered from memory without I/O."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from graph_models.engine import NEVER, ArrayAnalysis
from graph_models.models import NodeState
from service.coverage.schemas import GapCountsRead, RequestGapCounts
from service.coverage.snapshot import CoverageSnapshot, RequestNow
from service.http.caching import strong_tag

__all__ = ["CountedRequest", "GapCountsBody", "GapCountsDashboard"]

POLLED_STATES = (NodeState.unreached, NodeState.pending, NodeState.overdue,
                 NodeState.declined, NodeState.expired)


@dataclass(frozen=True)
class CountedRequest:
    """A request's analysis now and its gap-counts row."""

    now: RequestNow
    row: RequestGapCounts


@dataclass(frozen=True)
class GapCountsBody:
    """The encoded gap counts and what they were made from."""

    revision: int
    rows: tuple[RequestGapCounts, ...]
    json: bytes
    etag: str
    recheck_at: int  # µs: no later than the first instant a state may turn by the clock


class GapCountsDashboard:
    """Gap counts from the snapshot, each row kept with the analysis it came from."""

    def __init__(self, snapshot: CoverageSnapshot) -> None:
        self.snapshot = snapshot
        self._rows: dict[str, tuple[ArrayAnalysis, RequestGapCounts]] = {}
        self._body: GapCountsBody | None = None
        self._dirty = True  # a write went through this worker since the last check
        self._watched: tuple[int, float] = (-1, 0.0)  # (revision, monotonic time) last seen
        self._watch_interval = 0.0
        self._watch_stop = threading.Event()
        self._watcher: threading.Thread | None = None

    def counted(self) -> tuple[int, list[CountedRequest]]:
        """(revision, every request's analysis now with its row), by request id."""
        revision, requests = self.snapshot.now_all()
        return revision, [CountedRequest(now, self._row(now)) for now in requests]

    def gap_counts(self) -> GapCountsRead:
        revision, counted = self.counted()
        return GapCountsRead(revision=revision, requests=[c.row for c in counted])

    def body(self) -> GapCountsBody:
        """The gap counts as JSON with their ETag, encoded once per distinct answer."""
        self._dirty = False  # before the check: a write landing after it marks it again
        revision, counted = self.counted()
        rows = tuple(c.row for c in counted)
        held = self._body
        if (held is not None and held.revision == revision and len(held.rows) == len(rows)
                and all(a is b for a, b in zip(held.rows, rows, strict=True))):
            return held
        json = GapCountsRead(revision=revision, requests=list(rows)).model_dump_json().encode()
        recheck_at = min((c.now.analysis.recheck_at for c in counted), default=NEVER)
        self._body = GapCountsBody(revision, rows, json, strong_tag(json), recheck_at)
        return self._body

    def cached_body(self) -> GapCountsBody | None:
        """The last body if certainly current, else None; never blocks (no I/O, no
        lock), so it can run on the event loop."""
        body, (revision, seen_at) = self._body, self._watched
        fresh = time.monotonic() - seen_at < 3 * self._watch_interval
        if (body is None or self._dirty or not fresh or revision != body.revision
                or time.time_ns() // 1000 >= body.recheck_at):
            return None
        return body

    def mark_dirty(self) -> None:
        """A write went through this worker: the next poll checks the store."""
        self._dirty = True

    def watch(self, interval_s: float) -> None:
        """Check the store revision every `interval_s` in a daemon thread, so polls in
        between can be answered from memory (`cached_body`)."""
        self._watch_interval = interval_s
        self._watcher = threading.Thread(target=self._watch_loop, name="revision-watch",
                                         daemon=True)
        self._watcher.start()

    def stop_watch(self) -> None:
        """Stop the watch and wait for its last check, so the store can be closed."""
        self._watch_stop.set()
        if self._watcher is not None:
            self._watcher.join(timeout=30)

    def _watch_loop(self) -> None:
        while not self._watch_stop.wait(self._watch_interval):
            try:
                self._watched = (self.snapshot.store.revision(), time.monotonic())
            except Exception:  # store down: polls fall back to the checked path
                self._watched = (-1, 0.0)

    def _row(self, now: RequestNow) -> RequestGapCounts:
        """The request's row, computed once per analysis (the same object while it holds,
        which is what lets `body` see nothing changed by identity)."""
        held = self._rows.get(now.request.id)
        if held is not None and held[0] is now.analysis:
            return held[1]
        analysis = now.analysis
        counts = analysis.state_counts()
        total, covered = analysis.path_counts()
        row = RequestGapCounts(
            request_id=now.request.id,
            topic=now.request.topic,
            version=now.request.version,
            **{state.value: counts[state.value] for state in POLLED_STATES},
            gaps=int(analysis.gap_links.size),
            uncovered_paths=total - covered,
            coverage_ratio=analysis.coverage_ratio,
        )
        self._rows[now.request.id] = (analysis, row)
        return row
