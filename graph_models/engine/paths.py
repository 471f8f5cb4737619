"""Uncovered paths and chains on the array engine, one page at a time.

The rules are those of `graph_models.reference.paths`: paths run on the component
DAG from the issuer's group to a leaf group (or the target's group); the k-th uncovered
path is found from the exact counts, never by enumerating the ones before it; a path is
turned into companies by preferring cascaded links and, inside a cycle group, passing
its nearest uncovered company when that keeps the chain simple. Only the handful of groups
on the page's paths are touched in Python. `is_uncovered_path` and `is_chain_to` check a
listed path or chain against the definitions.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import networkx as nx
import numpy as np

from graph_models.engine.analysis import ArrayAnalysis
from graph_models.engine.search import csr_graph, distances_from, ranges
from graph_models.models import NodeState

__all__ = [
    "ArrayPathIndex",
    "UncoveredPath",
    "chain_to",
    "is_chain_to",
    "is_uncovered_path",
    "uncovered_page",
]


@dataclass(frozen=True)
class UncoveredPath:
    """A root-to-leaf (or root-to-target) path that is not covered end to end.

    Examples
    --------
    >>> UncoveredPath(["f", "a", "b"], 2, "pending").companies[2]
    'b'
    """

    companies: list[str]  # issuer first
    break_index: int  # position in `companies` where the chain breaks
    reason: str  # not_cascaded | pending | overdue | declined | expired | unreached


class ArrayPathIndex:
    """Path counts of one analysis toward one kind of end, with the k-th path walk.

    Groups are those of the request's component DAG; the k-th uncovered path is found
    from the exact counts below each group, never by enumerating the ones before it.
    """

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
        """Uncovered paths from the issuer to an end."""
        return int(self.total[self.root]) - int(self.good[self.root])

    def members(self, group: int) -> list[int]:
        """Companies of a group."""
        order, starts = self.dag.members
        members: list[int] = order[starts[group] : starts[group + 1]].tolist()
        return members

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
        """The k-th uncovered path (0-based) as a list of groups."""
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
        """A real chain of links through the groups, preferring cascaded links."""
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
        """(position, reason) where `chain` stops being covered."""
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
    """Uncovered paths number `start` .. `start + limit - 1` and the next start (or None).

    Examples
    --------
    f forwarded to a and b; a accepted, b did not answer; neither forwarded to c.

    >>> from datetime import UTC, datetime
    >>> from graph_models.engine import CompactNetwork, RequestLedger, RequestScope, analyse
    >>> from graph_models.models import PolicyRequest, to_epoch_us
    >>> t = datetime(2026, 1, 1, tzinfo=UTC)
    >>> us = to_epoch_us(t)
    >>> diamond = [("f", "a", "components"), ("f", "b", "components"),
    ...            ("a", "c", "components"), ("b", "c", "components")]
    >>> net = CompactNetwork.build(dict.fromkeys("fabc", "manufacturer"), diamond)
    >>> scope = RequestScope(net, PolicyRequest(id="bcp", topic="business_continuity",
    ...     title="BCP", issuer_id="f", issued_at=t))
    >>> ledger = RequestLedger.of(scope, [("f", "a", us), ("f", "b", us)],
    ...                           [("a", "accepted", us, 1)])
    >>> a = analyse(ledger, t)
    >>> page, following = uncovered_page(a, limit=1)
    >>> page, following
    ([UncoveredPath(companies=['f', 'a', 'c'], break_index=2, reason='not_cascaded')], 1)
    >>> uncovered_page(a, start=following)[0][0].reason
    'pending'
    >>> is_uncovered_path(a, page[0])
    True
    """
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
    shortest chains, the one with the smallest ids at each step, so every process agrees.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> from graph_models.engine import CompactNetwork, RequestLedger, RequestScope, analyse
    >>> from graph_models.models import PolicyRequest, to_epoch_us
    >>> t = datetime(2026, 1, 1, tzinfo=UTC)
    >>> us = to_epoch_us(t)
    >>> net = CompactNetwork.build(dict.fromkeys("fabc", "manufacturer"),
    ...     [("f", "a", "components"), ("f", "b", "components"), ("a", "c", "components"),
    ...      ("b", "c", "components")])
    >>> scope = RequestScope(net, PolicyRequest(id="bcp", topic="business_continuity",
    ...     title="BCP", issuer_id="f", issued_at=t))
    >>> a = analyse(RequestLedger.of(scope, [("f", "b", us)], [("b", "accepted", us, 1)]), t)
    >>> chain_to(a, net.index["c"]), chain_to(a, net.index["b"])
    (['f', 'a', 'c'], ['f', 'b'])
    >>> is_chain_to(a, net.index["c"], ["f", "a", "c"])
    True
    """
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


