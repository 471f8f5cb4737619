"""The array engine the service runs against the networkx reference engine.

Same random scenarios as the oracle properties (acyclic and cyclic, applicability,
histories with ties, boundaries hit to the microsecond): every figure the service shows
must be identical. Also: folding events one at a time, and changing the network through
`with_changes`, must give what building from scratch gives.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from api_tests.test_engine_properties import PROPERTY, Scenario, all_uncovered, scenarios
from graph_models.engine import (
    ACK_STATUSES,
    NEVER,
    ArrayAnalysis,
    CompactNetwork,
    RequestLedger,
    RequestScope,
    analyse,
    are_path_counts,
    chain_to,
    is_chain_to,
    is_covered_mask,
    is_folded,
    is_gap_list,
    is_height_labelling,
    is_request_subgraph,
    is_shortest_distance_labelling,
    is_uncovered_path,
    uncovered_page,
)
from graph_models.engine.network import grouped, starts
from graph_models.models import NodeState, from_epoch_us, to_epoch_us
from graph_models.reference.analysis import gap_edges, state_counts, tier_table
from graph_models.reference.paths import path_counts
from service.store.port import ACK_STATUSES as STORE_STATUSES
from service.store.port import Network, RequestEvents
from service.store.snapshots import snapshot_of


def rows(s: Scenario) -> tuple[list, list]:
    rid = s.request.id
    cascades = [(e.from_id, e.to_id, to_epoch_us(e.sent_at)) for e in s.cascades
                if e.request_id == rid]
    acks = [(a.company_id, str(a.status), to_epoch_us(a.at), a.seq) for a in s.acks
            if a.request_id == rid]
    return cascades, acks


def states_by_id(a: ArrayAnalysis) -> dict[str, NodeState]:
    """Each company inside the request (by id) with its state, as the reference keys them."""
    ids = a.scope.network.ids
    return {ids[i]: state for i in range(len(ids)) if (state := a.state_of(i)) is not None}


def judged(a: ArrayAnalysis) -> bool:
    """Every checker of the engine accepts the analysis (tiers, subgraph, folds, covered
    set, gaps, path counts toward every end)."""
    scope = a.scope
    return (is_shortest_distance_labelling(scope.network.graph, scope.root, scope.tier)
            and is_request_subgraph(scope) and is_folded(a.ledger)
            and is_height_labelling(scope.dag) and is_covered_mask(a)
            and is_gap_list(a, a.gaps())
            and all(are_path_counts(a, t) for t in [None, *np.flatnonzero(scope.inside)]))


def network_of(s: Scenario) -> CompactNetwork:
    return CompactNetwork.build(s.kinds, [(lk.buyer_id, lk.supplier_id, lk.category)
                                          for lk in s.links])


def array_analysis(s: Scenario, network: CompactNetwork | None = None) -> ArrayAnalysis:
    cascades, acks = rows(s)
    scope = RequestScope(network or network_of(s), s.request)
    return analyse(RequestLedger.of(scope, cascades, acks), s.as_of)


def all_array_uncovered(a: ArrayAnalysis, limit: int, target: int | None) -> list:
    listed, start = [], 0
    while True:
        page, following = uncovered_page(a, start=start, limit=limit, target=target)
        listed.extend(page)
        if following is None:
            return listed
        start = following


@PROPERTY
@given(scenarios())
def test_states_coverage_gaps_and_tiers_are_the_reference_ones(s: Scenario) -> None:
    ref, fast = s.engine(), array_analysis(s)
    assert states_by_id(fast) == dict(ref.states)
    ids = fast.scope.network.ids
    assert {ids[i] for i in fast.covered.nonzero()[0]} == set(ref.covered)
    assert fast.coverage_ratio == ref.coverage_ratio
    assert fast.state_counts() == state_counts(ref)
    assert fast.tier_table() == tier_table(ref)
    assert fast.gaps() == [(g.from_id, g.to_id, g.tier, g.impact) for g in gap_edges(ref)]
    first = {ids[i]: t for i, t in enumerate(fast.first.tolist()) if t != NEVER}
    assert first == {v: to_epoch_us(t) for v, t in ref.first_reached.items()}

@PROPERTY
@given(scenarios())
def test_the_checkers_accept_every_figure_the_engine_computes(s: Scenario) -> None:
    fast = array_analysis(s)
    assert judged(fast)
    for target in [None, *np.flatnonzero(fast.scope.inside).tolist()]:
        for path in all_array_uncovered(fast, 4, target):
            assert is_uncovered_path(fast, path, target)
    for company in np.flatnonzero(fast.scope.tier >= 0).tolist():
        assert is_chain_to(fast, company, chain_to(fast, company))


@PROPERTY
@given(scenarios(), st.randoms(use_true_random=False))
def test_the_checkers_refuse_a_wrong_figure(s: Scenario, rnd) -> None:
    """A checker that accepts anything judges nothing: one company's figure changed."""
    fast = array_analysis(s)
    scope, v = fast.scope, rnd.randrange(fast.scope.network.size)
    tier = scope.tier.copy()
    tier[v] += 1
    assert not is_shortest_distance_labelling(scope.network.graph, scope.root, tier)
    gaps = fast.gaps()
    assert not is_gap_list(fast, gaps[1:] if gaps else [("c0", "c0", 0, 1)])
    fast.covered = fast.covered.copy()
    fast.covered[v] = not fast.covered[v]
    assert not is_covered_mask(fast)


