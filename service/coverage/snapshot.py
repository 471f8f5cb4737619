"""The per-worker coverage snapshot: the supplier network as arrays and each request's
events folded into a ledger, following the store's change log.

It is keyed by the store revision: a network change patches the arrays, new events are
folded into the ledgers, and only when the log cannot answer (or too much changed) is the
network reloaded. The last "now" analysis of each request is kept with the instant until
which no state can turn by the clock alone, so a poll with no write in between is a cache
hit, and a single acknowledgement advances the previous analysis instead of recomputing it.

A company's cascade view of a request (the request as if that company had issued it) is
cached the same way, for the most recently read views: its scope is built over the same
network, its ledger is the request's events rebased onto that scope, and new events are
folded into it as into the request's own.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

import numpy as np

from graph_models.engine import (
    ACK_STATUSES,
    ArrayAnalysis,
    CompactNetwork,
    RequestLedger,
    RequestScope,
    analyse,
)
from graph_models.exposure import request_scope
from graph_models.models import PolicyRequest, to_epoch_us, utc_now
from service.coverage.heap import roomy_heap
from service.http.errors import NotFound
from service.store import port
from service.store.port import CascadeStore, ChangeSet

__all__ = ["CoverageSnapshot", "Gap", "Reading", "RequestNow"]

_STATUS_CODES = np.array([ACK_STATUSES.index(s) for s in port.ACK_STATUSES], dtype=np.int64)
"""The engine's code of each status code of the store (`SnapshotEvents.ack_status`)."""

Gap = tuple[str, str, int, int]
"""(from id, to id, tier, impact) of one gap."""


@dataclass
class _RequestCache:
    request: PolicyRequest
    scope: RequestScope | None = None
    ledger: RequestLedger | None = None
    now: ArrayAnalysis | None = None  # the last "now" analysis
    gaps: list[Gap] | None = None  # the gaps of `now`, with their impact
    source: _RequestCache | None = None  # of a view: the request's own cache
    # of a view: listings derived from `gaps` (by name), kept with the gaps they came from
    listings: dict[str, tuple[list[Gap], list[Gap]]] = field(default_factory=dict)


class Reading:
    """One request read at one store revision, evaluated at one instant.

    The revision and the instant fix the answer, so they make its ETag before anything
    is analysed; an `as_of` reading analyses on first access to `analysis` only (a 304
    never does)."""

    def __init__(self, request_id: str, revision: int, instant: int,
                 analysis: Callable[[], ArrayAnalysis], viewer: str | None = None) -> None:
        self.request_id, self.revision, self.instant = request_id, revision, instant
        self.viewer = viewer  # the company whose cascade view this is (None: the request)
        self._analyse = analysis

    @cached_property
    def analysis(self) -> ArrayAnalysis:
        return self._analyse()


@dataclass(frozen=True)
class RequestNow:
    """A request's analysis now, as the dashboard and the figures take it."""

    request: PolicyRequest
    analysis: ArrayAnalysis


