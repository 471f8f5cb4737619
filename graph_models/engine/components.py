"""The DAG of strongly connected components, and dynamic programmes over it.

Path counts live on this DAG: a cycle (A supplies B and B supplies A) is one group,
entered and left once. `ComponentDag.path_sums` sums a value from the ends of paths back
to every group, one height at a time; `are_path_sums` is its checker.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from graph_models.engine.network import grouped, starts
from graph_models.engine.search import csr_graph, ranges

__all__ = ["ComponentDag", "are_path_sums", "is_height_labelling"]


@dataclass(frozen=True, eq=False)
class ComponentDag:
    """The DAG of strongly connected components of a graph (a cycle is one group).

    `comp[v]` is v's group (groups numbered in the order of their first member);
    `edge_src/edge_dst` are the distinct links between groups, sorted; `link_edge[i]` is
    the group link that link `i` belongs to (-1 inside a group); `height[g]` is the
    longest number of group links from g to a sink, which orders a dynamic programme so
    every successor is final before its predecessors.

    Examples
    --------
    f=0 buys from a=1 and b=2, both buy from c=3; c and d=4 supply each other (a cycle).

    >>> dag = ComponentDag.of(5, np.array([0, 0, 1, 2, 3, 4]), np.array([1, 2, 3, 3, 4, 3]))
    >>> dag.size, dag.comp.tolist(), dag.height.tolist()
    (4, [0, 1, 2, 3, 3], [2, 1, 1, 0])
    >>> list(zip(dag.edge_src.tolist(), dag.edge_dst.tolist()))
    [(0, 1), (0, 2), (1, 3), (2, 3)]
    >>> dag.link_edge.tolist()  # c -> d and d -> c stay inside their group
    [0, 1, 2, 3, -1, -1]
    >>> is_height_labelling(dag)
    True
    """

    comp: np.ndarray
    size: int
    edge_src: np.ndarray
    edge_dst: np.ndarray
    link_edge: np.ndarray
    height: np.ndarray

    @classmethod
    def of(cls, n: int, src: np.ndarray, dst: np.ndarray) -> ComponentDag:
        """The component DAG of `n` companies and links ``src[i] -> dst[i]`` (sorted)."""
        count, found = connected_components(csr_graph(n, src, dst), directed=True,
                                            connection="strong")
        comp = _in_member_order(found, int(count))
        cs, cd = comp[src], comp[dst]
        between = cs != cd
        keys = cs[between] * count + cd[between]
        # Groups numbered in member order keep the links' order for nearly every link: a
        # stable sort (timsort, which merges runs) is then ten times a quicksort's speed.
        order = np.argsort(keys, kind="stable")
        ordered = keys[order]
        first = np.ones(keys.size, dtype=bool)
        np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
        inverse = np.empty(keys.size, dtype=np.int64)
        inverse[order] = np.cumsum(first) - 1
        link_edge = np.full(src.size, -1, dtype=np.int64)
        link_edge[between] = inverse
        distinct = ordered[first]
        edge_src, edge_dst = distinct // count, distinct % count
        return cls(comp, int(count), edge_src, edge_dst, link_edge,
                   _heights(int(count), edge_src, edge_dst))

    @cached_property
    def levels(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per height 1, 2, ...: (groups at that height, group links leaving them, sorted
        by source group)."""
        top = int(self.height.max(initial=0))
        height = _radix_ready(self.height)
        by_edge = np.argsort(height[self.edge_src], kind="stable")
        edge_height = self.height[self.edge_src][by_edge]
        by_group = np.argsort(height, kind="stable")
        group_height = self.height[by_group]
        out = []
        for h in range(1, top + 1):
            lo, hi = np.searchsorted(edge_height, [h, h + 1])
            glo, ghi = np.searchsorted(group_height, [h, h + 1])
            out.append((by_group[glo:ghi], by_edge[lo:hi]))
        return out

    @cached_property
    def levels_into(self) -> list[np.ndarray]:
        """Per height from the top down: the group links into the groups at that height,
        ordered by target group (a group's buyers all stand higher than it)."""
        into = self.links_into[0]
        height = self.height[self.edge_dst[into]]
        order = np.argsort(-_radix_ready(height), kind="stable")
        into, height = into[order], height[order]
        return np.split(into, np.flatnonzero(height[1:] != height[:-1]) + 1)

    @cached_property
    def out_degree(self) -> np.ndarray:
        """Group links leaving each group (0 at a leaf group)."""
        return np.bincount(self.edge_src, minlength=self.size)

    @cached_property
    def edge_keys(self) -> np.ndarray:
        """One sorted key per group link."""
        keys: np.ndarray = self.edge_src * self.size + self.edge_dst
        return keys

    def edge_between(self, g: int, h: int) -> int:
        """Position of the group link g -> h (which must exist)."""
        return int(np.searchsorted(self.edge_keys, g * self.size + h))

    @cached_property
    def members(self) -> tuple[np.ndarray, np.ndarray]:
        """(companies ordered by group, start of each group in that order)."""
        return grouped(self.comp, self.size)

    @cached_property
    def links_of_edge(self) -> tuple[np.ndarray, np.ndarray]:
        """(links ordered by the group link they belong to, start of each group link)."""
        return grouped(self.link_edge, self.edge_src.size)

    def path_sums(
        self,
        is_end: np.ndarray,
        end_value: np.ndarray,
        group_ok: np.ndarray | None = None,
        edge_ok: np.ndarray | None = None,
        dtype: type | np.dtype = np.int64,
    ) -> np.ndarray:
        """value[g] = end_value[g] at an end, else (group_ok[g]) * sum of value[h] over
        group links g -> h (with edge_ok): counts of paths from g to an end. Heights make
        every successor final before its predecessors; each level is one reduceat.

        Parameters
        ----------
        is_end : array of bool
            Per group: a path ends there.
        end_value : array
            Per group: the value of a path ending there.
        group_ok : array of bool, optional
            Per group: paths through it count (else its value is 0).
        edge_ok : array of bool, optional
            Per group link: paths over it count.
        dtype : numpy dtype
            Of the sums (``object`` for exact Python integers).

        See Also
        --------
        are_path_sums

        Examples
        --------
        Paths from each group to a leaf group on the diamond over a cycle: two from f,
        none of them through b if b is not ok.

        >>> dag = ComponentDag.of(5, np.array([0, 0, 1, 2, 3, 4]),
        ...                       np.array([1, 2, 3, 3, 4, 3]))
        >>> leaf = dag.out_degree == 0
        >>> dag.path_sums(leaf, np.ones(4, dtype=np.int64)).tolist()
        [2, 1, 1, 1]
        >>> ok = np.array([True, True, False, True])
        >>> sums = dag.path_sums(leaf, ok.astype(np.int64), ok)
        >>> sums.tolist(), are_path_sums(dag, sums, leaf, ok.astype(np.int64), ok)
        ([1, 1, 0, 1], True)
        """
        value = np.where(is_end & (self.height == 0), end_value, 0).astype(dtype)
        for groups, edges in self.levels:
            self._sum_level(value, groups, edges, is_end, end_value, group_ok, edge_ok)
        return value

    def path_sums_again(
        self,
        previous: np.ndarray,
        changed: np.ndarray,
        is_end: np.ndarray,
        end_value: np.ndarray,
        group_ok: np.ndarray | None = None,
        edge_ok: np.ndarray | None = None,
    ) -> np.ndarray:
        """`path_sums` given its `previous` result for the same arguments except
        `end_value` and `group_ok` at the groups `changed`: only those groups and the
        groups upstream of them are summed again (after one answer, a few hundred groups
        of a million), a height at a time.

        Examples
        --------
        >>> dag = ComponentDag.of(5, np.array([0, 0, 1, 2, 3, 4]),
        ...                       np.array([1, 2, 3, 3, 4, 3]))
        >>> leaf, ones = dag.out_degree == 0, np.ones(4, dtype=np.int64)
        >>> before = dag.path_sums(leaf, ones)
        >>> ok = np.array([True, True, False, True])  # b (group 2) turned bad
        >>> dag.path_sums_again(before, np.array([2]), leaf, ones, ok).tolist()
        [1, 1, 0, 1]
        """
        value = previous.copy()
        stale = self.upstream(changed)
        stale = stale[np.argsort(self.height[stale], kind="stable")]  # ascending per height
        for groups in np.split(stale, np.flatnonzero(np.diff(self.height[stale])) + 1):
            edges = ranges(self.out_start, groups)
            self._sum_level(value, groups, edges, is_end, end_value, group_ok, edge_ok)
        return value

    def _sum_level(self, value: np.ndarray, groups: np.ndarray, edges: np.ndarray,
                   is_end: np.ndarray, end_value: np.ndarray, group_ok: np.ndarray | None,
                   edge_ok: np.ndarray | None) -> None:
        """Set `value` of `groups` (one height) from their group links `edges` (ordered
        by source group) to the final values below them."""
        value[groups] = 0
        if edge_ok is not None:
            edges = edges[edge_ok[edges]]
        if edges.size:
            heads = self.edge_src[edges]
            starts = np.flatnonzero(np.r_[True, heads[1:] != heads[:-1]])
            value[heads[starts]] = np.add.reduceat(value[self.edge_dst[edges]], starts)
        if group_ok is not None:
            value[groups[~group_ok[groups]]] = 0
        ends = groups[is_end[groups]]
        value[ends] = end_value[ends]

    @cached_property
    def out_start(self) -> np.ndarray:
        """Start of each group's links among the group links (ordered by source group)."""
        return starts(self.edge_src, self.size)

    @cached_property
    def links_into(self) -> tuple[np.ndarray, np.ndarray]:
        """(group links ordered by target group, start of each group's)."""
        return grouped(self.edge_dst, self.size)

    def upstream(self, groups: np.ndarray) -> np.ndarray:
        """`groups` and every group with a path to one of them, ascending.

        Examples
        --------
        >>> dag = ComponentDag.of(5, np.array([0, 0, 1, 2, 3, 4]),
        ...                       np.array([1, 2, 3, 3, 4, 3]))
        >>> dag.upstream(np.array([1])).tolist()  # a's group and f's
        [0, 1]
        """
        seen = np.zeros(self.size, dtype=bool)
        order, start = self.links_into
        frontier = np.unique(groups)
        while frontier.size:
            seen[frontier] = True
            buyers = self.edge_src[order[ranges(start, frontier)]]
            frontier = np.unique(buyers[~seen[buyers]])
        return np.flatnonzero(seen)


