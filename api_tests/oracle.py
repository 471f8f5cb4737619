"""Brute-force oracle for "Coverage semantics" (DESIGN.md), written from the spec alone.

Deliberately naive and independent of ``graph_models.reference`` and ``graph_models.engine``:
plain adjacency sets, hand-written breadth-first search, and enumeration of every simple
path. Only for small graphs (a dozen companies at most).

* reached(v): some simple path of cascaded applicable links issuer -> ... -> v;
* covered(v): some such path whose every company after the issuer is acknowledged;
* path counts: on an acyclic request every root-to-leaf simple path is enumerated; in
  general the strongly connected groups are found by mutual reachability and every
  root-group-to-leaf-group path of the group DAG is enumerated (the group-level
  definition of ``graph_models.reference.paths``).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from graph_models.models import (
    Acknowledgement,
    CascadeEvent,
    PolicyRequest,
    SupplyLink,
)

__all__ = [
    "Oracle",
    "PathOracle",
    "break_points",
    "first_failure",
    "oracle",
    "oracle_paths",
    "path_shape_problems",
    "simple_paths",
]

Adjacency = Mapping[str, set[str]]


def simple_paths(adj: Adjacency, source: str) -> Iterator[list[str]]:
    """Every simple path that starts at `source` (the one-company path included)."""
    path = [source]

    def walk() -> Iterator[list[str]]:
        yield list(path)
        for nxt in sorted(adj.get(path[-1], ())):
            if nxt not in path:
                path.append(nxt)
                yield from walk()
                path.pop()

    yield from walk()


def bfs_distances(adj: Adjacency, source: str) -> dict[str, int]:
    dist = {source: 0}
    queue = deque([source])
    while queue:
        u = queue.popleft()
        for v in adj.get(u, ()):
            if v not in dist:
                dist[v] = dist[u] + 1
                queue.append(v)
    return dist


def _adjacency(pairs: Iterable[tuple[str, str]]) -> dict[str, set[str]]:
    adj: dict[str, set[str]] = {}
    for u, v in pairs:
        adj.setdefault(u, set()).add(v)
    return adj


@dataclass
class Oracle:
    root: str
    tiers: dict[str, int]  # every company inside the request (reachable over all links)
    request: set[str]  # reachable over applicable links, issuer included
    links: set[tuple[str, str]]  # applicable links among `request`
    cascaded: set[tuple[str, str]]
    reached: set[str]
    first_reached: dict[str, datetime]
    states: dict[str, str]
    covered: set[str]
    coverage_ratio: float
    gaps: set[tuple[str, str, int]]

    @property
    def adj(self) -> dict[str, set[str]]:
        return _adjacency(self.links)

    def chain_covered(self, chain: list[str]) -> bool:
        """Every link cascaded, every company after the issuer acknowledged."""
        return (
            bool(chain)
            and chain[0] == self.root
            and all(p in self.cascaded for p in zip(chain, chain[1:], strict=False))
            and all(self.states[v] == "acknowledged" for v in chain[1:])
        )

    def is_acyclic(self) -> bool:
        adj = self.adj
        return not any(v in bfs_distances(adj, w) for v in self.request for w in adj.get(v, ()))

    def group_of(self, v: str) -> frozenset[str]:
        """v's strongly connected group: companies that reach v and that v reaches."""
        adj = self.adj
        down = bfs_distances(adj, v)
        return frozenset(w for w in down if v in bfs_distances(adj, w))


def _current_answer(
    acks: Iterable[Acknowledgement], request_id: str, company: str, as_of: datetime
) -> Acknowledgement | None:
    mine = [
        a for a in acks if a.request_id == request_id and a.company_id == company and a.at <= as_of
    ]
    return max(mine, key=lambda a: (a.at, a.seq)) if mine else None


