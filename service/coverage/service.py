"""Coverage reads: the per-worker graph snapshot and the questions asked of it.

The snapshot holds the supplier network as arrays (`graph_models.compact`) and, per
request, its events folded into a `RequestLedger`. It is keyed by the store revision and
follows writes through the store's change log (`changes_since`): a network change patches
the arrays, new events are folded into the ledgers, and only when the log cannot answer
(or too much changed) is the network reloaded. The last "now" analysis of each request is
kept with the instant until which no state can turn by the clock alone, so a dashboard
poll with no write in between is a cache hit, and a single acknowledgement advances the
previous analysis instead of recomputing it.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from graph_models.engine import (
    ACK_STATUSES,
    NEVER,
    STATE_CODE,
    ArrayAnalysis,
    CompactNetwork,
    RequestLedger,
    RequestScope,
    analyse,
    chain_to,
    distances_from,
    uncovered_page,
)
from graph_models.models import NodeState, PolicyRequest, from_epoch_us, to_epoch_us, utc_now
from service.coverage.schemas import (
    CompanyStanding,
    CoverageHistory,
    CoverageRead,
    GapCountsRead,
    GapPage,
    GapRead,
    HistoryPoint,
    PathTotals,
    RequestGapCounts,
    UncoveredPathPage,
    UncoveredPathRead,
    UpstreamCompany,
)
from service.http.errors import InvalidField, NotFound
from service.http.pagination import decode_offset, encode_cursor
from service.store import port
from service.store.port import CascadeStore, ChangeSet

__all__ = ["CoverageService", "supplier_answers"]

_STATUS_CODES = np.array([ACK_STATUSES.index(s) for s in port.ACK_STATUSES], dtype=np.int64)
"""The engine's code of each status code of the store (`SnapshotEvents.ack_status`)."""
POLLED_STATES = (NodeState.unreached, NodeState.pending, NodeState.overdue,
                 NodeState.declined, NodeState.expired)


@dataclass
class _RequestCache:
    request: PolicyRequest
    scope: RequestScope | None = None
    ledger: RequestLedger | None = None
    now: ArrayAnalysis | None = None  # the latest analysis at "now"
    counts: RequestGapCounts | None = None  # its gap-counts row
    gaps: list[tuple[str, str, int, int]] | None = field(default=None, repr=False)


@dataclass(frozen=True)
class RequestFigures:
    request_id: str
    topic: str
    states: dict[str, int]
    gaps: int
    uncovered_paths: int
    coverage_ratio: float
    overdue: tuple[tuple[str, int], ...]  # (company id, first reached µs) of overdue ones
    revision: int = 0  # the store revision the figures are taken at
    valid_until: int = 0  # µs: when they can next change by the clock (`valid_until()`)


