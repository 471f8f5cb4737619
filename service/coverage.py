"""Coverage reads: the per-process graph snapshot and the questions asked of it.

The supplier graph is loaded once per store revision and shared by every request; the
events of one request are read per question. The engine itself is pure
(`graph_models.coverage`); this module only feeds it and shapes its answers.
"""

from __future__ import annotations

import threading
from datetime import datetime

import networkx as nx

from graph_models.coverage import (
    CoverageAnalysis,
    analyse_coverage,
    gap_edges,
    state_counts,
    supply_graph,
    tier_table,
)
from graph_models.models import NodeState, utc_now
from graph_models.paths import path_counts, uncovered_paths
from service.cursors import decode_offset, encode_cursor
from service.errors import NotFound
from service.issuing import get_request
from service.schemas import (
    CompanyStanding,
    CoverageRead,
    GapCountsRead,
    GapPage,
    GapRead,
    PathTotals,
    RequestGapCounts,
    UncoveredPathPage,
    UncoveredPathRead,
    UpstreamCompany,
)
from service.store.port import CascadeStore

__all__ = ["CoverageService"]


class CoverageService:
    """Answers coverage questions from a graph snapshot keyed by store revision."""

    def __init__(self, store: CascadeStore) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._graph: nx.DiGraph = nx.DiGraph()
        self._revision = -1

    def snapshot(self) -> tuple[int, nx.DiGraph]:
        """The supplier graph at the current revision, reloaded only after writes."""
        revision = self.store.revision()
        with self._lock:
            if revision != self._revision:
                network = self.store.load_network()
                self._graph = supply_graph(network.kinds, network.links)
                self._revision = network.revision
            return self._revision, self._graph

    def analyse(self, request_id: str, as_of: datetime | None) -> tuple[int, CoverageAnalysis]:
        request = get_request(store=self.store, request_id=request_id)
        revision, graph = self.snapshot()
        events = self.store.request_events(request_id)
        analysis = analyse_coverage(
            graph, request, events.cascades, events.acknowledgements, as_of or utc_now()
        )
        return revision, analysis

    def coverage(self, *, request_id: str, as_of: datetime | None) -> CoverageRead:
        revision, analysis = self.analyse(request_id, as_of)
        paths = path_counts(analysis)
        return CoverageRead(
            request_id=request_id,
            root_id=analysis.root,
            revision=revision,
            as_of=analysis.as_of,
            counts=state_counts(analysis),
            gaps=len(gap_edges(analysis)),
            paths=PathTotals(total=paths.total, covered=paths.covered, uncovered=paths.uncovered),
            coverage_ratio=analysis.coverage_ratio,
            tiers=tier_table(analysis),
        )

    def gaps(
        self, *, request_id: str, as_of: datetime | None, limit: int, cursor: str | None
    ) -> GapPage:
        start = decode_offset(cursor)
        _, analysis = self.analyse(request_id, as_of)
        gaps = gap_edges(analysis)
        page = [GapRead(**vars(g)) for g in gaps[start : start + limit]]
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
        if target is not None and self.store.get_company(target) is None:
            raise NotFound(f"no company {target!r}")
        page, following = uncovered_paths(analysis, start=start, limit=limit, target=target)
        return UncoveredPathPage(
            items=[UncoveredPathRead(**vars(p)) for p in page],
            next_cursor=encode_cursor(following) if following is not None else None,
        )

    def standing(
        self, *, request_id: str, company_id: str, as_of: datetime | None
    ) -> CompanyStanding:
        _, analysis = self.analyse(request_id, as_of)
        if company_id not in analysis.states:
            if self.store.get_company(company_id) is None:
                raise NotFound(f"no company {company_id!r}")
            raise NotFound(f"company {company_id!r} is outside request {request_id!r}")
        return CompanyStanding(
            request_id=request_id,
            company_id=company_id,
            state=analysis.states[company_id].value,
            tier=analysis.tiers[company_id],
            covered=company_id in analysis.covered,
            path=self._chain_to(analysis, company_id),
            first_reached_at=analysis.first_reached.get(company_id),
        )

    def _chain_to(self, analysis: CoverageAnalysis, company_id: str) -> list[str]:
        """A covered chain when there is one, else the shortest (broken) one."""
        if company_id in analysis.covered:
            covered_links = [
                (u, v) for u, v in analysis.cascaded
                if u in analysis.covered and v in analysis.covered
            ]
            chain_graph = nx.DiGraph(covered_links)
            chain_graph.add_node(analysis.root)
            return list(nx.shortest_path(chain_graph, analysis.root, company_id))
        graph = analysis.subgraph if company_id in analysis.subgraph else self.snapshot()[1]
        return list(nx.shortest_path(graph, analysis.root, company_id))

    def gap_counts(self) -> GapCountsRead:
        revision, _ = self.snapshot()
        now = utc_now()
        rows = [self._counts_row(request.id, now) for request in self.store.list_requests()]
        return GapCountsRead(revision=revision, requests=rows)

    def _counts_row(self, request_id: str, as_of: datetime) -> RequestGapCounts:
        _, analysis = self.analyse(request_id, as_of)
        counts = state_counts(analysis)
        wanted = (NodeState.unreached, NodeState.pending, NodeState.overdue,
                  NodeState.declined, NodeState.expired)
        return RequestGapCounts(
            request_id=request_id,
            topic=analysis.request.topic,
            version=analysis.request.version,
            **{state.value: counts[state.value] for state in wanted},
            gaps=len(gap_edges(analysis)),
            uncovered_paths=path_counts(analysis).uncovered,
            coverage_ratio=analysis.coverage_ratio,
        )

    def upstream(self, *, company_id: str, depth: int) -> list[UpstreamCompany]:
        """Suppliers of a company up to `depth` links away, nearest first."""
        _, graph = self.snapshot()
        if company_id not in graph:
            if self.store.get_company(company_id) is None:
                raise NotFound(f"no company {company_id!r}")
            return []
        tiers = nx.single_source_shortest_path_length(graph, company_id, cutoff=depth)
        ordered = sorted((t, c) for c, t in tiers.items() if c != company_id)
        return [UpstreamCompany(id=c, tier=t) for t, c in ordered]