def _radix_ready(heights: np.ndarray) -> np.ndarray:
    """Heights are small: as int16, numpy's stable sort is a radix sort (5x faster)."""
    return heights.astype(np.int16) if heights.max(initial=0) < 2**15 else heights


def _in_member_order(comp: np.ndarray, count: int) -> np.ndarray:
    """`comp` renumbered so that groups are in the order of their first member.

    >>> _in_member_order(np.array([2, 0, 2, 1]), 3).tolist()
    [0, 1, 0, 2]
    """
    first = np.full(count, comp.size, dtype=np.int64)
    np.minimum.at(first, comp, np.arange(comp.size))
    slot = np.zeros(comp.size, dtype=bool)
    slot[first] = True  # the members that come first in their group, in member order
    number = np.empty(count, dtype=np.int64)
    number[comp[slot]] = np.arange(count)
    renumbered: np.ndarray = number[comp]
    return renumbered


def _heights(count: int, edge_src: np.ndarray, edge_dst: np.ndarray) -> np.ndarray:
    """Longest distance to a sink, peeling sinks level by level (Kahn's algorithm)."""
    height = np.zeros(count, dtype=np.int64)
    remaining = np.bincount(edge_src, minlength=count)
    # Each group's predecessors: the transposed adjacency, which scipy builds by a
    # counting sort (5x faster than sorting the group links by target).
    into = csr_matrix((np.ones(edge_src.size, dtype=np.int8), (edge_dst, edge_src)),
                      shape=(count, count))
    frontier = np.flatnonzero(remaining == 0)
    level = 0
    while frontier.size:
        height[frontier] = level
        preds = into.indices[ranges(into.indptr, frontier)]
        remaining -= np.bincount(preds, minlength=count)
        peeled = np.zeros(count, dtype=bool)  # a mask, not a sort, to drop repeats
        peeled[preds] = True
        frontier = np.flatnonzero(peeled & (remaining == 0))
        level += 1
    return height


