"""Exact distinct-reachability counts on a component DAG, with bitsets.

"How many marked companies does each of these companies reach?" has no additive
shortcut (two chains to one supplier count it once), so each source company gets a bit,
the bits flow along the DAG a level at a time, and the marked groups' bits are counted.
Gap impacts (uncovered companies upstream of each gap head) and an incident's tier-1
exposure (exposed companies behind each direct supplier) both ask it.

Layout: a word per row, a group per column (`words x groups`), so a level's gather and
OR run over contiguous 1-D rows; a few rows at a time keep the working set in cache, two
threads share them (numpy releases the GIL in gathers and reductions), and sources go in
chunks so the bits never take more than `MEMORY_BYTES`.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from graph_models.engine.components import ComponentDag

__all__ = ["MEMORY_BYTES", "pull_bits", "reach_counts", "seed_bits", "weighted_bit_counts"]

MEMORY_BYTES = 256 * 2**20  # the bits of one chunk of sources
_WORDS_PER_PULL = 8  # 512 sources' bits pulled at once: a working set that stays in cache
_PULL_THREADS = 2
_COLUMNS_PER_BLOCK = 1024  # groups unpacked at once when counting: 64 flags per word


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
    group links leads to `groups[i]` (itself included). On `dag.reversed()`: every group
    `groups[i]` reaches.

    >>> dag = ComponentDag.of(3, np.array([0, 1]), np.array([1, 2]))  # 0 -> 1 -> 2
    >>> pull_bits(dag, dag.comp[[2]])[0][dag.comp].tolist()  # all three reach 2
    [1, 1, 1]
    >>> pull_bits(dag.reversed(), dag.comp[[1]])[0][dag.comp].tolist()  # 1 reaches 1, 2
    [0, 1, 1]
    """
    words = max(1, (groups.size + 63) // 64)
    bits = np.zeros((words, dag.size), dtype=np.uint64)
    seed_bits(bits.T, groups, np.arange(groups.size) // 64)
    steps = []
    for _, edges in dag.levels:  # a level's successors are final before it is pulled
        heads = dag.edge_src[edges]
        first = np.flatnonzero(np.r_[True, heads[1:] != heads[:-1]])
        steps.append((heads[first], dag.edge_dst[edges], first))

    def pull(lo: int) -> None:
        rows = bits[lo : lo + _WORDS_PER_PULL]
        for heads, below, first in steps:
            if first.size:
                rows[:, heads] |= np.bitwise_or.reduceat(rows[:, below], first, axis=1)

    with ThreadPoolExecutor(_PULL_THREADS) as pool:
        list(pool.map(pull, range(0, words, _WORDS_PER_PULL)))
    return bits


def weighted_bit_counts(bits: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """sum over r of weight[r] * bit i of column r of `bits` (words x rows), for every
    bit i (word i // 64, bit i % 64).

    Columns are unpacked a block at a time into 0/1 flags (a bounded copy) and weighted
    by a float matrix-vector product (BLAS): float32, exact while the weights sum below
    2**24 (16.7M companies), else float64.

    >>> weighted_bit_counts(np.array([[0b01, 0b11]], dtype=np.uint64), np.array([5, 2]))[:3]
    array([7, 2, 0])
    """
    words, rows = bits.shape
    out = np.zeros(words * 64, dtype=np.float64)
    exact = np.float32 if int(weight.sum()) < 2**24 else np.float64
    weight = weight.astype(exact)
    for lo in range(0, rows, _COLUMNS_PER_BLOCK):
        block = np.ascontiguousarray(bits[:, lo : lo + _COLUMNS_PER_BLOCK])
        flags = np.unpackbits(block.view(np.uint8).reshape(words, -1, 8), axis=2,
                              bitorder="little")  # words x columns x 64 (little-endian)
        flags = flags.transpose(0, 2, 1).reshape(words * 64, -1)
        out += flags.astype(exact) @ weight[lo : lo + _COLUMNS_PER_BLOCK]
    return np.rint(out).astype(np.int64)


def reach_counts(dag: ComponentDag, sources: np.ndarray, marked: np.ndarray) -> np.ndarray:
    """For each company in `sources`: how many companies of `marked` it reaches over the
    DAG's group links (itself included when marked); companies are rows of `dag.comp`.

    Whichever way costs fewer word operations gets the bits, in chunks of
    `MEMORY_BYTES`: the sources' bits flow down the reversed DAG and each marked group's
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
    back = dag.reversed()
    for lo, hi in _chunks(sources.size, dag.size):
        bits = pull_bits(back, dag.comp[sources[lo:hi]])
        out[lo:hi] = weighted_bit_counts(bits[:, hit], weight[hit])[: hi - lo]
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