def _state(
    request: PolicyRequest, first: datetime | None, answer: Acknowledgement | None, as_of: datetime
) -> str:
    if first is None:
        return "unreached"
    if answer is not None and answer.status == "accepted":
        valid = request.valid_days
        if valid is not None and as_of > answer.at + timedelta(days=valid):
            return "expired"
        return "acknowledged"
    if answer is not None and answer.status == "declined":
        return "declined"
    return "overdue" if as_of > first + timedelta(days=request.due_days) else "pending"


def oracle(
    kinds: Mapping[str, str],
    links: Iterable[SupplyLink],
    request: PolicyRequest,
    cascades: Iterable[CascadeEvent],
    acks: Iterable[Acknowledgement],
    as_of: datetime,
) -> Oracle:
    """Everything the spec says about `request` at `as_of`, by brute force."""
    links, cascades, acks = list(links), list(cascades), list(acks)
    root, rule = request.issuer_id, request.applies_to

    def applies(link: SupplyLink) -> bool:
        kind = str(kinds.get(link.supplier_id, "other"))
        cat_ok = rule.categories is None or link.category in rule.categories
        kind_ok = rule.kinds is None or kind in [str(k) for k in rule.kinds]
        return cat_ok and kind_ok

    tiers = bfs_distances(_adjacency(lk.key for lk in links), root)
    applicable = _adjacency(lk.key for lk in links if applies(lk))
    inside = set(bfs_distances(applicable, root))
    sub_links = {(u, v) for u in inside for v in applicable.get(u, ())}

    events = [
        e for e in cascades
        if e.request_id == request.id and e.sent_at <= as_of and (e.from_id, e.to_id) in sub_links
    ]
    cascaded = {(e.from_id, e.to_id) for e in events}
    reached = {p[-1] for p in simple_paths(_adjacency(cascaded), root) if len(p) > 1}
    first: dict[str, datetime] = {}
    for e in events:
        if e.to_id in reached and (e.from_id == root or e.from_id in reached):
            first[e.to_id] = min(first.get(e.to_id, e.sent_at), e.sent_at)

    states: dict[str, str] = {v: "not_applicable" for v in tiers if v not in inside}
    for v in inside:
        answer = _current_answer(acks, request.id, v, as_of)
        states[v] = "issuer" if v == root else _state(request, first.get(v), answer, as_of)

    covered = {root} | {
        p[-1]
        for p in simple_paths(_adjacency(cascaded), root)
        if all(states[v] == "acknowledged" for v in p[1:])
    }
    population = len(inside) - 1
    ratio = (len(covered) - 1) / population if population else 1.0

    gaps = set()
    for u, v in sub_links:
        if (u, v) not in cascaded and (u == root or states[u] == "acknowledged"):
            upstream = set(bfs_distances(applicable, v))
            gaps.add((u, v, len(upstream - covered)))

    return Oracle(
        root=root, tiers=tiers, request=inside, links=sub_links, cascaded=cascaded,
        reached=reached, first_reached=first, states=states, covered=covered,
        coverage_ratio=ratio, gaps=gaps,
    )


@dataclass
class PathOracle:
    total: int
    covered: int
    uncovered: set[tuple]  # company tuples (acyclic) or group tuples (group level)

    @property
    def uncovered_count(self) -> int:
        return self.total - self.covered


def _company_paths(o: Oracle, target: str | None) -> PathOracle:
    adj = o.adj
    if target is None:
        ends = {v for v in o.request if not adj.get(v)}
    else:
        ends = {target} & o.request
    paths = [tuple(p) for p in simple_paths(adj, o.root) if p[-1] in ends]
    good = [p for p in paths if o.chain_covered(list(p))]
    return PathOracle(len(paths), len(good), set(paths) - set(good))


