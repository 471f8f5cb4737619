"""The supplier graph as integer arrays, so coverage runs at a million links.

`graph_models.coverage` and `graph_models.paths` (networkx) stay the model and the
reference the tests check against; this module holds the same graph as numpy arrays so
the hot loops run in `scipy.sparse.csgraph` and numpy instead of Python.

Companies get an index when first seen and keep it: a deleted company leaves a dead
slot and a re-created one gets a new index. Arrays keyed by company index (event logs,
answers) therefore stay valid while the network changes under them. Links are kept
sorted by (buyer index, supplier index), which gives the CSR layout and a binary-search
lookup of a link for free.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from operator import itemgetter

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import breadth_first_order, connected_components

from graph_models.models import CompanyKind

__all__ = [
    "KINDS",
    "ComponentDag",
    "CompactNetwork",
    "distances_from",
    "ranges",
    "reachable",
    "stable_order",
    "starts",
]

KINDS: tuple[str, ...] = tuple(kind.value for kind in CompanyKind)
_KIND_CODE = {kind: code for code, kind in enumerate(KINDS)}
DEAD = -1  # kind code of a deleted company's slot


def lookup(table: Mapping[str, int], keys: list[str]) -> list[int]:
    """table[k] for every key, looped in C (itemgetter) rather than in Python."""
    if not keys:
        return []
    found = itemgetter(*keys)(table)
    return list(found) if len(keys) > 1 else [found]


def _codes(table: Mapping[str, int], keys: list[str]) -> np.ndarray:
    return np.array(lookup(table, keys), dtype=np.int32).reshape(-1)


def _edge_keys(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    return (src.astype(np.int64) << 32) | dst.astype(np.int64)


def starts(values: np.ndarray, n: int) -> np.ndarray:
    """Where each of 0..n begins among `values` (integers in [-1, n)) once sorted: what
    `np.searchsorted(sorted values, np.arange(n + 1))` gives, by counting, not searching."""
    return np.cumsum(np.bincount(values + 1, minlength=n + 1))


def stable_order(values: np.ndarray) -> np.ndarray:
    """`np.argsort(values, kind="stable")` for fewer than 2^32 integers within ±2^31:
    each (value, position) packed in one int64 key, all distinct, which numpy's default
    sort (SIMD) orders 3x faster than its stable sort does the values."""
    return np.argsort((values.astype(np.int64) << 32) | np.arange(values.size, dtype=np.int64))


@dataclass(frozen=True, eq=False)
class CompactNetwork:
    """Companies and links as arrays; link `i` is `src[i] -> dst[i]` (buyer -> supplier)."""

    ids: list[str]  # index -> company id (dead slots keep their old id)
    index: dict[str, int]  # live company id -> index
    kind: np.ndarray  # int8 code into KINDS, DEAD for a deleted company
    src: np.ndarray  # int32 buyer index, sorted with dst
    dst: np.ndarray  # int32 supplier index
    category: np.ndarray  # int32 code into `categories`
    categories: tuple[str, ...]

    @classmethod
    def build(
        cls, kinds: Mapping[str, str], links: Sequence[tuple[str, str, str]]
    ) -> CompactNetwork:
        """From `{company id: kind}` and `(buyer, supplier, category)` rows."""
        ids = list(kinds)
        index = {cid: i for i, cid in enumerate(ids)}
        other = _KIND_CODE["other"]
        kind = np.array([_KIND_CODE.get(k, other) for k in kinds.values()], dtype=np.int8)
        buyers, suppliers, names = (list(column) for column in zip(*links, strict=True)) \
            if links else ([], [], [])
        categories = {c: code for code, c in enumerate(dict.fromkeys(names))}
        return cls._sorted(ids, index, kind, _codes(index, buyers), _codes(index, suppliers),
                           _codes(categories, names), tuple(categories))

    @classmethod
    def from_columns(
        cls, ids: Sequence[str], kinds: Sequence[str], src: np.ndarray, dst: np.ndarray,
        category: np.ndarray, categories: Sequence[str],
    ) -> CompactNetwork:
        """From columns: company i is `ids[i]` of kind `kinds[i]`; link j runs from
        company `src[j]` to company `dst[j]` with category `categories[category[j]]`,
        links in any order (ids distinct, links distinct)."""
        ids = list(ids)
        index = dict(zip(ids, range(len(ids)), strict=True))
        other = _KIND_CODE["other"]
        kind = np.array([_KIND_CODE.get(k, other) for k in kinds], dtype=np.int8)
        return cls._sorted(ids, index, kind, np.asarray(src), np.asarray(dst),
                           np.asarray(category), tuple(categories))

    @classmethod
    def _sorted(cls, ids: list[str], index: dict[str, int], kind: np.ndarray,
                src: np.ndarray, dst: np.ndarray, category: np.ndarray,
                categories: tuple[str, ...]) -> CompactNetwork:
        # Distinct keys (one link per buyer and supplier): any sort gives this order.
        order = np.argsort(_edge_keys(src, dst))
        return cls(ids, index, kind, np.ascontiguousarray(src[order], dtype=np.int32),
                   np.ascontiguousarray(dst[order], dtype=np.int32),
                   np.ascontiguousarray(category[order], dtype=np.int32), categories)

    @property
    def size(self) -> int:
        """Number of index slots (live and dead companies)."""
        return len(self.ids)

    @property
    def link_count(self) -> int:
        return int(self.src.size)

    def kind_of(self, company_id: str) -> str | None:
        i = self.index.get(company_id)
        return None if i is None else KINDS[self.kind[i]]

    def with_changes(
        self,
        companies: Mapping[str, str | None],
        links: Mapping[tuple[str, str], str | None],
    ) -> CompactNetwork:
        """A new network with companies set to a kind or deleted (None), and links set to
        a category or deleted (None). Existing companies keep their index."""
        ids, index, kind = list(self.ids), dict(self.index), self.kind.copy()
        added_kinds = []
        for cid, new_kind in companies.items():
            slot = index.get(cid)
            if new_kind is None:
                if slot is not None:
                    kind[slot] = DEAD
                    del index[cid]
            elif slot is None:
                index[cid] = len(ids)
                ids.append(cid)
                added_kinds.append(_KIND_CODE.get(new_kind, _KIND_CODE["other"]))
            else:
                kind[slot] = _KIND_CODE.get(new_kind, _KIND_CODE["other"])
        kind = np.concatenate([kind, np.array(added_kinds, dtype=np.int8)])
        categories = dict(zip(self.categories, range(len(self.categories)), strict=True))
        changed = {(index[b], index[s]): c for (b, s), c in links.items()
                   if b in index and s in index}
        keep = (kind[self.src] != DEAD) & (kind[self.dst] != DEAD)
        if changed:
            pairs = np.array(list(changed), dtype=np.int64).reshape(-1, 2)
            keep &= ~np.isin(_edge_keys(self.src, self.dst), _edge_keys(pairs[:, 0], pairs[:, 1]))
        fresh = [(b, s, categories.setdefault(c, len(categories)))
                 for (b, s), c in changed.items() if c is not None]
        table = np.array(fresh, dtype=np.int32).reshape(-1, 3)
        return self._sorted(
            ids, index, kind,
            np.concatenate([self.src[keep], table[:, 0]]),
            np.concatenate([self.dst[keep], table[:, 1]]),
            np.concatenate([self.category[keep], table[:, 2]]),
            tuple(categories),
        )

    def indexes(self, company_ids: Iterable[str]) -> np.ndarray:
        """Index of each id, -1 for an unknown or deleted company."""
        ids = list(company_ids)
        if self.index.keys() >= set(ids):  # the usual case: one C-level lookup
            return _codes(self.index, ids)
        get = self.index.get
        return np.fromiter((get(cid, -1) for cid in ids), dtype=np.int32, count=len(ids))

    @cached_property
    def edge_keys(self) -> np.ndarray:
        return _edge_keys(self.src, self.dst)

    def link_positions(self, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
        """Position of each link src -> dst in the link arrays, -1 where there is none."""
        if self.link_count == 0 or src.size == 0:
            return np.full(src.size, -1, dtype=np.int64)
        keys = _edge_keys(src, dst)
        pos = np.minimum(np.searchsorted(self.edge_keys, keys), self.link_count - 1)
        found = (self.edge_keys[pos] == keys) & (src >= 0) & (dst >= 0)
        return np.where(found, pos, -1)

    @cached_property
    def id_rank(self) -> np.ndarray:
        """Rank of each company id in sorted order: orders listings by id without
        comparing strings in the hot loops."""
        order = sorted(range(self.size), key=self.ids.__getitem__)
        rank = np.empty(self.size, dtype=np.int64)
        rank[order] = np.arange(self.size)
        return rank

    @cached_property
    def graph(self) -> csr_matrix:
        return csr_graph(self.size, self.src, self.dst)


def csr_graph(n: int, src: np.ndarray, dst: np.ndarray) -> csr_matrix:
    """A sparse adjacency matrix of links sorted by source (built without re-sorting)."""
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=indptr[1:])
    data = np.ones(src.size, dtype=np.int8)
    return csr_matrix((data, dst.astype(np.int32), indptr), shape=(n, n))


def reachable(n: int, src: np.ndarray, dst: np.ndarray, root: int) -> np.ndarray:
    """Boolean mask of companies reachable from `root` over links sorted by source."""
    seen = np.zeros(n, dtype=bool)
    seen[breadth_first_order(csr_graph(n, src, dst), root, return_predecessors=False)] = True
    return seen


def distances_from(graph: csr_matrix, root: int, limit: float = np.inf) -> np.ndarray:
    """Link distance from `root` to every company (-1 = not reachable within `limit`):
    breadth first, a level at a time (5x faster than scipy's unweighted dijkstra)."""
    n = graph.shape[0]
    dist = np.full(n, -1, dtype=np.int32)
    dist[root] = 0
    frontier, level = np.array([root]), 0
    while frontier.size and level < limit:
        level += 1
        reached = graph.indices[ranges(graph.indptr, frontier)]
        reached = reached[dist[reached] < 0]
        dist[reached] = level
        # the next level without repeats: by a scan when it is large, else by a sort
        frontier = np.flatnonzero(dist == level) if reached.size > n // 64 else \
            np.unique(reached)
    return dist


@dataclass(frozen=True, eq=False)
class ComponentDag:
    """The DAG of strongly connected components of a graph (a cycle is one group).

    `comp[v]` is v's group; `edge_src/edge_dst` are the distinct links between groups,
    sorted; `link_edge[i]` is the group link that link `i` belongs to (-1 inside a group);
    `height[g]` is the longest number of group links from g to a sink, which orders a
    dynamic programme so every successor is final before its predecessors.
    """

    comp: np.ndarray
    size: int
    edge_src: np.ndarray
    edge_dst: np.ndarray
    link_edge: np.ndarray
    height: np.ndarray

    @classmethod
    def of(cls, n: int, src: np.ndarray, dst: np.ndarray) -> ComponentDag:
        count, comp = connected_components(csr_graph(n, src, dst), directed=True,
                                           connection="strong")
        cs, cd = comp[src].astype(np.int64), comp[dst].astype(np.int64)
        between = cs != cd
        keys, inverse = np.unique(cs[between] * count + cd[between], return_inverse=True)
        link_edge = np.full(src.size, -1, dtype=np.int64)
        link_edge[between] = inverse
        edge_src, edge_dst = keys // count, keys % count
        return cls(comp.astype(np.int64), int(count), edge_src, edge_dst, link_edge,
                   _heights(int(count), edge_src, edge_dst))

    @cached_property
    def levels(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per height 1, 2, ...: (groups at that height, group links leaving them, sorted
        by source group)."""
        top = int(self.height.max(initial=0))
        # Heights are small: as int16, numpy's stable sort is a radix sort (5x faster).
        height = self.height.astype(np.int16) if top < 2**15 else self.height
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
    def out_degree(self) -> np.ndarray:
        return np.bincount(self.edge_src, minlength=self.size)

    @cached_property
    def edge_keys(self) -> np.ndarray:
        return self.edge_src * self.size + self.edge_dst

    def edge_between(self, g: int, h: int) -> int:
        return int(np.searchsorted(self.edge_keys, g * self.size + h))

    @cached_property
    def members(self) -> tuple[np.ndarray, np.ndarray]:
        """(companies ordered by group, start of each group in that order)."""
        order = stable_order(self.comp)
        return order, starts(self.comp, self.size)

    @cached_property
    def links_of_edge(self) -> tuple[np.ndarray, np.ndarray]:
        """(links ordered by the group link they belong to, start of each group link)."""
        order = stable_order(self.link_edge)
        return order, starts(self.link_edge, self.edge_src.size)

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
        every successor final before its predecessors; each level is one reduceat."""
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
        of a million), a height at a time."""
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
        order = stable_order(self.edge_dst)
        return order, starts(self.edge_dst, self.size)

    def upstream(self, groups: np.ndarray) -> np.ndarray:
        """`groups` and every group with a path to one of them, ascending."""
        seen = np.zeros(self.size, dtype=bool)
        order, start = self.links_into
        frontier = np.unique(groups)
        while frontier.size:
            seen[frontier] = True
            buyers = self.edge_src[order[ranges(start, frontier)]]
            frontier = np.unique(buyers[~seen[buyers]])
        return np.flatnonzero(seen)


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


def ranges(indptr: np.ndarray, nodes: np.ndarray) -> np.ndarray:
    """Concatenated positions indptr[v] .. indptr[v + 1] - 1 of each node v.

    >>> ranges(np.array([0, 2, 2, 5]), np.array([2, 0])).tolist()
    [2, 3, 4, 0, 1]
    """
    lo, hi = indptr[nodes], indptr[nodes + 1]
    sizes = hi - lo
    return np.repeat(lo - np.cumsum(sizes) + sizes, sizes) + np.arange(sizes.sum())
