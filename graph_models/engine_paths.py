"""Uncovered paths and chains on the array engine, one page at a time.

The rules are those of `graph_models.paths` (the reference): paths run on the component
DAG from the issuer's group to a leaf group (or the target's group); the k-th uncovered
path is found from the exact counts, never by enumerating the ones before it; a path is
turned into companies by preferring cascaded links and, inside a cycle group, passing
its nearest uncovered company when that keeps the chain simple. Only the handful of groups
on the page's paths are touched in Python.
"""

from __future__ import annotations

import networkx as nx
import numpy as np

from graph_models.analysis import ArrayAnalysis
from graph_models.compact import csr_graph, distances_from, ranges
from graph_models.models import NodeState
from graph_models.paths import UncoveredPath

__all__ = ["ArrayPathIndex", "chain_to", "uncovered_page"]


class ArrayPathIndex:
    """Path counts of one analysis toward one kind of end, with the k-th path walk."""

    def __init__(self, analysis: ArrayAnalysis, target: int | None = None) -> None:
        self.analysis, self.scope, self.target = analysis, analysis.scope, target
        self.dag = self.scope.dag
        self.ids = self.scope.network.ids
        self.total = self.scope.totals(target)
        self.good = analysis.good(target)
        self.is_end = self.scope.end_groups(target)
        self.root = int(self.dag.comp[self.scope.root])
        self._successors: dict[int, list[int]] = {}

    def uncovered_count(self) -> int:
        return int(self.total[self.root]) - int(self.good[self.root])

    def members(self, group: int) -> list[int]:
        order, starts = self.dag.members
        return order[starts[group] : starts[group + 1]].tolist()

    def _step(self, g: int, h: int) -> int:
        return self.dag.edge_between(g, h)

    def successors(self, g: int) -> list[int]:
        """Next groups toward an end, ordered by their smallest member id."""
        if g not in self._successors:
            lo, hi = np.searchsorted(self.dag.edge_src, [g, g + 1])
            nxt = self.dag.edge_dst[lo:hi]
            nxt = nxt[self.total[nxt] > 0]
            order = np.argsort(self.scope.group_min_rank[nxt], kind="stable")
            self._successors[g] = nxt[order].tolist()
        return self._successors[g]

    def kth_uncovered_groups(self, k: int) -> list[int]:
        ok = self.analysis.group_ok
        g, prefix_ok, groups = self.root, bool(ok[self.root]), [self.root]
        while not self.is_end[g]:
            for h in self.successors(g):
                through_ok = prefix_ok and bool(self.analysis.forwards.step_ok[self._step(g, h)])
                n = int(self.total[h]) - (int(self.good[h]) if through_ok else 0)
                if k < n:
                    g, prefix_ok = h, through_ok and bool(ok[h])
                    groups.append(h)
                    break
                k -= n
            else:  # pragma: no cover - counts guarantee a branch
                raise IndexError(k)
        return groups

    def companies_along(self, groups: list[int]) -> list[int]:
        chain = [self.scope.root]
        for g, h in zip(groups, groups[1:], strict=False):
            u, v = self._pick_link(chain[-1], g, h)
            chain.extend(self._walk_inside(g, chain[-1], u)[1:])
            chain.append(v)
        chain.extend(self._walk_inside(groups[-1], chain[-1], self.target)[1:])
        return chain

    def _pick_link(self, entry: int, g: int, h: int) -> tuple[int, int]:
        order, starts = self.dag.links_of_edge
        e = self._step(g, h)
        links = order[starts[e] : starts[e + 1]]
        ids, scope, cascaded = self.ids, self.scope, self.analysis.cascaded
        best = min(links.tolist(), key=lambda i: (
            not cascaded[i], int(scope.src[i]) != entry, ids[scope.src[i]], ids[scope.dst[i]]))
        return int(scope.src[best]), int(scope.dst[best])

    def _walk_inside(self, group: int, start: int, stop: int | None) -> list[int]:
        members = self.members(group)
        if len(members) == 1:
            return [start]
        inside = self._group_graph(members)
        distance = nx.single_source_shortest_path_length(inside, self.ids[start])
        covered = self.analysis.covered
        uncovered = [self.ids[m] for m in members if not covered[m]]
        begin = self.ids[start]
        via = min(uncovered, key=lambda m: (distance[m], m)) if uncovered else begin
        end = self.ids[stop] if stop in members else via
        walk = nx.shortest_path(inside, begin, via) + nx.shortest_path(inside, via, end)[1:]
        if len(set(walk)) < len(walk):
            walk = list(nx.shortest_path(inside, begin, end))
        index = self.scope.network.index
        return [index[cid] for cid in walk]

    def _group_graph(self, members: list[int]) -> nx.DiGraph:
        """The group's own links, built in id order so shortest-path ties break the same
        way in every process."""
        scope, ids = self.scope, self.ids
        links = ranges(scope.links_from, np.array(members))
        links = links[np.isin(scope.dst[links], members)]
        graph = nx.DiGraph()
        graph.add_nodes_from(sorted(ids[m] for m in members))
        graph.add_edges_from(sorted((ids[u], ids[v]) for u, v in
                                    zip(scope.src[links].tolist(), scope.dst[links].tolist(),
                                        strict=True)))
        return graph

    def break_point(self, chain: list[int]) -> tuple[int, str]:
        analysis, scope = self.analysis, self.scope
        steps = scope.subgraph_links(np.array(chain[:-1]), np.array(chain[1:]))
        for i in range(1, len(chain)):
            if steps[i - 1] < 0 or not analysis.cascaded[steps[i - 1]]:
                return i, "not_cascaded"
            state = analysis.state_of(chain[i])
            if state != NodeState.acknowledged:
                return i, str(state)
        for i, v in enumerate(chain):
            off = [m for m in self.members(int(self.dag.comp[v])) if not analysis.covered[m]]
            if off:
                first = min(off, key=self.ids.__getitem__)
                state = analysis.state_of(first)
                return i, "not_cascaded" if state == NodeState.acknowledged else str(state)
        raise ValueError(f"chain {chain} has no break: it is covered")