class CoverageService:
    """Answers coverage questions from a snapshot that follows the store's change log."""

    def __init__(self, store: CascadeStore, *, change_limit: int = 50_000) -> None:
        self.store = store
        self.change_limit = change_limit
        self._lock = threading.RLock()
        self._network: CompactNetwork | None = None
        self._revision = -1
        self._requests: dict[str, _RequestCache] = {}
        self.reloads = 0  # full network loads (for tests and metrics)
        self.analyses = 0  # "now" analyses computed or advanced (cache misses)
        self._body: tuple[int, tuple[RequestGapCounts, ...], bytes, str] | None = None
        self._body_valid_until = 0  # µs: the first instant the body may be stale by the clock
        self._dirty = True  # a write went through this worker since the last check
        self._watched: tuple[int, float] = (-1, 0.0)  # (revision, monotonic time) last seen
        self._watch_interval = 0.0
        self._watch_stop = threading.Event()
        self._watcher: threading.Thread | None = None

    # -- the snapshot ---------------------------------------------------------------------

    def refresh(self, loading: Sequence[str] | None = ()) -> int:
        """Bring the snapshot to the store's current revision; return that revision. A
        full load also reads the events of the requests `loading` (None: of every one)
        with the network, instead of one request at a time on first use."""
        revision = self.store.revision()
        with self._lock:
            if revision == self._revision:
                return revision
            changes = (self.store.changes_since(self._revision, limit=self.change_limit)
                       if self._network is not None else None)
            if changes is None:
                self._reload(loading)
            else:
                self._apply(changes)
            return self._revision

    def _reload(self, loading: Sequence[str] | None) -> None:
        requests = {r.id: _RequestCache(r) for r in self.store.list_requests()}
        wanted = list(requests) if loading is None else loading
        snapshot = self.store.load_snapshot(wanted)
        network = CompactNetwork.from_columns(
            snapshot.ids, snapshot.kinds, snapshot.buyer, snapshot.supplier,
            snapshot.category, snapshot.categories)
        # a request created after the list is read at first use, like any other
        scopes = {rid: RequestScope(network, requests[rid].request).prepared()
                  for rid in dict.fromkeys(wanted) if rid in requests}
        for rid, scope in scopes.items():  # (built while the events may still be read)
            requests[rid].scope = scope
            if (events := snapshot.events.get(rid)) is not None:
                requests[rid].ledger = RequestLedger.of_columns(
                    scope, (events.cascade_from, events.cascade_to, events.cascade_sent),
                    (events.ack_company, _STATUS_CODES[events.ack_status], events.ack_at,
                     events.ack_seq))
        self._network, self._revision, self._requests = network, snapshot.revision, requests
        self.reloads += 1

    def _apply(self, changes: ChangeSet) -> None:
        assert self._network is not None
        if changes.companies or changes.links:
            self._network = self._network.with_changes(changes.companies, changes.links)
            for cache in self._requests.values():  # scopes are rebuilt on next use
                cache.scope, cache.now, cache.counts, cache.gaps = None, None, None, None
        for request_id in changes.requests - set(self._requests):
            created = self.store.get_request(request_id)
            if created is not None:
                self._requests[request_id] = _RequestCache(created)
        for request_id in changes.events_removed & set(self._requests):
            self._requests[request_id] = _RequestCache(self._requests[request_id].request)
        for request_id in set(changes.cascades) | set(changes.acknowledgements):
            held = self._requests.get(request_id)
            if held is not None and held.ledger is not None:
                ledger = self._ledger(held)
                held.ledger = ledger.with_events(changes.cascades.get(request_id, []),
                                                 changes.acknowledgements.get(request_id, []))
                held.counts, held.gaps = None, None
        self._revision = changes.revision

    def _cache(self, request_id: str) -> _RequestCache:
        cache = self._requests.get(request_id)
        if cache is None:
            raise NotFound(f"no request {request_id!r}")
        return cache

    def _ledger(self, cache: _RequestCache) -> RequestLedger:
        """The request's ledger over the current network (loaded on first use)."""
        assert self._network is not None
        if cache.scope is None or cache.scope.network is not self._network:
            cache.scope = RequestScope(self._network, cache.request)
        if cache.ledger is None:
            events = self.store.request_events(cache.request.id)
            cache.ledger = RequestLedger.of(cache.scope, events.cascades,
                                            events.acknowledgements)
        elif cache.ledger.scope is not cache.scope:
            cache.ledger = cache.ledger.rebased(cache.scope)
        return cache.ledger

    def analyse(self, request_id: str, as_of: datetime | None) -> tuple[int, ArrayAnalysis]:
        """The analysis of a request at `as_of` (default now), reusing the last one while
        nothing was written and no state turned by the clock."""
        revision = self.refresh((request_id,))
        with self._lock:
            cache = self._cache(request_id)
            if as_of is not None:
                return revision, analyse(self._ledger(cache), as_of)
            return revision, self._analysis_now(cache)

    def _analysis_now(self, cache: _RequestCache) -> ArrayAnalysis:
        """The request's analysis now (call with the lock held, after `refresh`)."""
        ledger = self._ledger(cache)
        now = utc_now()
        held = cache.now
        if held is not None and held.ledger is ledger and to_epoch_us(now) < held.valid_until():
            return held
        cache.now = analyse(ledger, now, previous=held)
        cache.counts, cache.gaps = None, None
        self.analyses += 1
        return cache.now

    def etag(self, request_id: str, as_of: datetime | None, variant: str) -> str:
        """A strong validator of a coverage answer: the store revision, the instant the
        answer is evaluated at (with no `as_of`, the start of the current analysis, which
        holds until a write or the next state change by the clock) and `variant` (path
        and query). Take it BEFORE computing the body: a body newer than its tag only
        costs a 200 later, never a wrong 304. With `as_of` nothing is analysed: the
        revision and the instant fix the answer."""
        if as_of is None:
            revision, analysis = self.analyse(request_id, None)
            instant = analysis.now
        else:
            revision, instant = self.refresh((request_id,)), to_epoch_us(as_of)
            with self._lock:
                self._cache(request_id)  # an unknown request is a 404, not a tag
        return strong_tag(f"{revision}|{instant}|{variant}")

    # -- answers --------------------------------------------------------------------------

    def coverage(self, *, request_id: str, as_of: datetime | None) -> CoverageRead:
        revision, analysis = self.analyse(request_id, as_of)
        total, covered = analysis.path_counts()
        return CoverageRead(
            request_id=request_id,
            root_id=analysis.scope.request.issuer_id,
            revision=revision,
            as_of=as_of or analysis.as_of,  # states hold from then until a change
            counts=analysis.state_counts(),
            gaps=int(analysis.gap_links.size),
            paths=PathTotals(total=total, covered=covered, uncovered=total - covered),
            coverage_ratio=analysis.coverage_ratio,
            tiers=analysis.tier_table(),
        )

    def history(self, *, request_id: str, start: datetime | None, to: datetime | None,
                step: timedelta, max_points: int) -> CoverageHistory:
        """The counts at `start`, `start + step`, ... up to `to` (default: the request's
        issue and now): one ledger, analysed at each instant, each from the one before
        where only answers changed in between."""
        revision = self.refresh((request_id,))
        with self._lock:
            cache = self._cache(request_id)
            ledger = self._ledger(cache)
        named = "to" if to is not None else "from"  # the bound the caller set (or from)
        start = start or cache.request.issued_at
        to = to or utc_now()
        if to <= start:
            raise InvalidField("'from' must be before 'to'", field=named)
        if step <= timedelta(0):
            raise InvalidField("step must be positive", field="step")
        count = int((to - start) / step) + 1
        if count > max_points:
            raise InvalidField(f"{count} points asked, at most {max_points}: a longer step",
                               field="step")
        points, previous = [], None
        for n in range(count):
            at = start + n * step
            previous = analyse(ledger, at, previous)
            total, covered = previous.path_counts()
            points.append(HistoryPoint(at=at, counts=previous.state_counts(),
                                       gaps=int(previous.gap_links.size),
                                       uncovered_paths=total - covered,
                                       coverage_ratio=previous.coverage_ratio))
        return CoverageHistory(request_id=request_id, revision=revision, start=start, to=to,
                               step_seconds=step.total_seconds(), points=points)

    def _gaps(self, request_id: str, as_of: datetime | None) -> list[tuple[str, str, int, int]]:
        _, analysis = self.analyse(request_id, as_of)
        if as_of is not None:
            return analysis.gaps()
        cache = self._cache(request_id)
        if cache.gaps is None or cache.now is not analysis:
            gaps = analysis.gaps()  # outside the lock: exact impact takes a while at scale
            with self._lock:
                if cache.now is analysis:
                    cache.gaps = gaps
            return gaps
        return cache.gaps

    def gaps(
        self, *, request_id: str, as_of: datetime | None, limit: int, cursor: str | None
    ) -> GapPage:
        start = decode_offset(cursor)
        gaps = self._gaps(request_id, as_of)
        page = [GapRead(from_id=u, to_id=v, tier=t, impact=i)
                for u, v, t, i in gaps[start : start + limit]]
        more = start + limit < len(gaps)
        return GapPage(items=page, next_cursor=encode_cursor(start + limit) if more else None)

    def uncovered(
        self,
        *,
        request_id: str,
        as_of: datetime | None,
        limit: int,
        cursor: str | None,
        target: str | None,
    ) -> UncoveredPathPage:
        start = decode_offset(cursor)
        _, analysis = self.analyse(request_id, as_of)
        at = None
        if target is not None:
            at = analysis.scope.network.index.get(target)
            if at is None:
                raise NotFound(f"no company {target!r}")
        page, following = uncovered_page(analysis, start=start, limit=limit, target=at)
        return UncoveredPathPage(
            items=[UncoveredPathRead(**vars(p)) for p in page],
            next_cursor=encode_cursor(following) if following is not None else None,
        )

    def standing(
        self, *, request_id: str, company_id: str, as_of: datetime | None
    ) -> CompanyStanding:
        _, analysis = self.analyse(request_id, as_of)
        company = analysis.scope.network.index.get(company_id)
        if company is None:
            raise NotFound(f"no company {company_id!r}")
        state = analysis.state_of(company)
        if state is None:
            raise NotFound(f"company {company_id!r} is outside request {request_id!r}")
        first = int(analysis.first[company])
        suppliers, acknowledged = supplier_answers(analysis, company)
        return CompanyStanding(
            request_id=request_id,
            company_id=company_id,
            state=state.value,
            tier=int(analysis.scope.tier[company]),
            covered=bool(analysis.covered[company]),
            path=chain_to(analysis, company),
            first_reached_at=None if first == NEVER else from_epoch_us(first),
            applicable_suppliers=suppliers,
            acknowledged_suppliers=acknowledged,
            acknowledged_supplier_share=acknowledged / suppliers if suppliers else None,
        )

    def gap_counts(self) -> GapCountsRead:
        revision = self.refresh(None)
        with self._lock:
            rows = [self._counts_row(self._requests[rid]) for rid in sorted(self._requests)]
        return GapCountsRead(revision=revision, requests=rows)

    def request_figures(self) -> list[RequestFigures]:
        """Every request's state counts and totals now, for metrics (from the cache)."""
        self.refresh(None)
        with self._lock:
            figures = []
            for request_id in sorted(self._requests):
                cache = self._requests[request_id]
                row = self._counts_row(cache)
                assert cache.now is not None
                figures.append(RequestFigures(
                    request_id=request_id, topic=cache.request.topic,
                    states=cache.now.state_counts(), gaps=row.gaps,
                    uncovered_paths=row.uncovered_paths, coverage_ratio=row.coverage_ratio,
                    overdue=overdue_companies(cache.now), revision=self._revision,
                    valid_until=cache.now.valid_until()))
        return figures

    # -- polls without I/O ----------------------------------------------------------------

    def mark_dirty(self) -> None:
        """A write went through this worker: the next read checks the store."""
        self._dirty = True

    def watch(self, interval_s: float) -> None:
        """Check the store revision every `interval_s` in a daemon thread, so polls in
        between can be answered from memory (`cached_gap_counts_body`)."""
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
                self._watched = (self.store.revision(), time.monotonic())
            except Exception:  # store down: polls fall back to the checked path
                self._watched = (-1, 0.0)

    def cached_gap_counts_body(self) -> tuple[bytes, str] | None:
        """The last gap-counts body and its ETag if certainly current, else None; never
        blocks (no I/O, no waiting for the lock), so it can run on the event loop."""
        body, (revision, seen_at) = self._body, self._watched
        fresh = time.monotonic() - seen_at < 3 * self._watch_interval
        if (body is None or self._dirty or not fresh or revision != body[0]
                or time.time_ns() // 1000 >= self._body_valid_until):
            return None
        return body[2], body[3]

    def gap_counts_body(self) -> tuple[bytes, str]:
        """`gap_counts()` as JSON with its ETag, encoded once per distinct answer: a poll
        that finds nothing changed costs a revision check and a few comparisons."""
        self._dirty = False  # before the check: a write landing after it marks it again
        counts = self.gap_counts()
        with self._lock:
            self._body_valid_until = min(
                (c.now.valid_until() for c in self._requests.values() if c.now is not None),
                default=NEVER)
        held = self._body
        if (held is not None and held[0] == counts.revision and len(held[1]) == len(counts.requests)
                and all(a is b for a, b in zip(held[1], counts.requests, strict=True))):
            return held[2], held[3]
        body = counts.model_dump_json().encode()
        tag = strong_tag(body)
        self._body = (counts.revision, tuple(counts.requests), body, tag)
        return body, tag

    def _counts_row(self, cache: _RequestCache) -> RequestGapCounts:
        """The request's gap-counts row now (lock held), kept with its analysis."""
        analysis = self._analysis_now(cache)
        if cache.counts is None:
            counts = analysis.state_counts()
            total, covered = analysis.path_counts()
            cache.counts = RequestGapCounts(
                request_id=cache.request.id,
                topic=cache.request.topic,
                version=cache.request.version,
                **{state.value: counts[state.value] for state in POLLED_STATES},
                gaps=int(analysis.gap_links.size),
                uncovered_paths=total - covered,
                coverage_ratio=analysis.coverage_ratio,
            )
        return cache.counts

    def upstream(self, *, company_id: str, depth: int) -> list[UpstreamCompany]:
        """Suppliers of a company up to `depth` links away, nearest first (then by id)."""
        self.refresh()
        network = self._network
        assert network is not None
        company = network.index.get(company_id)
        if company is None:
            raise NotFound(f"no company {company_id!r}")
        tiers = distances_from(network.graph, company, limit=depth)
        found = [(int(tiers[i]), network.ids[i]) for i in np.flatnonzero(tiers > 0)]
        return [UpstreamCompany(id=c, tier=t) for t, c in sorted(found)]


def overdue_companies(analysis: ArrayAnalysis) -> tuple[tuple[str, int], ...]:
    """(id, first reached µs) of the companies overdue in the analysis."""
    ids = analysis.scope.network.ids
    found = np.flatnonzero(analysis.state == STATE_CODE[NodeState.overdue])
    return tuple((ids[i], int(analysis.first[i])) for i in found)


def strong_tag(material: str | bytes) -> str:
    """A quoted strong entity tag of `material` (16 hex digits of BLAKE2b)."""
    data = material.encode() if isinstance(material, str) else material
    return f'"{hashlib.blake2b(data, digest_size=8).hexdigest()}"'


def supplier_answers(analysis: ArrayAnalysis, company: int) -> tuple[int, int]:
    """(applicable suppliers, acknowledged ones) of a company for the analysed request.

    Its applicable suppliers are its direct suppliers over links the request applies to,
    taken on the request's subgraph (so a company outside the request has none), the
    issuer excepted (it is never asked). Acknowledged means their own state is
    `acknowledged`: accepted and still valid at the analysed instant. This is the figure
    CMRT question 6 asks for ("what percentage of relevant suppliers have responded").
    """
    scope = analysis.scope
    start, stop = scope.links_from[company], scope.links_from[company + 1]
    suppliers = np.unique(scope.dst[start:stop])
    suppliers = suppliers[suppliers != scope.root]
    return int(suppliers.size), int(np.count_nonzero(analysis.acknowledged[suppliers]))
