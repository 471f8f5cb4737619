"""Reference root-to-leaf paths on networkx: exact counts and paginated listing (oracle).

Not what runs: `graph_models.engine.paths` is checked against this.

Paths live on the DAG of strongly connected components of the request subgraph: a cycle
(A supplies B and B supplies A) is one group, entered and left once. A path runs from the
issuer's group to a *leaf group* (one with no applicable supplier link leaving it; for a
single company that is a company with no applicable supplier), or, when a `target` is
given, to the target's group. A path is **covered** when every company in every group on
it, the issuer aside, is covered and every step between consecutive groups has at least
one cascaded link. On an acyclic graph this is exactly "every link cascaded and every
company after the issuer acknowledged".

Counts are Python integers computed by dynamic programming in reverse topological order,
so they are exact however many paths there are. The k-th uncovered path is located
directly from those counts (no enumeration of the k before it), so a cursor is just k.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import networkx as nx

from graph_models.engine.paths import UncoveredPath
from graph_models.models import NodeState
from graph_models.reference.analysis import CoverageAnalysis

__all__ = ["PathCounts", "PathIndex", "UncoveredPath", "path_counts", "uncovered_paths"]


@dataclass(frozen=True)
class PathCounts:
    total: int
    covered: int

    @property
    def uncovered(self) -> int:
        return self.total - self.covered


class PathIndex:
    """Component DAG of a request with per-group path counts toward one kind of end."""

    def __init__(self, analysis: CoverageAnalysis, target: str | None = None) -> None:
        self.analysis = analysis
        self.dag = nx.condensation(analysis.subgraph)
        self.group_of: dict[str, int] = self.dag.graph["mapping"]
        self.root = self.group_of[analysis.root]
        self.target = target
        self.end = None if target is None else self.group_of[target]
        self.order = list(reversed(list(nx.topological_sort(self.dag))))
        self.total, self.good = self._count()

    def members(self, group: int) -> set[str]:
        return set(self.dag.nodes[group]["members"])

    @cached_property
    def group_ok(self) -> dict[int, bool]:
        covered, root = self.analysis.covered, self.analysis.root
        return {
            g: all(v in covered or v == root for v in self.members(g)) for g in self.dag
        }

    @cached_property
    def step_links(self) -> dict[tuple[int, int], list[tuple[str, str]]]:
        """The links behind each edge of the component DAG, cascaded ones first."""
        links: dict[tuple[int, int], list[tuple[str, str]]] = {}
        for u, v in self.analysis.subgraph.edges:
            gu, gv = self.group_of[u], self.group_of[v]
            if gu != gv:
                links.setdefault((gu, gv), []).append((u, v))
        cascaded = self.analysis.cascaded
        for pairs in links.values():
            pairs.sort(key=lambda p: (p not in cascaded, p))
        return links

    def step_ok(self, g: int, h: int) -> bool:
        return self.step_links[(g, h)][0] in self.analysis.cascaded

    def successors(self, g: int) -> list[int]:
        """Next groups toward an end, in a stable order (by smallest member id)."""
        nxt = [h for h in self.dag.successors(g) if self.total[h] > 0]
        return sorted(nxt, key=lambda h: min(self.members(h)))

    def _is_end(self, g: int) -> bool:
        return g == self.end if self.end is not None else bool(self.dag.out_degree(g) == 0)

    def _count(self) -> tuple[dict[int, int], dict[int, int]]:
        """total[g]: paths from g to an end; good[g]: those covered, given g is entered
        by a covered prefix."""
        total: dict[int, int] = {}
        good: dict[int, int] = {}
        for g in self.order:
            if self._is_end(g):
                total[g], good[g] = 1, int(self.group_ok[g])
                continue
            succ = list(self.dag.successors(g))
            total[g] = sum(total[h] for h in succ)
            ok = self.group_ok[g]
            good[g] = sum(good[h] for h in succ if self.step_ok(g, h)) if ok else 0
        return total, good

    def counts(self) -> PathCounts:
        return PathCounts(self.total[self.root], self.good[self.root])

    def kth_uncovered_groups(self, k: int) -> list[int]:
        """The k-th uncovered path (0-based) as a list of groups."""
        g, prefix_ok, groups = self.root, self.group_ok[self.root], [self.root]
        while not self._is_end(g):
            for h in self.successors(g):
                through_ok = prefix_ok and self.step_ok(g, h)
                n = self.total[h] - (self.good[h] if through_ok else 0)
                if k < n:
                    g, prefix_ok = h, through_ok and self.group_ok[h]
                    groups.append(h)
                    break
                k -= n
            else:  # pragma: no cover - counts guarantee a branch
                raise IndexError(k)
        return groups

    def companies_along(self, groups: list[int]) -> list[str]:
        """A real chain of links through the groups, preferring cascaded links. Inside a
        cycle group the walk passes its nearest uncovered company when that keeps the
        chain simple, so the break shows on it; the last group is walked to the target."""
        chain = [self.analysis.root]
        for g, h in zip(groups, groups[1:], strict=False):
            u, v = self._pick_link(chain[-1], g, h)
            chain.extend(self._walk_inside(g, chain[-1], u)[1:])
            chain.append(v)
        chain.extend(self._walk_inside(groups[-1], chain[-1], self.target)[1:])
        return chain

    def _walk_inside(self, group: int, start: str, stop: str | None) -> list[str]:
        """start -> (nearest uncovered member, if any) -> stop, within one group."""
        members = self.members(group)
        if len(members) == 1:
            return [start]
        # Built in id order so shortest-path ties break the same way in every process.
        inside = nx.DiGraph()
        inside.add_nodes_from(sorted(members))
        inside.add_edges_from(sorted(self.analysis.subgraph.subgraph(members).edges))
        distance = nx.single_source_shortest_path_length(inside, start)
        uncovered = [m for m in members if m not in self.analysis.covered]
        via = min(uncovered, key=lambda m: (distance[m], m)) if uncovered else start
        stop = stop if stop in members else via
        walk: list[str] = (nx.shortest_path(inside, start, via)
                           + nx.shortest_path(inside, via, stop)[1:])
        if len(set(walk)) < len(walk):  # the detour would repeat a company: go straight
            return list(nx.shortest_path(inside, start, stop))
        return walk

    def break_point(self, chain: list[str]) -> tuple[int, str]:
        """First missing cascade or first company not acknowledged along `chain`; else
        the first company whose cycle group holds an uncovered company off the chain."""
        analysis = self.analysis
        for i in range(1, len(chain)):
            if (chain[i - 1], chain[i]) not in analysis.cascaded:
                return i, "not_cascaded"
            state = analysis.states[chain[i]]
            if state != NodeState.acknowledged:
                return i, state.value
        for i, v in enumerate(chain):
            off_chain = sorted(self.members(self.group_of[v]) - analysis.covered)
            if off_chain:
                state = analysis.states[off_chain[0]]
                return i, "not_cascaded" if state == NodeState.acknowledged else state.value
        raise ValueError(f"chain {chain} has no break: it is covered")

    def _pick_link(self, entry: str, g: int, h: int) -> tuple[str, str]:
        cascaded = self.analysis.cascaded
        links = self.step_links[(g, h)]
        return min(links, key=lambda p: (p not in cascaded, p[0] != entry, p))


def path_counts(analysis: CoverageAnalysis, target: str | None = None) -> PathCounts:
    """Exact numbers of root-to-leaf (or root-to-`target`) paths, all and covered.

    Examples
    --------
    >>> from datetime import datetime, UTC
    >>> from graph_models.reference.analysis import analyse_coverage, supply_graph
    >>> from graph_models.models import PolicyRequest, SupplyLink
    >>> t = datetime(2026, 1, 1, tzinfo=UTC)
    >>> diamond = [("f", "a"), ("f", "b"), ("a", "c"), ("b", "c")]
    >>> g = supply_graph({n: "manufacturer" for n in "fabc"},
    ...     [SupplyLink(buyer_id=u, supplier_id=v) for u, v in diamond])
    >>> r = PolicyRequest(id="r", topic="bcp", title="BCP", issuer_id="f", issued_at=t)
    >>> path_counts(analyse_coverage(g, r, [], [], as_of=t))
    PathCounts(total=2, covered=0)
    """
    if target is not None and target not in analysis.subgraph:
        return PathCounts(0, 0)
    return PathIndex(analysis, target).counts()


def uncovered_paths(
    analysis: CoverageAnalysis, *, start: int = 0, limit: int = 50, target: str | None = None
) -> tuple[list[UncoveredPath], int | None]:
    """Uncovered paths number `start` .. `start + limit - 1` and the next start (or None)."""
    if target is not None and target not in analysis.subgraph:
        return [], None
    index = PathIndex(analysis, target)
    available = index.counts().uncovered
    page = []
    for k in range(start, min(start + limit, available)):
        chain = index.companies_along(index.kth_uncovered_groups(k))
        at, reason = index.break_point(chain)
        page.append(UncoveredPath(chain, at, reason))
    following = start + limit
    return page, (following if following < available else None)
