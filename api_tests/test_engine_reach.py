"""Distinct-reachability counts (`graph_models.engine.reach`) against networkx on random
graphs with cycles, both ways of putting the bits and in several memory chunks."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graph_models.engine import reach
from graph_models.engine.components import ComponentDag


@st.composite
def cases(draw: st.DrawFn) -> tuple[int, list[tuple[int, int]], list[int], list[int]]:
    n = draw(st.integers(1, 90))
    links = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1))
                          .filter(lambda p: p[0] != p[1]), unique=True, max_size=3 * n))
    sources = draw(st.lists(st.integers(0, n - 1), unique=True, min_size=1))
    marked = draw(st.lists(st.integers(0, n - 1), unique=True))
    return n, sorted(links), sources, marked


@settings(max_examples=200, deadline=None)
@given(cases(), st.sampled_from([reach.MEMORY_BYTES, 64]), st.booleans())
def test_counts_are_the_distinct_companies_each_source_reaches(
        case: tuple[int, list[tuple[int, int]], list[int], list[int]], memory: int,
        upwards: bool) -> None:
    n, links, sources, marked = case
    graph = nx.DiGraph(links)
    graph.add_nodes_from(range(n))
    src = np.array([a for a, _ in links], dtype=np.int64)
    dst = np.array([b for _, b in links], dtype=np.int64)
    dag = ComponentDag.of(n, src, dst)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(reach, "MEMORY_BYTES", memory)  # 64 bytes: a chunk per 64 sources
        patch.setattr(reach, "_cheaper_upwards", lambda *_: upwards)  # either way
        got = reach.reach_counts(dag, np.array(sources), np.array(marked, dtype=np.int64))
    want = [len((nx.descendants(graph, s) | {s}) & set(marked)) for s in sources]
    assert got.tolist() == want