def is_height_labelling(dag: ComponentDag) -> bool:
    """Checker: every group's height is 0 at a sink, else 1 + its highest successor's.

    Examples
    --------
    >>> dag = ComponentDag.of(3, np.array([0, 1]), np.array([1, 2]))
    >>> is_height_labelling(dag)
    True
    >>> is_height_labelling(ComponentDag(dag.comp, dag.size, dag.edge_src, dag.edge_dst,
    ...                                  dag.link_edge, np.zeros(3, dtype=np.int64)))
    False
    """
    highest = [-1] * dag.size
    for g, h in zip(dag.edge_src.tolist(), dag.edge_dst.tolist(), strict=True):
        highest[g] = max(highest[g], int(dag.height[h]))
    return bool(dag.height.tolist() == [top + 1 for top in highest])


def are_path_sums(
    dag: ComponentDag,
    value: np.ndarray,
    is_end: np.ndarray,
    end_value: np.ndarray,
    group_ok: np.ndarray | None = None,
    edge_ok: np.ndarray | None = None,
) -> bool:
    """Checker: `value` satisfies the recurrence `ComponentDag.path_sums` solves.

    At an end ``value[g] == end_value[g]``; elsewhere it is 0 for a group that is not
    ok, else the sum of ``value[h]`` over the (ok) group links g -> h. Each group is
    checked on its own in Python integers, so no overflow or order can hide an error.

    Examples
    --------
    >>> dag = ComponentDag.of(3, np.array([0, 0, 1]), np.array([1, 2, 2]))
    >>> leaf, ones = dag.out_degree == 0, np.ones(3, dtype=np.int64)
    >>> are_path_sums(dag, dag.path_sums(leaf, ones), leaf, ones)
    True
    >>> are_path_sums(dag, np.array([1, 1, 1]), leaf, ones)  # f has two paths, not one
    False
    """
    below = [0] * dag.size
    for e, (g, h) in enumerate(zip(dag.edge_src.tolist(), dag.edge_dst.tolist(), strict=True)):
        if edge_ok is None or edge_ok[e]:
            below[g] += int(value[h])
    for g in range(dag.size):
        if is_end[g]:
            expected = int(end_value[g])
        else:
            expected = below[g] if group_ok is None or group_ok[g] else 0
        if int(value[g]) != expected:
            return False
    return True
