"""Reference coverage of one request on networkx: states, coverage, gaps (the oracle).

Not what runs: the service runs the array engine (`graph_models.engine`), and the tests
check that engine against this one on random graphs; this one is in turn checked against
the brute-force oracle of the tests. Written for clarity over speed.

The supplier graph is an ``nx.DiGraph`` with an edge ``buyer -> supplier`` per supply link
(edge attribute ``category``) and a node attribute ``kind``; requests travel along the edge
direction. Semantics follow DESIGN.md ("Coverage semantics"):

* the *request subgraph* holds the links the request applies to, among the companies the
  issuer reaches over such links;
* ``reached``: a chain of cascade events issuer -> ... -> v exists (events at or before
  ``as_of``, over links of the request subgraph);
* ``covered``: such a chain exists whose every company after the issuer is acknowledged;
* a *gap* is an applicable link u -> v with no cascade event where u is the issuer or u's
  own state is ``acknowledged``; its impact is the number of companies upstream of v
  (v included) that are not covered.

Tier is the shortest link distance from the issuer over all links, so a company keeps
the tier the supply network gives it whichever request is asked about.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import networkx as nx

from graph_models.models import (
    Acknowledgement,
    AckStatus,
    CascadeEvent,
    NodeState,
    PolicyRequest,
    SupplyLink,
)

__all__ = [
    "CoverageAnalysis",
    "Gap",
    "analyse_coverage",
    "current_answers",
    "gap_edges",
    "is_covered_chain",
    "request_subgraph",
    "state_counts",
    "supply_graph",
    "tier_table",
]


@dataclass(frozen=True)
class Gap:
    """A break point: `from_id` should forward the request to its supplier `to_id`."""

    from_id: str
    to_id: str
    tier: int
    impact: int


@dataclass(frozen=True)
class CoverageAnalysis:
    """Everything known about one request at one instant; inputs to the path functions."""

    request: PolicyRequest
    as_of: datetime
    subgraph: nx.DiGraph  # applicable links among companies reachable over them
    cascaded: frozenset[tuple[str, str]]  # links of the subgraph with a cascade event
    states: Mapping[str, NodeState]  # every company inside the request
    tiers: Mapping[str, int]
    covered: frozenset[str]
    first_reached: Mapping[str, datetime] = field(default_factory=dict)

    @property
    def root(self) -> str:
        return self.request.issuer_id

    @property
    def coverage_ratio(self) -> float:
        """Covered companies over companies reachable over applicable links (issuer
        excluded); 1.0 when there is nobody to cover."""
        population = self.subgraph.number_of_nodes() - 1
        return (len(self.covered) - 1) / population if population > 0 else 1.0


def supply_graph(kinds: Mapping[str, str], links: Iterable[SupplyLink]) -> nx.DiGraph:
    """The supplier graph: one node per company, one edge buyer -> supplier per link.

    Examples
    --------
    >>> g = supply_graph({"a": "manufacturer", "b": "smelter"}, [SupplyLink(buyer_id="a",
    ...     supplier_id="b", category="raw_materials")])
    >>> g.edges["a", "b"]["category"], g.nodes["b"]["kind"]
    ('raw_materials', 'smelter')
    """
    graph = nx.DiGraph()
    graph.add_nodes_from((cid, {"kind": kind}) for cid, kind in kinds.items())
    graph.add_edges_from((lk.buyer_id, lk.supplier_id, {"category": lk.category}) for lk in links)
    return graph


def request_subgraph(graph: nx.DiGraph, request: PolicyRequest) -> nx.DiGraph:
    """Links the request applies to, among companies the issuer reaches over them."""
    root = request.issuer_id
    rule = request.applies_to
    applicable = nx.DiGraph()
    applicable.add_node(root)
    applicable.add_edges_from(
        (u, v)
        for u, v, category in graph.edges(data="category")
        if rule.applies(category, graph.nodes[v].get("kind", "other"))
    )
    inside = nx.descendants(applicable, root) | {root}
    # Built in the supply graph's order, not the set's: listings must not depend on the
    # per-process hash seed, or two workers would answer one cursor differently.
    subgraph = nx.DiGraph()
    subgraph.add_nodes_from(v for v in applicable if v in inside)
    subgraph.add_edges_from((u, v) for u, v in applicable.edges if u in inside)
    return subgraph


def current_answers(
    acks: Iterable[Acknowledgement], as_of: datetime
) -> dict[str, Acknowledgement]:
    """Each company's current answer: latest `at` not after `as_of`, ties to later `seq`."""
    current: dict[str, Acknowledgement] = {}
    for ack in acks:
        if ack.at > as_of:
            continue
        held = current.get(ack.company_id)
        if held is None or (ack.at, ack.seq) > (held.at, held.seq):
            current[ack.company_id] = ack
    return current