def uncovered_page(
    analysis: ArrayAnalysis, *, start: int = 0, limit: int = 50, target: int | None = None
) -> tuple[list[UncoveredPath], int | None]:
    """Uncovered paths number `start` .. `start + limit - 1` and the next start (or None)."""
    if target is not None and not analysis.scope.inside[target]:
        return [], None
    index = ArrayPathIndex(analysis, target)
    available = index.uncovered_count()
    ids = analysis.scope.network.ids
    page = []
    for k in range(start, min(start + limit, available)):
        chain = index.companies_along(index.kth_uncovered_groups(k))
        at, reason = index.break_point(chain)
        page.append(UncoveredPath([ids[c] for c in chain], at, reason))
    following = start + limit
    return page, (following if following < available else None)


def chain_to(analysis: ArrayAnalysis, company: int) -> list[str]:
    """A chain from the issuer to `company`: over covered links when it is covered, else a
    shortest one in the request subgraph (or in the whole network when outside it). Among
    shortest chains, the one with the smallest ids at each step, so every process agrees."""
    scope = analysis.scope
    if analysis.covered[company]:
        mask = (analysis.cascaded & analysis.covered[scope.src] & analysis.covered[scope.dst])
        src, dst = scope.src[mask], scope.dst[mask]
    elif scope.inside[company]:
        src, dst = scope.src, scope.dst
    else:
        src, dst = scope.network.src, scope.network.dst
    return _smallest_shortest_chain(analysis, src, dst, company)


def _smallest_shortest_chain(
    analysis: ArrayAnalysis, src: np.ndarray, dst: np.ndarray, company: int
) -> list[str]:
    network, root = analysis.scope.network, analysis.scope.root
    forward = distances_from(csr_graph(network.size, src, dst), root)
    order = np.argsort(dst, kind="stable")
    backward = distances_from(csr_graph(network.size, dst[order], src[order]), company)
    chain, ids, rank = [root], network.ids, network.id_rank
    on_shortest = (forward[src] >= 0) & (backward[dst] >= 0) & \
        (forward[src] + 1 + backward[dst] == forward[company])
    while chain[-1] != company:
        here = chain[-1]
        nxt = dst[(src == here) & on_shortest]
        chain.append(int(nxt[np.argmin(rank[nxt])]))
    return [ids[c] for c in chain]