class CoverageSnapshot:
    """Answers "which analysis of this request, at which revision" from memory."""

    def __init__(self, store: CascadeStore, *, change_limit: int = 50_000,
                 view_limit: int = 16) -> None:
        self.store = store
        self.change_limit = change_limit
        self.view_limit = view_limit  # cascade views kept (each holds a scope's arrays)
        self.reloads = 0  # full network loads (for tests and metrics)
        self.analyses = 0  # "now" analyses computed or advanced (cache misses)
        self._lock = threading.RLock()
        self._network: CompactNetwork | None = None
        self._revision = -1
        self._requests: dict[str, _RequestCache] = {}
        self._views: OrderedDict[tuple[str, str], _RequestCache] = OrderedDict()

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
                with roomy_heap():  # hundreds of large temporaries: reuse, not re-fault
                    self._reload(loading)
            else:
                self._apply(changes)
            return self._revision

    def read(self, request_id: str, as_of: datetime | None) -> Reading:
        """The request at `as_of` (default now): one revision read, a 404 for an unknown
        request, the "now" analysis reused while nothing was written and no state turned
        by the clock."""
        revision = self.refresh((request_id,))
        with self._lock:
            cache = self._cache(request_id)
            if as_of is None:
                now = self._analysis_now(cache)
                return Reading(request_id, revision, now.now, lambda: now)
            ledger = self._ledger(cache)
        return Reading(request_id, revision, to_epoch_us(as_of), lambda: analyse(ledger, as_of))

    def read_view(self, request_id: str, company_id: str, as_of: datetime | None) -> Reading:
        """The cascade view of `company_id`: the request as if that company had issued
        it, at `as_of` (default now), cached like the request's own reading."""
        revision = self.refresh((request_id,))
        with self._lock:
            view = self._view(request_id, company_id)
            if as_of is None:
                now = self._analysis_now(view)
                return Reading(request_id, revision, now.now, lambda: now, company_id)
            ledger = self._ledger(view)
        return Reading(request_id, revision, to_epoch_us(as_of),
                       lambda: analyse(ledger, as_of), company_id)

    def listing(self, reading: Reading, name: str,
                arrange: Callable[[list[Gap]], list[Gap]]) -> list[Gap]:
        """`arrange` of the reading's gaps, kept with a view's "now" gaps under `name`
        (a view's masked and re-ordered gap listing is paged many times)."""
        gaps = self.gaps(reading)
        with self._lock:
            cache = self._held(reading)
            held = cache.listings.get(name) if cache is not None else None
        if held is not None and held[0] is gaps:
            return held[1]
        arranged = arrange(gaps)
        with self._lock:
            if cache is not None and cache.gaps is gaps:
                cache.listings = {**cache.listings, name: (gaps, arranged)}
        return arranged

    def ledger(self, request_id: str) -> tuple[int, PolicyRequest, RequestLedger]:
        """(revision, request, ledger) of a request, to analyse at many instants."""
        revision = self.refresh((request_id,))
        with self._lock:
            cache = self._cache(request_id)
            return revision, cache.request, self._ledger(cache)

    def network(self) -> CompactNetwork:
        """The supplier network at the store's current revision."""
        self.refresh()
        with self._lock:
            assert self._network is not None
            return self._network

    def gaps(self, reading: Reading) -> list[Gap]:
        """The reading's gaps with their impact, kept with the "now" analysis (exact
        impact takes a while at scale, so it is computed outside the lock)."""
        analysis = reading.analysis
        with self._lock:
            cache = self._held(reading)
            if cache is not None and cache.now is analysis and cache.gaps is not None:
                return cache.gaps
        gaps = analysis.gaps()
        with self._lock:
            if cache is not None and cache.now is analysis:
                cache.gaps = gaps
        return gaps

    def now_all(self) -> tuple[int, list[RequestNow]]:
        """(revision, every request's analysis now, by request id)."""
        revision = self.refresh(None)
        with self._lock:
            return revision, [RequestNow(self._requests[rid].request,
                                         self._analysis_now(self._requests[rid]))
                              for rid in sorted(self._requests)]

    def _reload(self, loading: Sequence[str] | None) -> None:
        requests = {r.id: _RequestCache(r) for r in self.store.list_requests()}
        wanted = list(requests) if loading is None else loading
        snapshot = self.store.load_snapshot(wanted)
        network = CompactNetwork.from_columns(
            snapshot.ids, snapshot.kinds, snapshot.buyer, snapshot.supplier,
            snapshot.category, snapshot.categories, snapshot.index)
        # a request created after the list is read at first use, like any other
        scopes = {rid: request_scope(network, requests[rid].request).prepared()
                  for rid in dict.fromkeys(wanted) if rid in requests}
        for rid, scope in scopes.items():  # (built while the events may still be read)
            requests[rid].scope = scope
            if (events := snapshot.events.get(rid)) is not None:
                requests[rid].ledger = RequestLedger.of_columns(
                    scope, (events.cascade_from, events.cascade_to, events.cascade_sent),
                    (events.ack_company, _STATUS_CODES[events.ack_status], events.ack_at,
                     events.ack_seq))
        self._network, self._revision, self._requests = network, snapshot.revision, requests
        self._views.clear()
        self.reloads += 1

    def _apply(self, changes: ChangeSet) -> None:
        assert self._network is not None
        if changes.companies or changes.links:
            self._network = self._network.with_changes(changes.companies, changes.links)
            for cache in [*self._requests.values(), *self._views.values()]:
                cache.scope, cache.now, cache.gaps = None, None, None  # rebuilt on next use
        for request_id in changes.requests - set(self._requests):
            created = self.store.get_request(request_id)
            if created is not None:
                self._requests[request_id] = _RequestCache(created)
        for request_id in changes.events_removed & set(self._requests):
            self._requests[request_id] = _RequestCache(self._requests[request_id].request)
            for key in [key for key in self._views if key[0] == request_id]:
                del self._views[key]
        for request_id in set(changes.cascades) | set(changes.acknowledgements):
            held = self._requests.get(request_id)
            if held is not None and held.ledger is not None:
                ledger = self._ledger(held)
                held.ledger = ledger.with_events(changes.cascades.get(request_id, []),
                                                 changes.acknowledgements.get(request_id, []))
                held.gaps = None
        self._fold_into_views(changes)
        self._revision = changes.revision

    def _fold_into_views(self, changes: ChangeSet) -> None:
        """New events of a request into its views' ledgers: folded where the view's
        scope is current, else dropped, to be rebased from the request's on next use."""
        touched = set(changes.cascades) | set(changes.acknowledgements)
        for (request_id, _), view in self._views.items():
            if request_id not in touched or view.ledger is None:
                continue
            if view.scope is not None and view.ledger.scope is view.scope:
                view.ledger = view.ledger.with_events(
                    changes.cascades.get(request_id, []),
                    changes.acknowledgements.get(request_id, []))
            else:
                view.ledger = None
            view.gaps = None

    def _held(self, reading: Reading) -> _RequestCache | None:
        """The cache a reading came from (call with the lock held)."""
        if reading.viewer is None:
            return self._requests.get(reading.request_id)
        return self._views.get((reading.request_id, reading.viewer))

    def _view(self, request_id: str, company_id: str) -> _RequestCache:
        """The cache of a company's view (made on first use, most recently used kept)."""
        cache = self._cache(request_id)
        assert self._network is not None
        if company_id not in self._network.index:
            raise NotFound(f"no company {company_id!r}")
        key = (request_id, company_id)
        view = self._views.pop(key, None)
        if view is None or view.source is not cache:
            view = _RequestCache(cache.request.model_copy(update={"issuer_id": company_id}),
                                 source=cache)
        self._views[key] = view
        while len(self._views) > self.view_limit:
            self._views.popitem(last=False)
        return view

    def _cache(self, request_id: str) -> _RequestCache:
        cache = self._requests.get(request_id)
        if cache is None:
            raise NotFound(f"no request {request_id!r}")
        return cache

    def _ledger(self, cache: _RequestCache) -> RequestLedger:
        """The request's ledger over the current network (loaded on first use)."""
        assert self._network is not None
        if cache.scope is None or cache.scope.network is not self._network:
            cache.scope = request_scope(self._network, cache.request)
        if cache.ledger is None and cache.source is not None:  # a view: the request's events
            cache.ledger = self._ledger(cache.source).rebased(cache.scope)
        elif cache.ledger is None:
            events = self.store.request_events(cache.request.id)
            cache.ledger = RequestLedger.of(cache.scope, events.cascades,
                                            events.acknowledgements)
        elif cache.ledger.scope is not cache.scope:
            cache.ledger = cache.ledger.rebased(cache.scope)
        return cache.ledger

    def _analysis_now(self, cache: _RequestCache) -> ArrayAnalysis:
        """The request's analysis now (call with the lock held, after `refresh`)."""
        ledger = self._ledger(cache)
        now = utc_now()
        held = cache.now
        if held is not None and held.ledger is ledger and to_epoch_us(now) < held.recheck_at:
            return held
        cache.now = analyse(ledger, now, previous=held)
        cache.gaps = None
        self.analyses += 1
        return cache.now
