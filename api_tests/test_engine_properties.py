"""The coverage engine against the brute-force oracle on small random supplier graphs.

Graphs have up to 9 companies, acyclic or with cycles, 2-3 link categories, random kinds
and applicability; cascade events, acknowledgement histories (ties on `at` included) and
`as_of` land on a 12-hour grid, with `as_of` nudged by a microsecond either way so the
due and validity boundaries are hit exactly and just past.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api_tests.oracle import (
    Oracle,
    break_points,
    first_failure,
    oracle,
    oracle_paths,
    path_shape_problems,
    simple_paths,
)
from graph_models.models import (
    Acknowledgement,
    Applicability,
    CascadeEvent,
    CompanyKind,
    PolicyRequest,
    SupplyLink,
)
from graph_models.reference.analysis import (
    CoverageAnalysis,
    analyse_coverage,
    gap_edges,
    is_covered_chain,
    supply_graph,
    tier_table,
)
from graph_models.reference.paths import path_counts, uncovered_paths

T0 = datetime(2026, 1, 1, tzinfo=UTC)
TICK = timedelta(hours=12)
CATEGORIES = ["components", "raw_materials", "construction"]
KINDS = [CompanyKind.manufacturer, CompanyKind.smelter, CompanyKind.contractor]
PROPERTY = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@dataclass
class Scenario:
    kinds: dict[str, str]
    links: list[SupplyLink]
    request: PolicyRequest
    cascades: list[CascadeEvent]
    acks: list[Acknowledgement]
    as_of: datetime

    def engine(self) -> CoverageAnalysis:
        graph = supply_graph(self.kinds, self.links)
        return analyse_coverage(graph, self.request, self.cascades, self.acks, self.as_of)

    def oracle(self) -> Oracle:
        return oracle(self.kinds, self.links, self.request, self.cascades, self.acks, self.as_of)


def supply_links(draw: st.DrawFn, names: list[str], cyclic: bool) -> list[SupplyLink]:
    """A random forest hanging from the issuer c0, extra links, and (if cyclic) a few
    links back up the forest closing cycles below the issuer."""
    parents = [draw(st.sampled_from([*names[:i] * 4, None])) for i in range(1, len(names))]
    edges = {(p, c) for p, c in zip(parents, names[1:], strict=True) if p is not None}
    pairs = [(a, b) for a in names for b in names if (a != b if cyclic else a < b)]
    if pairs:
        edges |= set(draw(st.lists(st.sampled_from(pairs), max_size=8)))
    backs = sorted((b, a) for a, b in edges if a != "c0") if cyclic else []
    if backs:
        edges |= set(draw(st.lists(st.sampled_from(backs), max_size=3)))
    categories = CATEGORIES[: draw(st.integers(2, 3))]
    return [SupplyLink(buyer_id=u, supplier_id=v, category=draw(st.sampled_from(categories)))
            for u, v in sorted(edges)]


def applicability(draw: st.DrawFn, links: list[SupplyLink]) -> Applicability:
    categories = sorted({lk.category for lk in links}) or CATEGORIES[:1]
    mode = draw(st.sampled_from(["all", "all", "categories", "kinds", "both"]))
    some = st.lists(st.sampled_from(categories), unique=True, min_size=1)
    few = st.lists(st.sampled_from(KINDS), unique=True, min_size=1)
    return Applicability(
        categories=draw(some) if mode in ("categories", "both") else None,
        kinds=draw(few) if mode in ("kinds", "both") else None,
    )


@st.composite
def scenarios(draw: st.DrawFn, cyclic: bool | None = None) -> Scenario:
    names = [f"c{i}" for i in range(draw(st.integers(1, 9)))]
    links = supply_links(draw, names, draw(st.booleans()) if cyclic is None else cyclic)
    # Keen suppliers forward and accept nearly always, so covered paths (and cycles of
    # covered companies) are common; few distinct instants make ties and exact boundaries
    # common.
    keen = draw(st.booleans())
    request = PolicyRequest(
        id="r2", topic="conflict_minerals", title="Minerals 2026", version="2", issuer_id="c0",
        issued_at=T0, due_days=draw(st.integers(0, 2)),
        valid_days=draw(st.none() | st.integers(3 if keen else 1, 3)),
        applies_to=applicability(draw, links), supersedes="r1",
    )
    tick = st.integers(0, 6).map(lambda k: T0 + k * TICK)
    how_many = st.sampled_from([1] * 9 + [0] if keen else [1, 1, 1, 2, 0])
    status = st.sampled_from(["accepted"] * (20 if keen else 4) + ["received", "declined"])
    version = st.sampled_from(["r2"] * 5 + ["r1"])  # r1: the superseded version
    cascades = [
        CascadeEvent(request_id=draw(version), from_id=lk.buyer_id, to_id=lk.supplier_id,
                     sent_at=at)
        for lk in links for at in [draw(tick) for _ in range(draw(how_many))]
    ]
    answers = [
        (c, draw(status), draw(tick), draw(version))
        for c in names for _ in range(draw(how_many))
    ]
    order = draw(st.permutations(range(len(answers))))  # recording order, ties on `at`
    acks = [Acknowledgement(request_id=rid, company_id=c, status=s, at=at, seq=seq)
            for (c, s, at, rid), seq in zip(answers, order, strict=True)]
    as_of = T0 + draw(st.integers(6 if keen else 0, 12)) * TICK
    nudge = draw(st.sampled_from([timedelta(0), timedelta(microseconds=1),
                                  -timedelta(microseconds=1)]))
    kinds = {c: str(draw(st.sampled_from(KINDS))) for c in names}
    return Scenario(kinds, links, request, cascades, acks, as_of + nudge)


def group_sequence(o: Oracle, companies: list[str]) -> tuple[frozenset[str], ...]:
    groups: list[frozenset[str]] = []
    for v in companies:
        g = o.group_of(v)
        if not groups or groups[-1] != g:
            groups.append(g)
    return tuple(groups)


def all_uncovered(analysis: CoverageAnalysis, limit: int, target: str | None) -> list:
    """Walk every page; check the cursors as we go."""
    listed, start = [], 0
    while True:
        page, following = uncovered_paths(analysis, start=start, limit=limit, target=target)
        listed.extend(page)
        if following is None:
            return listed
        assert following == start + limit and len(page) == limit
        start = following


@PROPERTY
@given(scenarios())
def test_states_and_first_reached_match_the_oracle(s: Scenario) -> None:
    a, o = s.engine(), s.oracle()
    assert {v: state.value for v, state in a.states.items()} == o.states
    assert dict(a.first_reached) == o.first_reached


@PROPERTY
@given(scenarios())
def test_covered_set_and_ratio_match_the_oracle(s: Scenario) -> None:
    a, o = s.engine(), s.oracle()
    assert set(a.covered) == o.covered
    assert a.coverage_ratio == pytest.approx(o.coverage_ratio)


@PROPERTY
@given(scenarios())
def test_gaps_match_the_oracle(s: Scenario) -> None:
    a, o = s.engine(), s.oracle()
    gaps = gap_edges(a)
    assert {(g.from_id, g.to_id, g.impact) for g in gaps} == o.gaps
    assert len(gaps) == len(o.gaps)
    assert all(g.tier == o.tiers[g.to_id] for g in gaps)
    assert [g.impact for g in gaps] == sorted((g.impact for g in gaps), reverse=True)


@PROPERTY
@given(scenarios())
def test_tiers_and_tier_table_match_the_oracle(s: Scenario) -> None:
    a, o = s.engine(), s.oracle()
    assert dict(a.tiers) == o.tiers
    table = tier_table(a)
    assert sum(row["companies"] for row in table) == len(o.tiers)
    for row in table:
        members = [v for v, t in o.tiers.items() if t == row["tier"]]
        assert row["companies"] == len(members)
        for state in {o.states[v] for v in members}:
            assert row[state] == sum(o.states[v] == state for v in members)


@PROPERTY
@given(scenarios())
def test_path_counts_match_the_oracle(s: Scenario) -> None:
    a, o = s.engine(), s.oracle()
    expected = oracle_paths(o, level="group")
    counts = path_counts(a)
    assert (counts.total, counts.covered, counts.uncovered) == (
        expected.total, expected.covered, expected.uncovered_count)
    if o.is_acyclic():
        by_company = oracle_paths(o, level="company")
        assert (by_company.total, by_company.covered) == (expected.total, expected.covered)


@PROPERTY
@given(scenarios(), st.integers(0, 8))
def test_path_counts_to_a_target_match_the_oracle(s: Scenario, pick: int) -> None:
    a, o = s.engine(), s.oracle()
    target = f"c{pick}"
    expected = oracle_paths(o, target, level="group")
    counts = path_counts(a, target=target)
    assert (counts.total, counts.covered) == (expected.total, expected.covered)
    if o.is_acyclic():
        by_company = oracle_paths(o, target, level="company")
        assert (by_company.total, by_company.covered) == (expected.total, expected.covered)


@PROPERTY
@given(scenarios(cyclic=False), st.integers(1, 4), st.none() | st.integers(0, 8))
def test_uncovered_pages_on_acyclic_graphs_are_the_oracles_paths(
    s: Scenario, limit: int, pick: int | None
) -> None:
    a, o = s.engine(), s.oracle()
    target = None if pick is None else f"c{pick}"
    listed = all_uncovered(a, limit, target)
    expected = oracle_paths(o, target, level="company")
    assert len(listed) == expected.uncovered_count == path_counts(a, target=target).uncovered
    assert {tuple(p.companies) for p in listed} == expected.uncovered
    for p in listed:
        assert path_shape_problems(o, p.companies, target) == []
        assert (p.break_index, p.reason) == first_failure(o, p.companies)


@PROPERTY
@given(scenarios(cyclic=True), st.integers(1, 4), st.none() | st.integers(0, 8))
def test_uncovered_pages_on_cyclic_graphs_are_the_oracles_group_paths(
    s: Scenario, limit: int, pick: int | None
) -> None:
    a, o = s.engine(), s.oracle()
    target = None if pick is None else f"c{pick}"
    listed = all_uncovered(a, limit, target)
    expected = oracle_paths(o, target, level="group")
    groups = [group_sequence(o, p.companies) for p in listed]
    assert len(listed) == expected.uncovered_count
    assert len(set(groups)) == len(groups)
    assert set(groups) == expected.uncovered
    for p in listed:
        # A leaf group may be a cycle, so the path ends in a leaf group; a target is the end.
        assert path_shape_problems(o, p.companies, target, strict_end=target is not None) == []
        assert (p.break_index, p.reason) in break_points(o, p.companies)


@PROPERTY
@given(scenarios())
def test_is_covered_chain_agrees_with_the_oracle(s: Scenario) -> None:
    a, o = s.engine(), s.oracle()
    witnessed = set()
    for chain in simple_paths(o.adj, o.root):
        verdict = is_covered_chain(a, chain)
        assert verdict == o.chain_covered(chain)
        if verdict:
            witnessed.add(chain[-1])
        if len(chain) > 1:
            assert not is_covered_chain(a, chain[1:])
    assert witnessed == o.covered