def _group_paths(o: Oracle, target: str | None) -> PathOracle:
    if target is not None and target not in o.request:
        return PathOracle(0, 0, set())
    groups = {v: o.group_of(v) for v in o.request}
    step: dict[tuple[frozenset, frozenset], list[tuple[str, str]]] = {}
    for u, v in o.links:
        if groups[u] != groups[v]:
            step.setdefault((groups[u], groups[v]), []).append((u, v))
    gadj = _adjacency(step)
    leaves = {g for g in groups.values() if not gadj.get(g)}
    ends = {groups[target]} if target is not None else leaves
    simple = _group_simple_paths(gadj, groups[o.root])
    paths = [tuple(p) for p in simple if p[-1] in ends]

    def covered(path: tuple) -> bool:
        members_ok = all(v in o.covered or v == o.root for g in path for v in g)
        steps_ok = all(
            any(link in o.cascaded for link in step[(g, h)])
            for g, h in zip(path, path[1:], strict=False)
        )
        return members_ok and steps_ok

    good = [p for p in paths if covered(p)]
    return PathOracle(len(paths), len(good), set(paths) - set(good))


def _group_simple_paths(gadj: Mapping, source: frozenset) -> Iterator[list[frozenset]]:
    path = [source]

    def walk() -> Iterator[list[frozenset]]:
        yield list(path)
        for nxt in gadj.get(path[-1], ()):
            if nxt not in path:
                path.append(nxt)
                yield from walk()
                path.pop()

    yield from walk()


def oracle_paths(o: Oracle, target: str | None = None, *, level: str = "auto") -> PathOracle:
    """Root-to-leaf (or root-to-target) path counts and the uncovered paths.

    ``level="company"`` enumerates company paths (only meaningful when acyclic),
    ``level="group"`` the paths of the group DAG; ``auto`` picks company when acyclic.
    """
    if level == "auto":
        level = "company" if o.is_acyclic() else "group"
    if level == "company":
        if target is not None and target not in o.request:
            return PathOracle(0, 0, set())
        return _company_paths(o, target)
    return _group_paths(o, target)


def first_failure(o: Oracle, chain: list[str]) -> tuple[int, str] | None:
    """The first missing cascade or first company not acknowledged along `chain`."""
    for i in range(1, len(chain)):
        if (chain[i - 1], chain[i]) not in o.cascaded:
            return i, "not_cascaded"
        if o.states[chain[i]] != "acknowledged":
            return i, o.states[chain[i]]
    return None


def break_points(o: Oracle, chain: list[str]) -> set[tuple[int, str]]:
    """Acceptable (break_index, reason) of a listed uncovered path, as the engine's
    docstring words it: the first failure along the chain; for a chain that is fine
    itself, the first company whose cycle group holds an uncovered company off the chain,
    with that company's state (``not_cascaded`` when it is acknowledged but not covered)."""
    failure = first_failure(o, chain)
    if failure is not None:
        return {failure}
    for i, v in enumerate(chain):
        off_chain = [w for w in o.group_of(v) if w not in o.covered and w not in chain]
        if off_chain:
            return {
                (i, "not_cascaded" if o.states[w] == "acknowledged" else o.states[w])
                for w in off_chain
            }
    return set()


def path_shape_problems(
    o: Oracle, companies: list[str], target: str | None = None, *, strict_end: bool = True
) -> list[str]:
    """What is wrong with a listed path: not from the issuer, not along links of the
    request, repeated companies, or not ending at a leaf / the target (`strict_end`: the
    last company itself; otherwise its group)."""
    problems = []
    if not companies or companies[0] != o.root:
        problems.append(f"does not start at the issuer: {companies}")
    if len(set(companies)) != len(companies):
        problems.append(f"repeats a company: {companies}")
    for pair in zip(companies, companies[1:], strict=False):
        if pair not in o.links:
            problems.append(f"{pair} is not a link of the request")
    if not companies:
        return problems
    last, adj = companies[-1], o.adj
    if target is not None:
        if strict_end and last != target:
            problems.append(f"ends at {last}, not at the target {target}")
        if not strict_end and o.group_of(last) != o.group_of(target):
            problems.append(f"ends at {last}, outside the target's group")
    else:
        group = o.group_of(last)
        leaves_group = any(w not in group for v in group for w in adj.get(v, ()))
        if strict_end and adj.get(last):
            problems.append(f"ends at {last}, which is not a leaf")
        if leaves_group:
            problems.append(f"ends at {last}, whose group is not a leaf group")
    return problems