def _cascade_times(
    subgraph: nx.DiGraph, request_id: str, cascades: Iterable[CascadeEvent], as_of: datetime
) -> dict[tuple[str, str], datetime]:
    """Earliest sent_at per request-subgraph link among this request's events not after
    `as_of` (a superseded version's forwards do not carry the new one)."""
    sent: dict[tuple[str, str], datetime] = {}
    for event in cascades:
        key = (event.from_id, event.to_id)
        if event.request_id == request_id and event.sent_at <= as_of and subgraph.has_edge(*key):
            sent[key] = min(event.sent_at, sent.get(key, event.sent_at))
    return sent


def _first_reached(
    root: str, sent: Mapping[tuple[str, str], datetime]
) -> dict[str, datetime]:
    """When each reached company was first reached: earliest event into it from the
    issuer or a reached company."""
    chain = nx.DiGraph(list(sent))
    chain.add_node(root)
    reached = nx.descendants(chain, root)
    first: dict[str, datetime] = {}
    for (u, v), at in sent.items():
        if v in reached and (u == root or u in reached):
            first[v] = min(at, first.get(v, at))
    return first


def _own_state(
    request: PolicyRequest,
    first_reached: datetime | None,
    answer: Acknowledgement | None,
    as_of: datetime,
) -> NodeState:
    if first_reached is None:
        return NodeState.unreached
    if answer is not None and answer.status == AckStatus.accepted:
        expired = request.valid_days is not None and as_of > answer.at + timedelta(
            days=request.valid_days
        )
        return NodeState.expired if expired else NodeState.acknowledged
    if answer is not None and answer.status == AckStatus.declined:
        return NodeState.declined
    return NodeState.overdue if as_of > first_reached + request.due else NodeState.pending


def _covered(
    root: str, cascaded: Iterable[tuple[str, str]], states: Mapping[str, NodeState]
) -> frozenset[str]:
    """Companies reached by a cascade chain whose every company after the root is
    acknowledged."""
    chain = nx.DiGraph(
        (u, v)
        for u, v in cascaded
        if states[v] == NodeState.acknowledged
        and (u == root or states[u] == NodeState.acknowledged)
    )
    chain.add_node(root)
    return frozenset(nx.descendants(chain, root) | {root})


def analyse_coverage(
    graph: nx.DiGraph,
    request: PolicyRequest,
    cascades: Iterable[CascadeEvent],
    acks: Iterable[Acknowledgement],
    as_of: datetime,
) -> CoverageAnalysis:
    """States, tiers and coverage of `request` at `as_of`.

    Examples
    --------
    >>> from datetime import datetime, UTC
    >>> t = datetime(2026, 1, 1, tzinfo=UTC)
    >>> g = supply_graph({"focal": "manufacturer", "s1": "manufacturer"},
    ...                  [SupplyLink(buyer_id="focal", supplier_id="s1")])
    >>> r = PolicyRequest(id="bcp", topic="business_continuity", title="BCP",
    ...                   issuer_id="focal", issued_at=t)
    >>> a = analyse_coverage(g, r, [CascadeEvent(request_id="bcp", from_id="focal",
    ...     to_id="s1", sent_at=t)], [], as_of=t)
    >>> a.states["s1"].value, sorted(a.covered), a.coverage_ratio
    ('pending', ['focal'], 0.0)
    """
    root = request.issuer_id
    full = graph
    if root not in full:  # an issuer without links still answers: nobody to cover
        full = nx.DiGraph()
        full.add_node(root)
    tiers = nx.single_source_shortest_path_length(full, root)
    subgraph = request_subgraph(full, request)
    sent = _cascade_times(subgraph, request.id, cascades, as_of)
    first = _first_reached(root, sent)
    answers = current_answers((a for a in acks if a.request_id == request.id), as_of)
    states: dict[str, NodeState] = {
        v: NodeState.not_applicable for v in tiers if v not in subgraph
    }
    for v in subgraph:
        states[v] = (
            NodeState.issuer
            if v == root
            else _own_state(request, first.get(v), answers.get(v), as_of)
        )
    return CoverageAnalysis(
        request=request,
        as_of=as_of,
        subgraph=subgraph,
        cascaded=frozenset(sent),
        states=states,
        tiers=tiers,
        covered=_covered(root, sent, states),
        first_reached=first,
    )


