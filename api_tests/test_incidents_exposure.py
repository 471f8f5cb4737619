"""Exposure figures of the array code against a brute-force networkx reference, on random
graphs with cycles; and hand-drawn graphs with exact numbers. Area matching at its
boundaries (circle radius, regions, countries, own country, match order)."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph_models.areas import Area, Circle, Locations, haversine_km
from graph_models.engine import CompactNetwork, reach
from graph_models.exposure import ExposureBase, exposure_of
from graph_models.models import Site

CATEGORIES = ("components", "logistics")


@st.composite
def graphs(draw: st.DrawFn) -> tuple[list[str], list[tuple[str, str, str]], set[str], str,
                                     list[str] | None]:
    n = draw(st.integers(1, 9))
    ids = [f"c{i:02d}" for i in range(n)]
    pairs = [(a, b) for a in ids for b in ids if a != b]
    chosen = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=min(len(pairs), 22))) \
        if pairs else []
    links = [(a, b, draw(st.sampled_from(CATEGORIES))) for a, b in chosen]
    affected = set(draw(st.lists(st.sampled_from(ids), unique=True)))
    root = draw(st.sampled_from(ids))
    categories = draw(st.none() | st.just(["components"]))
    return ids, links, affected, root, categories


def reference(ids: list[str], links: list[tuple[str, str, str]], affected: set[str], root: str,
              categories: list[str] | None) -> dict[str, object]:
    graph = nx.DiGraph()
    graph.add_nodes_from(ids)
    graph.add_edges_from((a, b) for a, b, c in links if categories is None or c in categories)
    reach = nx.descendants(graph, root)
    tier = nx.single_source_shortest_path_length(graph, root)
    exposed = (affected & reach) - {root}
    tiers: dict[int, int] = {}
    for v in exposed:
        tiers[tier[v]] = tiers.get(tier[v], 0) + 1
    tier1 = []
    for s in graph.successors(root):
        hit = (nx.descendants(graph, s) | {s}) & exposed
        if hit:
            tier1.append((s, len(hit), min(tier[v] for v in hit)))
    tier1.sort(key=lambda row: (-row[1], row[0]))
    sub = graph.subgraph(reach | {root})
    dag = nx.condensation(sub)
    group = dag.graph["mapping"]
    start = group[root]
    sinks = [g for g in dag if dag.out_degree(g) == 0]
    walks = [[start]] if dag.out_degree(start) == 0 else [
        p for t in sinks for p in nx.all_simple_paths(dag, start, t)]
    bad = {group[v] for v in exposed}
    cone = {v for v in reach | {root} if exposed & (nx.descendants(sub, v) | {v})}
    chains = {v: min(nx.all_shortest_paths(graph, root, v)) for v in exposed}
    return {"tiers": sorted(tiers.items()), "tier1": tier1, "count": len(exposed),
            "paths": (len(walks), sum(1 for w in walks if bad & set(w))), "cone": cone,
            "chains": chains}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs(), st.sampled_from([reach.MEMORY_BYTES, 0]))
def test_exposure_figures_are_the_brute_force_ones(case: tuple, memory: int) -> None:
    ids, links, affected, root, categories = case
    network = CompactNetwork.build(dict.fromkeys(ids, "manufacturer"), links)
    mask = np.zeros(network.size, dtype=bool)
    mask[network.indexes(sorted(affected))] = True
    with pytest.MonkeyPatch.context() as patch:
        # 0 bytes: a root whose reach bits are too large to keep, counted per exposure
        patch.setattr(reach, "MEMORY_BYTES", memory)
        base = ExposureBase(network, root, categories)
        found = exposure_of(base, mask)
        tier1 = found.tier1()
        assert base.has_reach_bits == (memory > 0 and bool(tier1))
        # a second incident on the same base: the kept bits, with more leaves read
        everywhere = exposure_of(base, np.ones(network.size, dtype=bool)).tier1()
    want = reference(ids, links, affected, root, categories)
    names = network.ids
    assert [(names[s], n, t) for s, n, t in everywhere] == \
        reference(ids, links, set(ids), root, categories)["tier1"]
    assert found.count == want["count"]
    assert found.tiers() == want["tiers"]
    assert [(names[s], n, t) for s, n, t in tier1] == want["tier1"]
    assert found.paths() == want["paths"]
    assert {names[i] for i in np.flatnonzero(found.cone())} == want["cone"]
    for v, chain in want["chains"].items():  # type: ignore[attr-defined]
        assert [names[c] for c in found.chain_to(network.index[v])] == chain


def test_many_direct_suppliers_and_exposed_groups_count_exactly() -> None:
    # 150 direct suppliers (three words of reach bits) over 1,500 exposed companies
    # (two blocks of unpacked columns): each supplier reaches a run of a shared chain.
    rng = np.random.default_rng(7)
    chain = [f"k{i:04d}" for i in range(1500)]
    suppliers = [f"s{i:03d}" for i in range(150)]
    links = [(a, b, "components") for a, b in itertools.pairwise(chain)]
    links += [("R", s, "components") for s in suppliers]
    links += [(s, chain[int(rng.integers(0, 1500))], "components") for s in suppliers]
    links += [(chain[-1], chain[-3], "components")]  # a cycle of three at the end
    ids = ["R", *suppliers, *chain]
    affected = set(chain) | {suppliers[3]}
    network = CompactNetwork.build(dict.fromkeys(ids, "manufacturer"), links)
    mask = np.zeros(network.size, dtype=bool)
    mask[network.indexes(sorted(affected))] = True
    found = exposure_of(ExposureBase(network, "R"), mask)
    graph = nx.DiGraph((a, b) for a, b, _ in links)
    tier = nx.single_source_shortest_path_length(graph, "R")
    want = []
    for s in suppliers:
        hit = (nx.descendants(graph, s) | {s}) & affected
        want.append((s, len(hit), min(tier[v] for v in hit)))
    assert [(network.ids[s], n, t) for s, n, t in found.tier1()] == \
        sorted(want, key=lambda row: (-row[1], row[0]))


def diamond_with_cycle() -> CompactNetwork:
    # R -> a -> x ; R -> b -> x ; x <-> y (one group) ; b -> z (leaf)
    links = [("R", "a", "components"), ("R", "b", "components"), ("a", "x", "components"),
             ("b", "x", "logistics"), ("x", "y", "components"), ("y", "x", "components"),
             ("b", "z", "components")]
    return CompactNetwork.build(dict.fromkeys("Rabxyz", "manufacturer"), links)


def test_hand_drawn_diamond_with_a_cycle() -> None:
    network = diamond_with_cycle()
    mask = np.zeros(network.size, dtype=bool)
    mask[network.indexes(["y", "R"])] = True  # R itself never counts
    found = exposure_of(ExposureBase(network, "R"), mask)
    assert found.count == 1 and found.tiers() == [(3, 1)]
    assert [(network.ids[s], n, t) for s, n, t in found.tier1()] == [("a", 1, 3), ("b", 1, 3)]
    assert found.paths() == (3, 2)  # R-a-{xy}, R-b-{xy}, R-b-z
    assert sorted(network.ids[i] for i in np.flatnonzero(found.cone())) == \
        ["R", "a", "b", "x", "y"]
    assert [network.ids[c] for c in found.chain_to(network.index["y"])] == ["R", "a", "x", "y"]
    only_components = exposure_of(ExposureBase(network, "R", ["components"]), mask)
    assert only_components.paths() == (2, 1)  # b -> x is logistics


def test_nothing_exposed_and_a_lone_root() -> None:
    network = diamond_with_cycle()
    found = exposure_of(ExposureBase(network, "z"), np.ones(network.size, dtype=bool))
    assert (found.count, found.tiers(), found.tier1(), found.paths()) == (0, [], [], (1, 0))
    assert not found.cone().any()


# -- area matching ------------------------------------------------------------------------

TOKYO = (35.6895, 139.6917)


def site(sid: str, country: str, region: str | None = None,
         at: tuple[float, float] | None = None) -> Site:
    lat, lon = at if at is not None else (None, None)
    return Site(id=sid, name=sid, country=country, region=region, lat=lat, lon=lon)


def test_the_circle_includes_its_boundary_and_nothing_beyond() -> None:
    east = (TOKYO[0], TOKYO[1] + 1.0)
    radius = float(haversine_km(*east, *TOKYO))
    where = Locations.of({"on": (None, [site("s", "JP", at=east)])})
    assert where.affected(Area(circle=Circle(*TOKYO, radius))) == ["on"]
    assert where.affected(Area(circle=Circle(*TOKYO, radius * (1 - 1e-9)))) == []
    assert where.affected(Area(circle=Circle(*TOKYO, 0.0))) == []
    centre = Locations.of({"c": (None, [site("s", "JP", at=TOKYO)])})
    assert centre.affected(Area(circle=Circle(*TOKYO, 0.0))) == ["c"]


def test_the_circle_uses_the_mean_earth_radius() -> None:
    # a quarter of a great circle along the equator: pi / 2 * 6371.0 km
    quarter = np.pi / 2 * 6371.0
    where = Locations.of({"q": (None, [site("s", "EC", at=(0.0, 90.0))])})
    assert where.affected(Area(circle=Circle(0.0, 0.0, quarter))) == ["q"]
    assert where.affected(Area(circle=Circle(0.0, 0.0, quarter - 0.001))) == []


def test_sites_without_coordinates_never_fall_in_a_circle() -> None:
    where = Locations.of({"a": (None, [site("s", "JP", "JP-13")]), "b": ("JP", [])})
    assert where.affected(Area(circle=Circle(*TOKYO, 20000.0))) == []


def test_regions_match_exactly_and_own_country_only_without_sites() -> None:
    where = Locations.of({
        "tokyo": (None, [site("hq", "JP", "JP-13")]),
        "kanagawa": (None, [site("plant", "JP", "JP-14")]),
        "de-listed-jp": ("DE", [site("jp", "JP", "JP-1")]),  # JP-1 is not JP-13
        "own-jp": ("JP", []),
        "own-none": (None, []),
    })
    assert where.affected(Area(regions=frozenset({"JP-13"}))) == ["tokyo"]
    assert where.affected(Area(countries=frozenset({"JP"}))) == \
        ["de-listed-jp", "kanagawa", "own-jp", "tokyo"]
    assert where.affected(Area(countries=frozenset({"DE"}))) == []  # located by its site


def test_the_first_criterion_and_the_first_site_name_the_match() -> None:
    where = Locations.of({
        "a": (None, [site("z-site", "JP", "JP-13", TOKYO), site("b-site", "JP", None, TOKYO)]),
        "b": ("JP", []),
    })
    area = Area(company_ids=frozenset({"b"}), regions=frozenset({"JP-13"}),
                countries=frozenset({"JP"}), circle=Circle(*TOKYO, 1.0))
    matches = where.matches(area)
    assert (matches["a"].by, matches["a"].site_id) == ("regions", "z-site")
    assert (matches["b"].by, matches["b"].site_id) == ("company_ids", None)
    by_country = where.matches(Area(countries=frozenset({"JP"})))
    assert (by_country["a"].site_id, by_country["b"].site_id) == ("b-site", None)
    assert where.matches(area, among=["b", "unknown"]) == {"b": matches["b"]}


@pytest.mark.parametrize("lat,lon", [(90.0, 0.0), (-90.0, 180.0), (0.0, -180.0)])
def test_haversine_is_symmetric_and_bounded(lat: float, lon: float) -> None:
    for a, b in itertools.permutations([(lat, lon), TOKYO], 2):
        assert 0 <= float(haversine_km(*a, *b)) <= np.pi * 6371.0 + 1e-9
