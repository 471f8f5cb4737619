"""Exact, hand-computed answers of the coverage engine on tiny hand-drawn graphs.

Edge cases first: the issuer alone, companies outside the request, links the request does
not apply to, cycles, then time boundaries, gaps, path counts and pagination.
Graphs are written "buyer>supplier" (the request travels from buyer to supplier).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import networkx as nx

from graph_models.models import (
    Acknowledgement,
    Applicability,
    CascadeEvent,
    PolicyRequest,
    SupplyLink,
)
from graph_models.reference.analysis import (
    CoverageAnalysis,
    Gap,
    analyse_coverage,
    gap_edges,
    is_covered_chain,
    supply_graph,
    tier_table,
)
from graph_models.reference.paths import PathCounts, UncoveredPath, path_counts, uncovered_paths

T = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HOUR, DAY, MICRO = timedelta(hours=1), timedelta(days=1), timedelta(microseconds=1)
LATER = T + 30 * DAY


def network(*arrows: str, kinds: dict[str, str] | None = None, category: str = "components"
            ) -> nx.DiGraph:
    """'f>a' is a link in `category`; 'f>a:construction' names its own category."""
    links = []
    for arrow in arrows:
        pair, _, cat = arrow.partition(":")
        buyer, supplier = pair.split(">")
        links.append(SupplyLink(buyer_id=buyer, supplier_id=supplier, category=cat or category))
    names = {n for lk in links for n in lk.key} | set(kinds or {})
    return supply_graph({n: (kinds or {}).get(n, "manufacturer") for n in names}, links)


def request(rid: str = "r", **fields: object) -> PolicyRequest:
    base: dict[str, object] = {"topic": "business_continuity", "title": "BCP", "issuer_id": "f",
                               "issued_at": T}
    return PolicyRequest(id=rid, **(base | fields))


def sent(*arrows: str, at: datetime = T, rid: str = "r") -> list[CascadeEvent]:
    return [CascadeEvent(request_id=rid, from_id=a.split(">")[0], to_id=a.split(">")[1],
                         sent_at=at) for a in arrows]


def answer(company: str, status: str = "accepted", at: datetime = T, seq: int = 0,
           rid: str = "r") -> Acknowledgement:
    return Acknowledgement(request_id=rid, company_id=company, status=status, at=at, seq=seq)


def accepted(*companies: str, at: datetime = T) -> list[Acknowledgement]:
    return [answer(c, at=at, seq=i) for i, c in enumerate(companies)]


def analyse(graph: nx.DiGraph, req: PolicyRequest | None = None,
            cascades: Iterable[CascadeEvent] = (), acks: Iterable[Acknowledgement] = (),
            as_of: datetime = LATER) -> CoverageAnalysis:
    return analyse_coverage(graph, req or request(), list(cascades), list(acks), as_of)


def states(analysis: CoverageAnalysis) -> dict[str, str]:
    return {v: s.value for v, s in analysis.states.items()}


def every_uncovered(analysis: CoverageAnalysis, target: str | None = None) -> list[UncoveredPath]:
    return uncovered_paths(analysis, limit=1000, target=target)[0]


# --- edge cases -------------------------------------------------------------------------


def test_issuer_alone_has_one_covered_path_and_ratio_one() -> None:
    """The issuer's group is itself a leaf group, so the trivial path [f] is the one
    root-to-leaf path, and it is covered (nobody besides the issuer is on it)."""
    for graph in (network(kinds={"f": "manufacturer"}), nx.DiGraph()):
        a = analyse(graph)
        assert states(a) == {"f": "issuer"}
        assert a.covered == {"f"} and a.coverage_ratio == 1.0
        assert gap_edges(a) == []
        assert path_counts(a) == PathCounts(total=1, covered=1)
        assert uncovered_paths(a) == ([], None)
        assert path_counts(a, target="f") == PathCounts(total=1, covered=1)
        assert [row["tier"] for row in tier_table(a)] == [0]
        assert tier_table(a)[0]["companies"] == 1 and tier_table(a)[0]["issuer"] == 1
        assert is_covered_chain(a, ["f"])


def test_companies_the_issuer_cannot_reach_are_outside_the_request() -> None:
    # x is isolated, y supplies x only, b buys from the issuer (downstream, not upstream).
    graph = network("f>a", "x>y", "b>f", kinds={"z": "smelter"})
    a = analyse(graph)
    assert states(a) == {"f": "issuer", "a": "unreached"}
    assert sum(row["companies"] for row in tier_table(a)) == 2
    assert path_counts(a, target="x") == PathCounts(0, 0)
    assert uncovered_paths(a, target="x") == ([], None)


def test_company_reached_only_over_inapplicable_links_is_not_applicable() -> None:
    graph = network("f>b:construction", "f>a:components", "a>c:construction")
    only_construction = Applicability(categories=["construction"])
    req = request(topic="construction_safety", applies_to=only_construction)
    # A forward over the components link carries nothing for a construction request.
    a = analyse(graph, req, sent("f>a", "a>c", "f>b"), accepted("a", "b", "c"))
    assert states(a) == {"f": "issuer", "b": "acknowledged", "a": "not_applicable",
                         "c": "not_applicable"}
    assert a.covered == {"f", "b"} and a.coverage_ratio == 1.0
    assert path_counts(a) == PathCounts(1, 1)
    untouched = analyse(graph, req)
    assert untouched.coverage_ratio == 0.0
    assert gap_edges(untouched) == [Gap("f", "b", tier=1, impact=1)]


def test_applicability_by_supplier_kind() -> None:
    graph = network("f>s", "f>m", "s>t", kinds={"s": "smelter", "m": "manufacturer",
                                                "t": "smelter"})
    req = request(topic="conflict_minerals", applies_to=Applicability(kinds=["smelter"]))
    a = analyse(graph, req, sent("f>s"), accepted("s"))
    assert states(a) == {"f": "issuer", "s": "acknowledged", "m": "not_applicable",
                         "t": "unreached"}
    assert a.coverage_ratio == 0.5
    assert gap_edges(a) == [Gap("s", "t", tier=2, impact=1)]


def test_two_cycle_below_the_issuer_counts_as_one_group() -> None:
    graph = network("f>a", "a>b", "b>a")
    done = analyse(graph, cascades=sent("f>a", "a>b"), acks=accepted("a", "b"))
    assert done.covered == {"f", "a", "b"}
    assert dict(done.tiers) == {"f": 0, "a": 1, "b": 2}
    assert path_counts(done) == PathCounts(total=1, covered=1)
    half = analyse(graph, cascades=sent("f>a"), acks=accepted("a", "b"))
    assert states(half) == {"f": "issuer", "a": "acknowledged", "b": "unreached"}
    assert path_counts(half) == PathCounts(total=1, covered=0)
    # The walk through the cycle passes b, so the break shows on the listed chain.
    assert every_uncovered(half) == [UncoveredPath(["f", "a", "b"], 2, "not_cascaded")]


def test_uncovered_path_to_a_target_inside_a_cycle_ends_at_the_target() -> None:
    half = analyse(network("f>a", "a>b", "b>a"), cascades=sent("f>a"), acks=accepted("a", "b"))
    assert path_counts(half, target="b") == PathCounts(1, 0)
    assert every_uncovered(half, target="b") == [UncoveredPath(["f", "a", "b"], 2, "not_cascaded")]
    # To a: the chain f, a is fine itself; a's group holds b, which nobody reached.
    assert every_uncovered(half, target="a") == [UncoveredPath(["f", "a"], 1, "unreached")]


def test_break_in_a_cycle_group_names_the_company_that_breaks_it() -> None:
    graph = network("f>a", "a>b", "b>c", "c>a")
    a = analyse(graph, cascades=sent("f>a", "a>b", "b>c", "c>a"),
                acks=[*accepted("a", "b"), answer("c", "declined", seq=5)])
    assert a.covered == {"f", "a", "b"}
    assert path_counts(a) == PathCounts(1, 0)
    assert every_uncovered(a) == [UncoveredPath(["f", "a", "b", "c"], 3, "declined")]


def test_diamond_with_one_covered_branch() -> None:
    graph = network("f>a", "f>b", "a>c", "b>c")
    a = analyse(graph, cascades=sent("f>a", "a>c", "f>b"), acks=accepted("a", "b", "c"))
    assert a.covered == {"f", "a", "b", "c"} and a.coverage_ratio == 1.0
    assert path_counts(a) == PathCounts(total=2, covered=1)
    assert every_uncovered(a) == [UncoveredPath(["f", "b", "c"], 2, "not_cascaded")]
    assert is_covered_chain(a, ["f", "a", "c"]) and not is_covered_chain(a, ["f", "b", "c"])
    # b still owes c the forward, although c is covered through a.
    assert gap_edges(a) == [Gap("b", "c", tier=2, impact=0)]
    assert path_counts(a, target="c") == PathCounts(2, 1)
    assert path_counts(a, target="b") == PathCounts(1, 1)


# --- reach and time ---------------------------------------------------------------------


def test_acknowledgement_before_the_cascade_counts_once_reached() -> None:
    graph = network("f>a")
    events, acks = sent("f>a", at=T + DAY), [answer("a", at=T)]
    before = analyse(graph, cascades=events, acks=acks, as_of=T + 12 * HOUR)
    assert states(before)["a"] == "unreached" and before.covered == {"f"}
    assert before.first_reached == {}
    after = analyse(graph, cascades=events, acks=acks, as_of=T + 2 * DAY)
    assert states(after)["a"] == "acknowledged" and after.covered == {"f", "a"}
    assert after.first_reached == {"a": T + DAY}


def test_cascade_from_an_unreached_company_reaches_nothing() -> None:
    a = analyse(network("f>a", "a>b", "b>c"), cascades=sent("b>c"), acks=accepted("b", "c"))
    assert states(a) == {"f": "issuer", "a": "unreached", "b": "unreached", "c": "unreached"}
    assert a.first_reached == {} and a.covered == {"f"}
    assert gap_edges(a) == [Gap("f", "a", tier=1, impact=3)]


def test_first_reached_is_the_earliest_forward_from_a_reached_company() -> None:
    # b forwards to c before b is reached itself; a's forward to c comes later.
    graph = network("f>a", "f>b", "a>c", "b>c")
    events = [*sent("f>a", "f>b", at=T + 2 * DAY), *sent("b>c", at=T + DAY),
              *sent("a>c", at=T + 3 * DAY)]
    a = analyse(graph, cascades=events)
    assert a.first_reached == {"a": T + 2 * DAY, "b": T + 2 * DAY, "c": T + DAY}


def test_events_after_as_of_are_ignored() -> None:
    graph = network("f>a")
    a = analyse(graph, cascades=sent("f>a", at=T + DAY), acks=[answer("a", at=T + 3 * DAY)],
                as_of=T + 2 * DAY)
    assert states(a)["a"] == "pending"
    a = analyse(graph, cascades=sent("f>a", at=T + DAY), as_of=T + DAY - MICRO)
    assert states(a)["a"] == "unreached"
    assert gap_edges(a) == [Gap("f", "a", tier=1, impact=1)]


def test_overdue_only_after_the_due_boundary() -> None:
    graph, req = network("f>a"), request(due_days=2)
    events = sent("f>a", at=T)
    due = T + 2 * DAY
    assert states(analyse(graph, req, events, as_of=due))["a"] == "pending"
    assert states(analyse(graph, req, events, as_of=due + MICRO))["a"] == "overdue"
    received = [answer("a", "received", at=T + HOUR)]
    assert states(analyse(graph, req, events, received, as_of=due))["a"] == "pending"
    assert states(analyse(graph, req, events, received, as_of=due + MICRO))["a"] == "overdue"
    declined = [answer("a", "declined", at=T + HOUR)]
    assert states(analyse(graph, req, events, declined, as_of=due + DAY))["a"] == "declined"
    same_day = request(due_days=0)
    assert states(analyse(graph, same_day, events, as_of=T))["a"] == "pending"
    assert states(analyse(graph, same_day, events, as_of=T + MICRO))["a"] == "overdue"


def test_acceptance_expires_only_after_the_validity_boundary() -> None:
    graph, req = network("f>a"), request(valid_days=1)
    events, acks = sent("f>a"), [answer("a", at=T + HOUR)]
    valid = analyse(graph, req, events, acks, as_of=T + HOUR + DAY)
    assert states(valid)["a"] == "acknowledged" and valid.coverage_ratio == 1.0
    stale = analyse(graph, req, events, acks, as_of=T + HOUR + DAY + MICRO)
    assert states(stale)["a"] == "expired" and stale.coverage_ratio == 0.0
    forever = analyse(graph, request(valid_days=None), events, acks, as_of=T + 3650 * DAY)
    assert states(forever)["a"] == "acknowledged"


def test_the_latest_answer_counts_and_ties_go_to_the_later_recorded() -> None:
    graph, events = network("f>a"), sent("f>a")
    tie = [answer("a", "accepted", at=T + HOUR, seq=1), answer("a", "declined", at=T + HOUR, seq=2)]
    assert states(analyse(graph, cascades=events, acks=tie))["a"] == "declined"
    tie_other_way = [answer("a", "declined", at=T + HOUR, seq=1),
                     answer("a", "accepted", at=T + HOUR, seq=2)]
    assert states(analyse(graph, cascades=events, acks=tie_other_way))["a"] == "acknowledged"
    # A later `at` wins over a later recording.
    backdated = [answer("a", "accepted", at=T + 2 * HOUR, seq=1),
                 answer("a", "declined", at=T + HOUR, seq=2)]
    assert states(analyse(graph, cascades=events, acks=backdated))["a"] == "acknowledged"


def test_acknowledgements_of_a_superseded_request_do_not_count() -> None:
    graph = network("f>a")
    new = request("r2", version="2", supersedes="r1")
    a = analyse(graph, new, sent("f>a", rid="r2"), [answer("a", rid="r1")])
    assert states(a)["a"] == "pending" and a.coverage_ratio == 0.0


def test_cascades_of_a_superseded_request_do_not_reach() -> None:
    """The old version travelled to a; the new one was never forwarded."""
    graph = network("f>a")
    new = request("r2", version="2", supersedes="r1")
    a = analyse(graph, new, sent("f>a", rid="r1"), [answer("a", rid="r2")])
    assert states(a)["a"] == "unreached"
    assert a.covered == {"f"}
    assert gap_edges(a) == [Gap("f", "a", tier=1, impact=1)]


# --- gaps -------------------------------------------------------------------------------


def test_gap_from_an_acknowledged_company_whose_own_chain_is_broken() -> None:
    graph = network("f>x", "x>a", "a>b")
    a = analyse(graph, cascades=sent("f>x", "x>a"),
                acks=[answer("x", "declined"), answer("a", seq=1)])
    assert states(a) == {"f": "issuer", "x": "declined", "a": "acknowledged", "b": "unreached"}
    assert a.covered == {"f"}
    assert gap_edges(a) == [Gap("a", "b", tier=3, impact=1)]


def test_gaps_most_impactful_first_then_ids() -> None:
    graph = network("f>a", "f>b", "f>c", "f>d", "a>a1", "a>a2", "b>b1")
    assert gap_edges(analyse(graph)) == [
        Gap("f", "a", tier=1, impact=3),
        Gap("f", "b", tier=1, impact=2),
        Gap("f", "c", tier=1, impact=1),
        Gap("f", "d", tier=1, impact=1),
    ]


def test_gap_impact_counts_each_upstream_company_once() -> None:
    # Two paths lead from a to d: d is still one company.
    assert gap_edges(analyse(network("f>a", "a>b", "a>c", "b>d", "c>d"))) == [
        Gap("f", "a", tier=1, impact=4)
    ]


def test_tier_is_the_distance_over_all_links() -> None:
    graph = network("f>c:components", "f>a:construction", "a>c:construction")
    req = request(applies_to=Applicability(categories=["construction"]))
    a = analyse(graph, req, sent("f>a"), accepted("a"))
    assert dict(a.tiers) == {"f": 0, "a": 1, "c": 1}
    assert states(a)["c"] == "unreached"
    assert gap_edges(a) == [Gap("a", "c", tier=1, impact=1)]
    assert [(row["tier"], row["companies"]) for row in tier_table(a)] == [(0, 1), (1, 2)]


# --- path counts and pagination ---------------------------------------------------------


def layered(layers: int) -> tuple[nx.DiGraph, list[str]]:
    """f, then `layers` layers of two companies, every company linked to both of the next."""
    rows = [["f"]] + [[f"l{i}a", f"l{i}b"] for i in range(1, layers + 1)]
    arrows = [f"{u}>{v}" for upper, lower in zip(rows, rows[1:], strict=False)
              for u in upper for v in lower]
    return network(*arrows), arrows


def test_two_to_the_thirty_paths_are_counted_exactly_without_enumeration() -> None:
    graph, arrows = layered(30)
    companies = [n for n in graph if n != "f"]
    everyone = analyse(graph, cascades=sent(*arrows), acks=accepted(*companies))
    assert path_counts(everyone) == PathCounts(total=2**30, covered=2**30)
    acks = [*accepted(*companies), answer("l15a", "declined", at=T + HOUR, seq=99)]
    one_declined = analyse(graph, cascades=sent(*arrows), acks=acks)
    counts = path_counts(one_declined)
    assert counts == PathCounts(total=2**30, covered=2**29) and counts.uncovered == 2**29
    page, following = uncovered_paths(one_declined, start=2**29 - 2, limit=5)
    assert following is None and len(page) == 2
    for path in page:
        assert len(path.companies) == 31 and path.companies[15] == "l15a"
        assert (path.break_index, path.reason) == (15, "declined")
    assert len(tier_table(one_declined)) == 31


def test_uncovered_paths_of_the_diamond_page_by_page() -> None:
    a = analyse(network("f>a", "f>b", "a>c", "b>c"))
    first, cursor = uncovered_paths(a, limit=1)
    assert cursor == 1 and len(first) == 1
    second, cursor = uncovered_paths(a, start=cursor, limit=1)
    assert cursor is None and len(second) == 1
    assert {tuple(p.companies) for p in first + second} == {("f", "a", "c"), ("f", "b", "c")}
    assert all((p.break_index, p.reason) == (1, "not_cascaded") for p in first + second)
    assert uncovered_paths(a, limit=2) == (first + second, None)
    assert uncovered_paths(a, start=2, limit=1) == ([], None)
