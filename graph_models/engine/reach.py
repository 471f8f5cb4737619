"""Exact distinct-reachability counts on a component DAG, with bitsets.

"How many marked companies does each of these companies reach?" has no additive
shortcut (two chains to one supplier count it once), so each source company gets a bit,
the bits flow along the DAG a level at a time, and the marked groups' bits are counted.
Gap impacts (uncovered companies upstream of each gap head) and an incident's tier-1
exposure (exposed companies behind each direct supplier) both ask it.

Layout: a word per row, a group per column (`words x groups`), so a level's gather and
OR run over one contiguous 1-D row; two threads take a row at a time (numpy releases the
GIL in 1-D gathers and reductions, not in 2-D fancy indexing), and sources go in chunks
so the bits never take more than `MEMORY_BYTES`.
"""

from __future__ import annotations

import mmap
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from graph_models.engine.components import ComponentDag
from graph_models.engine.search import ranges

__all__ = [
    "MEMORY_BYTES",
    "fill_leaves",
    "pull_bits",
    "push_bits",
    "reach_counts",
    "seed_bits",
    "weighted_bit_counts",
]

MEMORY_BYTES = 256 * 2**20  # the bits of one chunk of sources
_FLOW_THREADS = 2  # a word's row a task: numpy releases the GIL in 1-D gathers and ORs
_COLUMNS_PER_BLOCK = 2**16  # groups unpacked at once when counting: 4 MB of flags


def seed_bits(bits: np.ndarray, rows: np.ndarray, words: np.ndarray) -> None:
    """Set bit i % 64 of `bits[rows[i], words[i]]` for every i (`words` is i // 64).

    One bit position at a time: within one, no two i share a word, so a plain fancy
    `|=` is exact (`np.bitwise_or.at` on two index arrays is ~100x slower)."""
    slot = np.arange(rows.size)
    for b in range(min(64, rows.size)):
        pick = slot % 64 == b
        bits[rows[pick], words[pick]] |= np.uint64(1) << np.uint64(b)


def pull_bits(dag: ComponentDag, groups: np.ndarray) -> np.ndarray:
    """Words x groups: bit i of word i // 64 set on every group from which a chain of
    group links leads to `groups[i]` (itself included).

    >>> dag = ComponentDag.of(3, np.array([0, 1]), np.array([1, 2]))  # 0 -> 1 -> 2
    >>> pull_bits(dag, dag.comp[[2]])[0][dag.comp].tolist()  # all three reach 2
    [1, 1, 1]
    """
    # a level's successors are final before it is pulled
    steps = [_step(dag.edge_src[edges], dag.edge_dst[edges]) for _, edges in dag.levels]
    return _flow(dag.size, groups, steps)


def push_bits(dag: ComponentDag, groups: np.ndarray, *, leaves: bool = True) -> np.ndarray:
    """Words x groups: bit i of word i // 64 set on every group `groups[i]` reaches by a
    chain of group links (itself included).

    Heights from the top down: a group's buyers all stand higher, so they are final when
    it takes their bits (no reversed DAG to build and label). Without `leaves`, the
    groups at height 0 keep only their own bits until `fill_leaves` is asked for them:
    the links into them are a quarter of all at a million links, and an exposure reads
    few of them.

    >>> dag = ComponentDag.of(3, np.array([0, 1]), np.array([1, 2]))  # 0 -> 1 -> 2
    >>> push_bits(dag, dag.comp[[1]])[0][dag.comp].tolist()  # 1 reaches 1, 2
    [0, 1, 1]
    >>> bits = push_bits(dag, dag.comp[[0]], leaves=False)
    >>> bits[0][dag.comp].tolist()  # 2 is a leaf: not filled yet
    [1, 1, 0]
    >>> fill_leaves(dag, bits, dag.comp[[2]]); bits[0][dag.comp].tolist()
    [1, 1, 1]
    """
    levels = [edges for edges in dag.levels_into if edges.size]
    if not leaves and levels and dag.height[dag.edge_dst[levels[-1][0]]] == 0:
        levels = levels[:-1]  # the last level holds the links into the leaves
    steps = [_step(dag.edge_dst[edges], dag.edge_src[edges]) for edges in levels]
    return _flow(dag.size, groups, steps)


def fill_leaves(dag: ComponentDag, bits: np.ndarray, columns: np.ndarray) -> None:
    """Complete the leaf groups among `columns` of bits `push_bits` left without their
    leaves: each takes its buyers' (final) bits. Doing it twice, or two callers at once,
    changes nothing: every write is the same complete value."""
    leaves = np.unique(columns[dag.height[columns] == 0])
    order, start = dag.links_into
    leaves = leaves[start[leaves + 1] > start[leaves]]  # a leaf no link enters: done
    if not leaves.size:
        return
    step = _step(np.repeat(leaves, start[leaves + 1] - start[leaves]),
                 dag.edge_src[order[ranges(start, leaves)]])
    _flow_rows(bits, [step])


_Step = tuple[np.ndarray, np.ndarray, np.ndarray | None]


def _step(heads: np.ndarray, below: np.ndarray) -> _Step:
    """One level's links as (each head once, the groups it takes bits from, where each
    head's run starts; None when every head has one link)."""
    first = np.flatnonzero(np.r_[True, heads[1:] != heads[:-1]]) if heads.size else heads
    return heads[first], below, first if first.size < heads.size else None


