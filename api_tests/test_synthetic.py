"""The synthetic network generator: seeded, tiered, connected, with diamonds and cycles, and
exactly the asked number of links."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from itertools import pairwise

import networkx as nx
import pytest

from graph_models.models import CompanyKind, PolicyRequest, SupplyLink, utc_now
from loaders.synthetic import SyntheticNetwork, generate_network, issue_and_cascade


def graph_of(net: SyntheticNetwork) -> nx.DiGraph:
    graph = nx.DiGraph()
    graph.add_nodes_from(c.id for c in net.companies)
    graph.add_edges_from(lk.key for lk in net.links)
    return graph


def test_same_seed_same_network_other_seed_another() -> None:
    one, again = generate_network(2000, seed=5, links=5000), generate_network(2000, seed=5,
                                                                             links=5000)
    other = generate_network(2000, seed=6, links=5000)
    assert list(one.companies) == list(again.companies)
    assert list(one.links) == list(again.links)
    assert {lk.key for lk in one.links} != {lk.key for lk in other.links}


@pytest.mark.parametrize("tiers", [1, 3, 8, 14])
def test_tiers_are_layers_and_everyone_hangs_off_the_focal_company(tiers: int) -> None:
    net = generate_network(3000, seed=1, tiers=tiers, links=None if tiers == 1 else 7000)
    distance = nx.single_source_shortest_path_length(graph_of(net), net.focal_id)
    assert len(distance) == len(net.companies) == 3000  # every supplier is reachable
    assert set(distance.values()) == set(range(tiers + 1))
    for company in net.companies[1:]:
        assert company.tags == [f"tier-{distance[company.id]}"]


def test_diamonds_cycles_and_fan_out_shrinking_with_depth() -> None:
    net = generate_network(3000, seed=2, tiers=8, links=9000)
    graph = graph_of(net)
    buyers = Counter(lk.supplier_id for lk in net.links)
    assert sum(1 for n in buyers.values() if n >= 2) > 500  # shared suppliers: diamonds
    assert not nx.is_directed_acyclic_graph(graph)
    assert any(graph.has_edge(lk.supplier_id, lk.buyer_id) for lk in net.links)  # A <-> B
    tier = {cid: t for t, layer in enumerate(net.tiers) for cid in layer}
    down = Counter(tier[lk.buyer_id] for lk in net.links
                   if tier[lk.supplier_id] == tier[lk.buyer_id] + 1)
    per_buyer = [down[t] / len(net.tiers[t]) for t in range(1, 8)]
    assert all(later <= earlier * 1.05 for earlier, later in pairwise(per_buyer))
    assert per_buyer[0] > 2 * per_buyer[-1]


def test_kinds_and_link_categories() -> None:
    net = generate_network(3000, seed=3, tiers=8)
    kinds = {c.id: c.kind for c in net.companies}
    assert set(kinds.values()) >= set(CompanyKind) - {CompanyKind.other}
    deepest = Counter(kinds[cid] for cid in net.tiers[-1])
    assert deepest.most_common(1)[0][0] is CompanyKind.smelter
    categories = {lk.category for lk in net.links}
    assert {"components", "raw_materials", "construction", "logistics", "services"} <= categories
    assert all(lk.buyer_id != lk.supplier_id for lk in net.links)
    assert len({lk.key for lk in net.links}) == len(net.links)


@pytest.mark.parametrize(("companies", "links", "tiers"),
                         [(3000, 2999, 8), (3000, 3100, 8), (3000, 30_000, 8),
                          (1000, 2500, 20), (50, 539, 3)])
def test_link_count_is_what_was_asked(companies: int, links: int, tiers: int) -> None:
    net = generate_network(companies, seed=4, tiers=tiers, links=links)
    assert len(net.links) == links
    assert len(net.companies) == companies


def test_impossible_sizes_are_refused_with_the_limit() -> None:
    with pytest.raises(ValueError, match="at most 539 links fit 50 companies over 3 tier"):
        generate_network(50, seed=1, tiers=3, links=540)
    with pytest.raises(ValueError, match="need at least 2999 links"):
        generate_network(3000, seed=1, links=2000)
    with pytest.raises(ValueError, match="9 tiers need at least 10 companies"):
        generate_network(9, seed=1, tiers=9)


def test_models_are_built_on_access_and_slice_to_lists() -> None:
    net = generate_network(100, seed=1)
    assert isinstance(net.links[0], SupplyLink)
    assert net.links[2:5] == [net.links[2], net.links[3], net.links[4]]
    assert net.links == generate_network(100, seed=1).links


def test_cascade_stops_at_as_of_and_follows_links() -> None:
    net = generate_network(2000, seed=8, links=5000)
    now = utc_now()
    request = PolicyRequest(id="r", topic="business_continuity", title="BCP",
                            issuer_id=net.focal_id, issued_at=now - timedelta(days=40))
    issue_and_cascade(net, request, seed=8, as_of=now)
    links = {lk.key for lk in net.links}
    assert net.cascades and net.acknowledgements
    assert all((e.from_id, e.to_id) in links and e.sent_at <= now for e in net.cascades)
    reached = {e.to_id for e in net.cascades}
    assert all(a.company_id in reached and a.at <= now for a in net.acknowledgements)
    assert reached < {c.id for c in net.companies}  # 40 days: not everyone is reached yet