def _uncovered_upstream(analysis: CoverageAnalysis) -> dict[str, int]:
    """For every company of the request subgraph, how many companies upstream of it
    (itself included) are not covered; exact, via bitsets on the component DAG."""
    sub = analysis.subgraph
    uncovered = sorted(v for v in sub if v not in analysis.covered)
    bit = {v: 1 << i for i, v in enumerate(uncovered)}
    dag = nx.condensation(sub)
    reach: dict[int, int] = {}
    for comp in reversed(list(nx.topological_sort(dag))):
        own = 0
        for v in dag.nodes[comp]["members"]:
            own |= bit.get(v, 0)
        for succ in dag.successors(comp):
            own |= reach[succ]
        reach[comp] = own
    mapping = dag.graph["mapping"]
    return {v: reach[mapping[v]].bit_count() for v in sub}


def gap_edges(analysis: CoverageAnalysis) -> list[Gap]:
    """Break points, most impactful first (then nearest tier, then ids).

    Examples
    --------
    >>> from datetime import datetime, UTC
    >>> t = datetime(2026, 1, 1, tzinfo=UTC)
    >>> g = supply_graph({"f": "manufacturer", "a": "manufacturer", "b": "smelter"},
    ...     [SupplyLink(buyer_id="f", supplier_id="a"), SupplyLink(buyer_id="a", supplier_id="b")])
    >>> r = PolicyRequest(id="r", topic="reach", title="REACH", issuer_id="f", issued_at=t)
    >>> gap_edges(analyse_coverage(g, r, [], [], as_of=t))
    [Gap(from_id='f', to_id='a', tier=1, impact=2)]
    """
    root, states = analysis.root, analysis.states
    candidates = [
        (u, v)
        for u, v in analysis.subgraph.edges
        if (u, v) not in analysis.cascaded
        and (u == root or states[u] == NodeState.acknowledged)
    ]
    if not candidates:
        return []
    impact = _uncovered_upstream(analysis)
    gaps = [Gap(u, v, analysis.tiers[v], impact[v]) for u, v in candidates]
    return sorted(gaps, key=lambda g: (-g.impact, g.tier, g.from_id, g.to_id))


def state_counts(analysis: CoverageAnalysis) -> dict[str, int]:
    """Number of companies in each state (every state listed, zeros included)."""
    counts = Counter(analysis.states.values())
    return {state.value: counts.get(state, 0) for state in NodeState}


def tier_table(analysis: CoverageAnalysis) -> list[dict[str, int]]:
    """Per tier: number of companies and number in each state."""
    rows: dict[int, Counter[str]] = {}
    for v, state in analysis.states.items():
        rows.setdefault(analysis.tiers[v], Counter())[state.value] += 1
    return [
        {"tier": tier, "companies": sum(c.values())}
        | {s.value: c.get(s.value, 0) for s in NodeState}
        for tier, c in sorted(rows.items())
    ]


def is_covered_chain(analysis: CoverageAnalysis, chain: list[str]) -> bool:
    """Checker: `chain` starts at the issuer, follows cascaded links and every company
    after the issuer is acknowledged.

    Examples
    --------
    >>> from datetime import datetime, UTC
    >>> t = datetime(2026, 1, 1, tzinfo=UTC)
    >>> g = supply_graph({"f": "manufacturer"}, [])
    >>> r = PolicyRequest(id="r", topic="reach", title="REACH", issuer_id="f", issued_at=t)
    >>> is_covered_chain(analyse_coverage(g, r, [], [], as_of=t), ["f"])
    True
    """
    if not chain or chain[0] != analysis.root:
        return False
    links_ok = all(pair in analysis.cascaded for pair in zip(chain, chain[1:], strict=False))
    return links_ok and all(analysis.states[v] == NodeState.acknowledged for v in chain[1:])
