"""One request over one network: tiers, the request subgraph, its component DAG.

A `RequestScope` is whatever of a request does not depend on its events: it changes only
with the network, so the service keeps one per request and network revision. The request
subgraph holds the links the request applies to among the companies the issuer reaches
over them; tiers are link distances from the issuer over all links, so a company keeps
the tier the supply network gives it whichever request is asked about.
"""

from __future__ import annotations

import math
from collections import deque
from functools import cached_property

import numpy as np

from graph_models.engine.components import ComponentDag
from graph_models.engine.network import KINDS, CompactNetwork, grouped, starts
from graph_models.engine.search import distances_from, reachable
from graph_models.models import PolicyRequest

__all__ = ["RequestScope", "is_request_subgraph"]

INT64_SAFE = 2.0**62  # path counts above this switch to exact Python integers


class RequestScope:
    """One request over one network: tiers, request subgraph and its component DAG.

    Attributes
    ----------
    root : int
        The issuer's index.
    tier : array of int32
        Link distance from the issuer over all links, -1 where it does not reach.
    inside : array of bool
        Companies the issuer reaches over links the request applies to (itself included).
    link : array of int
        Network positions of the request subgraph's links; `src` and `dst` are theirs.

    Examples
    --------
    f buys components from a, a has construction work done by b, and f by c: a
    construction-safety request travels only f -> c.

    >>> from datetime import UTC, datetime
    >>> from graph_models.models import Applicability
    >>> net = CompactNetwork.build(dict.fromkeys("fabc", "contractor"),
    ...     [("f", "a", "components"), ("a", "b", "construction"), ("f", "c", "construction")])
    >>> safety = PolicyRequest(id="hs", topic="construction_safety", title="H&S",
    ...     issuer_id="f", issued_at=datetime(2026, 1, 1, tzinfo=UTC),
    ...     applies_to=Applicability(categories=["construction"]))
    >>> scope = RequestScope(net, safety)
    >>> scope.tier.tolist(), scope.inside.tolist()
    ([0, 1, 2, 1], [True, False, False, True])
    >>> [(net.ids[u], net.ids[v]) for u, v in zip(scope.src.tolist(), scope.dst.tolist())]
    [('f', 'c')]
    >>> is_request_subgraph(scope)
    True
    """

    def __init__(self, network: CompactNetwork, request: PolicyRequest) -> None:
        if request.issuer_id not in network.index:  # an issuer without links answers too
            network = network.with_changes({request.issuer_id: "other"}, {})
        self.network, self.request = network, request
        self.root = network.index[request.issuer_id]
        n = network.size
        self.tier = distances_from(network.graph, self.root)
        rule = request.applies_to
        table = np.array([[rule.applies(c, k) for k in KINDS] for c in network.categories],
                         dtype=bool).reshape(len(network.categories), len(KINDS))
        applicable = table[network.category, network.kind[network.dst]]
        self.inside = reachable(n, network.src[applicable], network.dst[applicable], self.root)
        self.link = np.flatnonzero(applicable & self.inside[network.src])
        self.src, self.dst = network.src[self.link], network.dst[self.link]
        self._totals: dict[int | None, np.ndarray] = {}

    def prepared(self) -> RequestScope:
        """This scope with what every analysis needs built now (the component DAG, path
        totals, link lookups, and the group links into and out of each group that an
        update after one answer walks), e.g. while the request's events are still being
        read, so the first answer after a load costs what later ones do."""
        self.totals()
        _ = (self.sub_of_link, self.links_from, self.links_into, self.dag.links_into,
             self.dag.out_start, self.leaf_groups)
        return self

    @cached_property
    def sub_of_link(self) -> np.ndarray:
        """Network link position -> position in the request subgraph (-1 outside)."""
        sub = np.full(self.network.link_count, -1, dtype=np.int64)
        sub[self.link] = np.arange(self.link.size)
        return sub

    def subgraph_links(self, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
        """Subgraph position of each link src -> dst, -1 where it is not in the subgraph."""
        pos = self.network.link_positions(src, dst)
        return np.where(pos >= 0, self.sub_of_link[np.maximum(pos, 0)], -1)

    @cached_property
    def links_from(self) -> np.ndarray:
        """CSR row pointers of the subgraph links (they are sorted by buyer)."""
        return starts(self.src, self.network.size)

    @cached_property
    def links_into(self) -> tuple[np.ndarray, np.ndarray]:
        """(subgraph links ordered by supplier, start of each supplier's links)."""
        return grouped(self.dst, self.network.size)

    @cached_property
    def dag(self) -> ComponentDag:
        """The component DAG of the request subgraph."""
        return ComponentDag.of(self.network.size, self.src, self.dst)

    def end_groups(self, target: int | None) -> np.ndarray:
        """Groups where a path ends: leaf groups, or the target's group."""
        if target is None:
            return self.leaf_groups
        ends: np.ndarray = np.arange(self.dag.size) == self.dag.comp[target]
        return ends

    @cached_property
    def leaf_groups(self) -> np.ndarray:
        """Groups with no supplier group: where a root-to-leaf path ends."""
        leaves: np.ndarray = self.dag.out_degree == 0
        return leaves

    def totals(self, target: int | None = None) -> np.ndarray:
        """Number of paths from each group to an end (exact; Python ints when huge).

        Examples
        --------
        >>> from datetime import UTC, datetime
        >>> diamond = [("f", "a", "components"), ("f", "b", "components"),
        ...            ("a", "c", "components"), ("b", "c", "components")]
        >>> net = CompactNetwork.build(dict.fromkeys("fabc", "manufacturer"), diamond)
        >>> scope = RequestScope(net, PolicyRequest(id="bcp", topic="business_continuity",
        ...     title="BCP", issuer_id="f", issued_at=datetime(2026, 1, 1, tzinfo=UTC)))
        >>> int(scope.totals()[scope.dag.comp[scope.root]])  # f-a-c and f-b-c
        2
        >>> int(scope.totals(net.index["a"])[scope.dag.comp[scope.root]])
        1
        """
        if target not in self._totals:
            is_end = self.end_groups(target)
            ones = np.ones(self.dag.size, dtype=np.int64)
            dtype: type | np.dtype = np.int64
            # A group has at most (largest out-degree) ** (its height) paths; above 2^62
            # a float pass tells whether the counts really are that large.
            widest, top = int(self.dag.out_degree.max(initial=1)), int(self.dag.height.max())
            if widest > 1 and top * math.log2(widest) >= math.log2(INT64_SAFE):
                with np.errstate(over="ignore"):  # past 1.8e308 it is inf: huge all the same
                    rough = self.dag.path_sums(is_end, ones, dtype=np.float64)
                dtype = object if rough.max(initial=0) >= INT64_SAFE else np.int64
            self._totals[target] = self.dag.path_sums(is_end, ones.astype(dtype), dtype=dtype)
        return self._totals[target]

    @cached_property
    def group_min_rank(self) -> np.ndarray:
        """Smallest member id (as a rank) per group: the stable order of successors."""
        rank = np.full(self.dag.size, np.iinfo(np.int64).max)
        np.minimum.at(rank, self.dag.comp, self.network.id_rank)
        return rank


def is_request_subgraph(scope: RequestScope) -> bool:
    """Checker: `scope.link` and `scope.inside` are the request subgraph's.

    Recomputed link by link in Python: the links the request applies to (by category and
    supplier kind), a breadth-first search from the issuer over them, and every applicable
    link whose buyer that search reaches.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> net = CompactNetwork.build({"f": "manufacturer", "a": "smelter"},
    ...                            [("f", "a", "raw_materials")])
    >>> scope = RequestScope(net, PolicyRequest(id="cm", topic="conflict_minerals",
    ...     title="3TG", issuer_id="f", issued_at=datetime(2026, 1, 1, tzinfo=UTC)))
    >>> is_request_subgraph(scope)
    True
    >>> scope.inside = np.array([True, False])
    >>> is_request_subgraph(scope)
    False
    """
    network, rule = scope.network, scope.request.applies_to
    applicable: dict[int, list[tuple[int, int]]] = {}
    for i, (u, v, c) in enumerate(zip(network.src.tolist(), network.dst.tolist(),
                                      network.category.tolist(), strict=True)):
        if rule.applies(network.categories[c], KINDS[network.kind[v]]):
            applicable.setdefault(u, []).append((i, v))
    inside, queue = {scope.root}, deque([scope.root])
    while queue:
        for _, v in applicable.get(queue.popleft(), []):
            if v not in inside:
                inside.add(v)
                queue.append(v)
    links = sorted(i for u in inside for i, _ in applicable.get(u, []))
    return (set(np.flatnonzero(scope.inside).tolist()) == inside
            and scope.link.tolist() == links)