def _flow(size: int, groups: np.ndarray, steps: list[_Step]) -> np.ndarray:
    """Seed bit i on `groups[i]`, then OR each step's `below` bits into its heads."""
    words = max(1, (groups.size + 63) // 64)
    bits = _zeroed(words, size)
    seed_bits(bits.T, groups, np.arange(groups.size) // 64)
    _flow_rows(bits, steps)
    return bits


def _flow_rows(bits: np.ndarray, steps: list[_Step]) -> None:
    """OR each step's `below` bits into its heads, in every row (a row per task)."""

    def flow(row: np.ndarray) -> None:
        for heads, below, first in steps:
            if heads.size:
                taken = row[below]
                if first is not None:
                    taken = np.bitwise_or.reduceat(taken, first)
                row[heads] |= taken

    with ThreadPoolExecutor(_FLOW_THREADS) as pool:
        list(pool.map(flow, bits))


def _zeroed(words: int, groups: int) -> np.ndarray:
    """Zeroed words x groups, as an anonymous mapping faulted in whole when it is made
    (`MAP_POPULATE`, Linux). Left to the flow, the two threads faulting pages in at once,
    or numpy's huge-page advice on a large array, cost the first build of a process 0.4
    to 0.6 s of kernel time (1M links, 2-core VM), against 0.1 s this way."""
    if not hasattr(mmap, "MAP_POPULATE") or not words * groups:
        return np.zeros((words, groups), dtype=np.uint64)
    mapped = mmap.mmap(-1, words * groups * 8,
                       flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | mmap.MAP_POPULATE)
    return np.frombuffer(mapped, dtype=np.uint64).reshape(words, groups)


def weighted_bit_counts(bits: np.ndarray, columns: np.ndarray,
                        weight: np.ndarray) -> np.ndarray:
    """sum over j of weight[j] * bit i of column `columns[j]` of `bits` (words x groups),
    for every bit i (word i // 64, bit i % 64).

    A word's row at a time (two threads): its columns are gathered and unpacked, a block
    at a time, into 0/1 flags (a bounded copy) and summed; columns of weight other than 1
    (a group of several marked companies: few) add the difference afterwards.

    >>> bits = np.array([[0b01, 0b11, 0b10]], dtype=np.uint64)
    >>> weighted_bit_counts(bits, np.array([0, 1]), np.array([5, 2]))[:3]
    array([7, 2, 0])
    """
    out = np.zeros((bits.shape[0], 64), dtype=np.int64)
    odd = np.flatnonzero(weight != 1)
    extra = weight[odd].astype(np.int64) - 1

    def count(word: int) -> None:
        row = bits[word]
        for lo in range(0, columns.size, _COLUMNS_PER_BLOCK):
            out[word] += _flags(row[columns[lo : lo + _COLUMNS_PER_BLOCK]]).sum(
                axis=0, dtype=np.int64)
        if odd.size:
            out[word] += extra @ _flags(row[columns[odd]])

    with ThreadPoolExecutor(_FLOW_THREADS) as pool:
        list(pool.map(count, range(bits.shape[0])))
    return out.reshape(-1)


def _flags(words: np.ndarray) -> np.ndarray:
    """Words (uint64, contiguous) as rows of 64 0/1 flags, bit 0 first."""
    return np.unpackbits(words.view(np.uint8).reshape(-1, 8), axis=1, bitorder="little")


def reach_counts(dag: ComponentDag, sources: np.ndarray, marked: np.ndarray) -> np.ndarray:
    """For each company in `sources`: how many companies of `marked` it reaches over the
    DAG's group links (itself included when marked); companies are rows of `dag.comp`.

    Whichever way costs fewer word operations gets the bits, in chunks of
    `MEMORY_BYTES`: the sources' bits flow down the DAG (`push_bits`) and each marked group's
    column is weighed bit by bit (few sources), or the marked companies' bits flow up and
    each source's column is popcounted (many of both).

    >>> dag = ComponentDag.of(4, np.array([0, 0, 1, 2]), np.array([1, 2, 3, 3]))
    >>> reach_counts(dag, np.array([0, 1, 3]), np.array([1, 2, 3])).tolist()  # bits up
    [3, 2, 1]
    >>> reach_counts(dag, np.array([0, 1, 2, 3]), np.array([3])).tolist()  # bits down
    [1, 1, 1, 1]
    """
    out = np.zeros(sources.size, dtype=np.int64)
    if not sources.size or not marked.size:
        return out
    weight = np.bincount(dag.comp[marked], minlength=dag.size)
    hit = np.flatnonzero(weight)
    if _cheaper_upwards(dag, sources.size, marked.size, hit.size):
        for lo, hi in _chunks(marked.size, dag.size):
            bits = pull_bits(dag, dag.comp[marked[lo:hi]])
            out += np.bitwise_count(bits[:, dag.comp[sources]]).sum(axis=0, dtype=np.int64)
        return out
    for lo, hi in _chunks(sources.size, dag.size):
        bits = push_bits(dag, dag.comp[sources[lo:hi]])
        out[lo:hi] = weighted_bit_counts(bits, hit, weight[hit])[: hi - lo]
    return out


def _cheaper_upwards(dag: ComponentDag, sources: int, marked: int, hit: int) -> bool:
    """Whether the marked companies' bits (pulled up, then a popcount per source word)
    cost less than the sources' (pulled down, then every source bit of every marked
    group weighed): word operations of each way."""
    links = dag.edge_src.size + dag.size
    down = -(-sources // 64) * links + sources * hit
    up = -(-marked // 64) * (links + sources)
    return up < down


def _chunks(count: int, groups: int) -> Iterator[tuple[int, int]]:
    per = max(64, MEMORY_BYTES // (8 * max(1, groups)) * 64)
    for lo in range(0, count, per):
        yield lo, min(count, lo + per)