def is_uncovered_path(
    analysis: ArrayAnalysis, path: UncoveredPath, target: int | None = None
) -> bool:
    """Checker: `path` runs issuer -> ... -> a leaf group (or `target`), over request
    subgraph links, and breaks where it says.

    The break is the first missing cascade or first company not acknowledged along the
    chain, else (a cycle passed by) the first company whose group holds an uncovered
    company; `reason` names the state of that company, or ``not_cascaded``.

    Examples
    --------
    See `uncovered_page`.
    """
    scope, index = analysis.scope, analysis.scope.network.index
    if any(cid not in index for cid in path.companies):
        return False
    chain = [index[cid] for cid in path.companies]
    links = set(zip(scope.src.tolist(), scope.dst.tolist(), strict=True))
    if not chain or chain[0] != scope.root or any(
            step not in links for step in zip(chain, chain[1:], strict=False)):
        return False
    last = int(scope.dag.comp[chain[-1]])
    ends = chain[-1] == target if target is not None else scope.dag.out_degree[last] == 0
    return bool(ends) and (path.break_index, path.reason) == _first_break(analysis, chain)


def _first_break(analysis: ArrayAnalysis, chain: list[int]) -> tuple[int, str] | None:
    scope, ids = analysis.scope, analysis.scope.network.ids
    sent = {(int(u), int(v)) for u, v, done in zip(scope.src, scope.dst, analysis.cascaded,
                                                    strict=True) if done}
    for i in range(1, len(chain)):
        state = analysis.state_of(chain[i])
        if (chain[i - 1], chain[i]) not in sent:
            return i, "not_cascaded"
        if state != NodeState.acknowledged:
            return i, str(state)
    comp = scope.dag.comp
    for i, v in enumerate(chain):
        off = sorted((ids[m], m) for m in range(comp.size) if comp[m] == comp[v]
                     and scope.inside[m] and not analysis.covered[m])
        if off:
            state = analysis.state_of(off[0][1])
            return i, "not_cascaded" if state == NodeState.acknowledged else str(state)
    return None


def is_chain_to(analysis: ArrayAnalysis, company: int, chain: list[str]) -> bool:
    """Checker: `chain` is a shortest chain from the issuer to `company` over the links
    `chain_to` promises: cascaded links between covered companies when `company` is
    covered, else request-subgraph links, else any link.

    Examples
    --------
    See `chain_to`.
    """
    scope, ids = analysis.scope, analysis.scope.network.ids
    if analysis.covered[company]:
        mask = analysis.cascaded & analysis.covered[scope.src] & analysis.covered[scope.dst]
        pairs = zip(scope.src[mask].tolist(), scope.dst[mask].tolist(), strict=True)
    elif scope.inside[company]:
        pairs = zip(scope.src.tolist(), scope.dst.tolist(), strict=True)
    else:
        pairs = zip(scope.network.src.tolist(), scope.network.dst.tolist(), strict=True)
    links = {(ids[u], ids[v]) for u, v in pairs}
    onward: dict[str, list[str]] = {}
    for u, v in links:
        onward.setdefault(u, []).append(v)
    distance, queue = {ids[scope.root]: 0}, deque([ids[scope.root]])
    while queue:
        u = queue.popleft()
        for v in onward.get(u, []):
            if v not in distance:
                distance[v] = distance[u] + 1
                queue.append(v)
    return (chain[:1] == [ids[scope.root]] and chain[-1] == ids[company]
            and all(step in links for step in zip(chain, chain[1:], strict=False))
            and len(chain) - 1 == distance.get(ids[company]))