@PROPERTY
@given(scenarios())
def test_path_counts_and_listings_are_the_reference_ones(s: Scenario) -> None:
    ref, fast = s.engine(), array_analysis(s)
    index = fast.scope.network.index
    for target in [None, *sorted(ref.subgraph)]:
        expected = path_counts(ref, target)
        at = None if target is None else index[target]
        assert fast.path_counts(at) == (expected.total, expected.covered)
        assert all_array_uncovered(fast, 3, at) == all_uncovered(ref, 3, target)


@PROPERTY
@given(scenarios(), st.randoms(use_true_random=False))
def test_folding_events_one_by_one_equals_folding_them_at_once(s: Scenario, rnd) -> None:
    cascades, acks = rows(s)
    scope = RequestScope(network_of(s), s.request)
    events = [(c, None) for c in cascades] + [(None, a) for a in acks]
    rnd.shuffle(events)
    ledger = RequestLedger(scope)
    for c, a in events + events[: len(events) // 2]:  # re-delivered events change nothing
        ledger = ledger.with_events([c] if c else [], [a] if a else [])
    once = RequestLedger.of(scope, cascades, acks)
    stepwise, whole = analyse(ledger, s.as_of), analyse(once, s.as_of)
    assert states_by_id(stepwise) == states_by_id(whole)
    assert (stepwise.covered == whole.covered).all()
    assert stepwise.path_counts() == whole.path_counts()


@PROPERTY
@given(scenarios(), st.randoms(use_true_random=False))
def test_ledgers_made_from_one_ledger_leave_it_and_each_other_intact(s: Scenario, rnd) -> None:
    """Ledgers share their event columns: a reader still analysing a ledger sees the same
    answers while others are made from it, twice from the same one or one after another."""
    cascades, acks = rows(s)
    part = {id(e): rnd.choice("pab") for e in cascades + acks}
    def share(name: str) -> tuple[list, list]:
        return ([e for e in cascades if part[id(e)] in name],
                [e for e in acks if part[id(e)] in name])
    scope = RequestScope(network_of(s), s.request)
    base = RequestLedger.of(scope, *share("p"))
    before = analyse(base, s.as_of)
    a = base.with_events(*share("a"))
    b = base.with_events(*share("b"))
    again = a.with_events(*share("b"))
    for ledger, name in ((base, "p"), (a, "pa"), (b, "pb"), (again, "pab")):
        seen, fresh = analyse(ledger, s.as_of), analyse(RequestLedger.of(scope, *share(name)),
                                                         s.as_of)
        assert states_by_id(seen) == states_by_id(fresh)
        assert seen.path_counts() == fresh.path_counts()
        assert seen.gaps() == fresh.gaps()
    assert states_by_id(analyse(base, s.as_of)) == states_by_id(before)


@PROPERTY
@given(scenarios(), st.randoms(use_true_random=False))
def test_a_network_grown_by_changes_answers_like_one_built_whole(s: Scenario, rnd) -> None:
    links = [(lk.buyer_id, lk.supplier_id, lk.category) for lk in s.links]
    start = rnd.sample(links, len(links) // 2)
    stale = {c: "other" for c in s.kinds if rnd.random() < 0.3}  # kinds fixed by the change
    network = CompactNetwork.build(stale | {s.request.issuer_id: "manufacturer"},
                                   [lk for lk in start if lk[0] in stale and lk[1] in stale])
    network = network.with_changes(dict(s.kinds), {(b, v): c for b, v, c in links})
    ref, fast = s.engine(), array_analysis(s, network)
    assert states_by_id(fast) == dict(ref.states)
    assert fast.gaps() == [(g.from_id, g.to_id, g.tier, g.impact) for g in gap_edges(ref)]
    assert fast.path_counts() == (path_counts(ref).total, path_counts(ref).covered)


@PROPERTY
@given(scenarios(), st.randoms(use_true_random=False))
def test_answers_folded_into_a_previous_analysis_give_the_fresh_one(s: Scenario, rnd) -> None:
    """The single-acknowledgement fast path (advance the previous analysis) must equal a
    full recomputation, whichever answers arrive and whether or not coverage shrinks."""
    cascades, acks = rows(s)
    scope = RequestScope(network_of(s), s.request)
    rnd.shuffle(acks)
    ledger = RequestLedger.of(scope, cascades, [])
    analysis = analyse(ledger, s.as_of)
    for ack in acks:
        ledger = ledger.with_events([], [ack])
        analysis = analyse(ledger, s.as_of, previous=analysis)
        fresh = ArrayAnalysis(ledger, s.as_of)
        assert states_by_id(analysis) == states_by_id(fresh)
        assert (analysis.covered == fresh.covered).all()
        assert analysis.path_counts() == fresh.path_counts()
        assert analysis.good().tolist() == fresh.good().tolist()  # every group's sums
        assert analysis.gaps() == fresh.gaps()
        assert analysis.state_counts() == fresh.state_counts()
        assert analysis.coverage_ratio == fresh.coverage_ratio
        assert analysis.valid_until() == fresh.valid_until()  # exact: names a state
        assert to_epoch_us(s.as_of) < analysis.recheck_at <= fresh.valid_until()
        assert judged(analysis)  # the advanced analysis satisfies every definition


@PROPERTY
@given(scenarios(), st.lists(st.tuples(st.booleans(), st.integers(-1, 1),
                                       st.integers(0, 2 * 24 * 3600 * 10**6)), max_size=6))
def test_an_analysis_carried_forward_in_time_gives_the_fresh_one(
        s: Scenario, steps: list[tuple[bool, int, int]]) -> None:
    """Polled again later, an analysis is advanced past due dates and expiries (only the
    companies the clock turned are re-stated): it must equal a full recomputation at
    every instant, a microsecond either side of the next boundary included."""
    cascades, acks = rows(s)
    ledger = RequestLedger.of(RequestScope(network_of(s), s.request), cascades, acks)
    at = max(to_epoch_us(s.as_of), ledger.latest)
    analysis = analyse(ledger, from_epoch_us(at))
    for to_boundary, nudge, wait in steps:
        turns = analysis.valid_until()
        at = max(at, turns + nudge) if to_boundary and turns < NEVER else at + wait
        analysis = analyse(ledger, from_epoch_us(at), previous=analysis)
        fresh = ArrayAnalysis(ledger, from_epoch_us(at))
        assert states_by_id(analysis) == states_by_id(fresh)
        assert (analysis.covered == fresh.covered).all()
        assert analysis.path_counts() == fresh.path_counts()
        assert analysis.gaps() == fresh.gaps()
        assert analysis.state_counts() == fresh.state_counts()
        assert analysis.coverage_ratio == fresh.coverage_ratio
        assert analysis.valid_until() == fresh.valid_until()
        assert analysis.recheck_at == fresh.valid_until()  # exact again once turned


@PROPERTY
@given(scenarios(), st.randoms(use_true_random=False))
def test_a_network_and_ledger_from_columns_answer_like_the_reference(s: Scenario, rnd) -> None:
    """The cold start's path (`load_snapshot` columns, rows in any order) gives every
    figure the reference gives."""
    cascades, acks = rows(s)
    links = [(lk.buyer_id, lk.supplier_id, lk.category) for lk in s.links]
    for shuffled in (links, cascades, acks):
        rnd.shuffle(shuffled)
    snap = snapshot_of(Network(dict(s.kinds), links), {"r": RequestEvents(cascades, acks)})
    network = CompactNetwork.from_columns(snap.ids, snap.kinds, snap.buyer, snap.supplier,
                                          snap.category, snap.categories)
    events = snap.events["r"]
    status = np.array([ACK_STATUSES.index(name) for name in STORE_STATUSES])
    scope = RequestScope(network, s.request)
    ledger = RequestLedger.of_columns(
        scope, (events.cascade_from, events.cascade_to, events.cascade_sent),
        (events.ack_company, status[events.ack_status], events.ack_at, events.ack_seq))
    ref, fast = s.engine(), analyse(ledger, s.as_of)
    assert states_by_id(fast) == dict(ref.states)
    assert fast.gaps() == [(g.from_id, g.to_id, g.tier, g.impact) for g in gap_edges(ref)]
    assert fast.path_counts() == (path_counts(ref).total, path_counts(ref).covered)


def test_two_to_the_seventy_paths_are_counted_exactly_past_int64() -> None:
    """Counts past 2^62 switch to Python integers, in both engines."""
    from api_tests.test_engine_examples import HOUR, T, accepted, answer, layered, request, sent
    from api_tests.test_engine_examples import analyse as reference

    graph, arrows = layered(70)
    acks = [*accepted(*(n for n in graph if n != "f")),
            answer("l40b", "declined", at=T + HOUR, seq=999)]
    ref = reference(graph, cascades=sent(*arrows), acks=acks)
    links = [(buyer, supplier, "components") for buyer, supplier in graph.edges]
    scope = RequestScope(CompactNetwork.build(dict.fromkeys(graph, "manufacturer"), links),
                         request())
    fast = analyse(RequestLedger.of(
        scope, [(e.from_id, e.to_id, to_epoch_us(e.sent_at)) for e in sent(*arrows)],
        [(a.company_id, str(a.status), to_epoch_us(a.at), a.seq) for a in acks]), ref.as_of)
    expected = path_counts(ref)
    assert fast.path_counts() == (expected.total, expected.covered) == (2**70, 2**69)


@given(st.lists(st.integers(-1, 6), max_size=200), st.integers(0, 3))
def test_the_counted_grouping_is_numpys_stable_argsort(values: list[int], extra: int) -> None:
    """Groups, group links and suppliers are ordered by `grouped`; ties must keep their
    order (the paths' order depends on it), -1 (no group link) included, and each value
    starts where a search of the sorted values finds it."""
    n = max(values, default=-1) + 1 + extra
    array = np.array(values, dtype=np.int64)
    order, begin = grouped(array, n)
    assert order.tolist() == np.argsort(array, kind="stable").tolist()
    assert begin.tolist() == np.searchsorted(np.sort(array), np.arange(n + 1)).tolist()


@given(st.lists(st.integers(-1, 6), max_size=50), st.integers(0, 3))
def test_counted_starts_are_where_a_search_finds_them(values: list[int], extra: int) -> None:
    n = max(values, default=-1) + 1 + extra  # values below n, some of 0..n never present
    array = np.array(values, dtype=np.int64)
    assert starts(array, n).tolist() == np.searchsorted(np.sort(array), np.arange(n + 1)).tolist()
