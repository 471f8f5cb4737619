"""The per-worker cache of where companies are and of what each root reaches.

Locations follow the store like the coverage snapshot does: keyed by revision, refreshed
from the change log (only the companies written since are read again), reloaded when the
log cannot answer. Exposure bases (what a root reaches, its component DAG and path totals)
are kept per root and categories for the coverage snapshot's current network, so a warm
exposure costs only the passes over the incident's own affected set.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np

from graph_models.areas import Area, Locations
from graph_models.engine import CompactNetwork, RequestScope
from graph_models.exposure import Exposure, ExposureBase, exposure_of
from graph_models.incidents import Incident
from graph_models.models import Applicability, Site
from service.coverage.snapshot import CoverageSnapshot
from service.store.port import CascadeStore
from service.store.ports import IncidentStore

__all__ = ["IncidentAtlas"]

BASES_KEPT = 16  # roots (with category filters) whose exposure base is kept
EXPOSURES_KEPT = 64  # (root, incident area) exposures kept
BCP_ROOTS_PREPARED = 4  # roots whose reach bits a start builds with no incident open
BCP_TOPIC = "business_continuity"


class IncidentAtlas:
    """Locations and exposure bases, from the store and the coverage snapshot."""

    def __init__(self, store: CascadeStore, coverage: CoverageSnapshot) -> None:
        self.store = store
        self.coverage = coverage
        self._lock = threading.RLock()
        self._revision = -1
        self._countries: dict[str, str | None] = {}  # every company's own country
        self._sites: dict[str, list[Site]] = {}  # the sites of those that have any
        self._locations: Locations | None = None
        self._network: CompactNetwork | None = None
        # the network slot of each company of the locations (a lookup kept per pair)
        self._slots: tuple[Locations, CompactNetwork, np.ndarray] | None = None
        self._exposures: OrderedDict[tuple[ExposureBase, Locations, Area], Exposure] = \
            OrderedDict()
        self._bases: OrderedDict[tuple[str, tuple[str, ...] | None], ExposureBase] = \
            OrderedDict()

    @property
    def incidents(self) -> IncidentStore:
        return self.store  # `CascadeStore` includes the incident port

    def locations(self) -> Locations:
        """Where every company is, at the store's current revision."""
        revision = self.store.revision()
        with self._lock:
            if revision != self._revision or self._locations is None:
                self._follow(revision)
            assert self._locations is not None
            return self._locations

    def _follow(self, revision: int) -> None:
        changes = self.store.changes_since(self._revision) if self._revision >= 0 else None
        if changes is None:
            found = self.incidents.company_locations()
            self._countries, self._sites = found.countries, found.sites
            self._revision, self._locations = revision, None
        else:
            if changes.companies:
                moved = list(changes.companies)
                for cid in moved:
                    self._countries.pop(cid, None)
                    self._sites.pop(cid, None)
                found = self.incidents.company_locations(moved)
                self._countries.update(found.countries)
                self._sites.update(found.sites)
                self._locations = None
            self._revision = max(revision, changes.revision)
        if self._locations is None:
            self._locations = Locations.build(self._countries, self._sites)

    def base(self, root_id: str, categories: list[str] | None) -> ExposureBase:
        """What `root_id` reaches over the followed links, on the current network."""
        network = self.coverage.network()
        key = (root_id, None if categories is None else tuple(sorted(set(categories))))
        with self._lock:
            if network is not self._network:
                self._network, self._bases = network, OrderedDict()
            base = self._bases.get(key)
            if base is None:
                scope = self._coverage_scope(network, root_id) if categories is None else None
                base = self._bases[key] = ExposureBase(network, root_id, categories, scope)
                while len(self._bases) > BASES_KEPT:
                    self._bases.popitem(last=False)
            self._bases.move_to_end(key)
            return base

    def _coverage_scope(self, network: CompactNetwork, root_id: str) -> RequestScope | None:
        """The scope of a request of the root over every link, if the coverage snapshot
        holds one on this network: the same subgraph, DAG and totals, already built."""
        for request in self.store.list_requests():
            if request.issuer_id == root_id and request.applies_to == Applicability():
                scope = self.coverage.ledger(request.id)[2].scope
                return scope if scope.network is network else None
        return None

    def warm(self) -> int:
        """Compute every open incident's exposure for every root that issued a request
        (what the incident page and the webhook ask first), so a worker that starts the
        morning after an earthquake answers them from memory; returns how many. With none
        open, read where companies are and build the reach bits of the roots that issued
        a business-continuity request (the part of an exposure that does not depend on
        the incident), so the first incident costs only its own passes."""
        areas = [incident.area.pure() for incident in self._open_incidents()]
        requests = self.store.list_requests()
        issuers = {r.issuer_id for r in requests if areas or r.topic == BCP_TOPIC}
        kept = BASES_KEPT if areas else BCP_ROOTS_PREPARED
        roots = sorted(self.store.existing_company_ids(issuers))[:kept]
        if roots:
            self.locations()
        warmed = 0
        for root in roots:
            base = self.base(root, None)
            if base.keeps_reach_bits:  # else counted per exposure, in bounded chunks
                base.reach_bits  # noqa: B018 -- computed and kept
            for area in areas[: EXPOSURES_KEPT // len(roots)]:
                self.exposure(base, area).tier1()
                warmed += 1
        return warmed

    def _open_incidents(self) -> list[Incident]:
        found, after = [], None
        while page := self.incidents.list_incidents(limit=500, after=after):
            found += [incident for incident in page if incident.closed_at is None]
            after = page[-1].id
        return found

    def exposure(self, base: ExposureBase, area: Area) -> Exposure:
        """The exposure of `area` for the root of `base`, kept while neither the network
        nor any company's location changes (a dashboard re-reading it costs nothing)."""
        base.build_reach_bits_meanwhile()  # on the other core while locations are read
        locations = self.locations()
        key = (base, locations, area)
        with self._lock:
            found = self._exposures.get(key)
        if found is None:
            found = exposure_of(base, self.affected_mask(base.network, area))
            with self._lock:
                self._exposures[key] = found
                while len(self._exposures) > EXPOSURES_KEPT:
                    self._exposures.popitem(last=False)
        return found

    def affected_mask(self, network: CompactNetwork, area: Area) -> np.ndarray:
        """The companies `area` affects as a mask over the network's company slots."""
        locations = self.locations()
        with self._lock:
            held = self._slots
            if held is None or held[0] is not locations or held[1] is not network:
                held = (locations, network, network.sorted_indexes(locations.ids))
                self._slots = held
        found = held[2][locations.affected_positions(area)]
        mask = np.zeros(network.size, dtype=bool)
        mask[found[found >= 0]] = True
        return mask
