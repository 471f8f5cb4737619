"""The coverage engine the service runs: DESIGN.md's coverage semantics on arrays.

Same answers as the networkx reference (`graph_models.coverage`, `graph_models.paths`),
which the tests check this against on random graphs; here every pass over companies or
links is a numpy or `scipy.sparse.csgraph` call, so a million links take milliseconds.

Three layers, each rebuilt only when what it depends on changes:

* `RequestScope`: the request over the network, whatever happened since it was issued:
  tiers, the request subgraph (applicable links among the companies the issuer reaches over
  them), its component DAG and path totals. Changes only with the network.
* `RequestLedger`: the request's cascade events and answers as arrays, folded for "now"
  (earliest forward per link, current answer per company). New events give a new ledger
  that folds only the new ones.
* `ArrayAnalysis`: states, covered set, gaps and path counts at one instant.

Times are integer microseconds since the epoch (UTC).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cached_property
from typing import NamedTuple

import numpy as np

from graph_models.compact import KINDS, CompactNetwork, ComponentDag, distances_from, reachable
from graph_models.models import NodeState, PolicyRequest, from_epoch_us, to_epoch_us

__all__ = [
    "STATES",
    "ArrayAnalysis",
    "RequestLedger",
    "RequestScope",
    "from_epoch_us",
    "to_epoch_us",
]

STATES: tuple[NodeState, ...] = tuple(NodeState)
_CODE = {state: np.int8(code) for code, state in enumerate(STATES)}
ACK_STATUSES = ("received", "accepted", "declined")
_STATUS_CODE = {status: code for code, status in enumerate(ACK_STATUSES)}
ACCEPTED, DECLINED = _STATUS_CODE["accepted"], _STATUS_CODE["declined"]
NEVER = np.iinfo(np.int64).max  # "no such time"
_DAY_US = 86_400_000_000
INT64_SAFE = 2.0**62  # path counts above this switch to exact Python integers


class RequestScope:
    """One request over one network: tiers, request subgraph and its component DAG."""

    def __init__(self, network: CompactNetwork, request: PolicyRequest) -> None:
        if request.issuer_id not in network.index:  # an issuer without links answers too
            network = network.with_changes({request.issuer_id: "other"}, {})
        self.network, self.request = network, request
        self.root = network.index[request.issuer_id]
        n = network.size
        self.tier = distances_from(network.graph, self.root)
        rule = request.applies_to
        table = np.array([[rule.applies(c, k) for k in KINDS] for c in network.categories],
                         dtype=bool).reshape(len(network.categories), len(KINDS))
        applicable = table[network.category, network.kind[network.dst]]
        self.inside = reachable(n, network.src[applicable], network.dst[applicable], self.root)
        self.link = np.flatnonzero(applicable & self.inside[network.src])
        self.src, self.dst = network.src[self.link], network.dst[self.link]
        self._totals: dict[int | None, np.ndarray] = {}

    @cached_property
    def sub_of_link(self) -> np.ndarray:
        """Network link position -> position in the request subgraph (-1 outside)."""
        sub = np.full(self.network.link_count, -1, dtype=np.int64)
        sub[self.link] = np.arange(self.link.size)
        return sub

    def subgraph_links(self, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
        """Subgraph position of each link src -> dst, -1 where it is not in the subgraph."""
        pos = self.network.link_positions(src, dst)
        return np.where(pos >= 0, self.sub_of_link[np.maximum(pos, 0)], -1)

    @cached_property
    def links_from(self) -> np.ndarray:
        """CSR row pointers of the subgraph links (they are sorted by buyer)."""
        return np.searchsorted(self.src, np.arange(self.network.size + 1))

    @cached_property
    def links_into(self) -> tuple[np.ndarray, np.ndarray]:
        """(subgraph links ordered by supplier, start of each supplier's links)."""
        order = np.argsort(self.dst, kind="stable")
        return order, np.searchsorted(self.dst[order], np.arange(self.network.size + 1))

    @cached_property
    def dag(self) -> ComponentDag:
        return ComponentDag.of(self.network.size, self.src, self.dst)

    def end_groups(self, target: int | None) -> np.ndarray:
        """Groups where a path ends: leaf groups, or the target's group."""
        if target is None:
            return self.dag.out_degree == 0
        return np.arange(self.dag.size) == self.dag.comp[target]

    def totals(self, target: int | None = None) -> np.ndarray:
        """Number of paths from each group to an end (exact; Python ints when huge)."""
        if target not in self._totals:
            is_end = self.end_groups(target)
            ones = np.ones(self.dag.size, dtype=np.int64)
            rough = self.dag.path_sums(is_end, ones, dtype=np.float64)
            dtype = object if rough.max(initial=0) >= INT64_SAFE else np.int64
            self._totals[target] = self.dag.path_sums(is_end, ones.astype(dtype), dtype=dtype)
        return self._totals[target]

    @cached_property
    def group_min_rank(self) -> np.ndarray:
        """Smallest member id (as a rank) per group: the stable order of successors."""
        rank = np.full(self.dag.size, np.iinfo(np.int64).max)
        np.minimum.at(rank, self.dag.comp, self.network.id_rank)
        return rank


class Reach(NamedTuple):
    """What a request's forwards decide on their own (answers aside)."""

    cascaded: np.ndarray  # per subgraph link
    reached: np.ndarray  # per company
    first: np.ndarray  # first reached, per company (NEVER if not)
    step_ok: np.ndarray  # per group link: some link behind it cascaded


class RequestLedger:
    """A request's events as arrays, with the folds for "now" kept up to date.

    Treat as immutable: `with_events` returns a new ledger and leaves this one intact, so a
    reader can keep analysing it while a writer folds in new events.
    """

    def __init__(self, scope: RequestScope) -> None:
        self.scope = scope
        empty = np.zeros(0, dtype=np.int64)
        self.cascade_from, self.cascade_to, self.cascade_sent = empty, empty, empty
        self.ack_company, self.ack_status, self.ack_at, self.ack_seq = (empty,) * 4
        self.cascade_link = empty  # subgraph position of each event's link, -1 outside
        self.link_sent = np.full(scope.link.size, NEVER, dtype=np.int64)
        self.answer = np.full(scope.network.size, -1, dtype=np.int64)  # index into acks
        self.latest = np.iinfo(np.int64).min
        self._reach: Reach | None = None

    @classmethod
    def of(
        cls,
        scope: RequestScope,
        cascades: Sequence[tuple[str, str, int]],
        acknowledgements: Sequence[tuple[str, str, int, int]],
    ) -> RequestLedger:
        return cls(scope).with_events(cascades, acknowledgements)

    def _copy(self) -> RequestLedger:
        clone = object.__new__(RequestLedger)
        clone.__dict__.update(self.__dict__)
        return clone

    def with_events(
        self,
        cascades: Sequence[tuple[str, str, int]],
        acknowledgements: Sequence[tuple[str, str, int, int]],
    ) -> RequestLedger:
        """A ledger with these events folded in. Idempotent: an answer whose `seq` is
        known is skipped, and a repeated forward only keeps the earliest `sent_at`."""
        ledger = self._copy()
        if cascades:
            ledger._add_cascades(cascades)
        if acknowledgements:
            ledger._add_answers(acknowledgements)
        return ledger

    def rebased(self, scope: RequestScope) -> RequestLedger:
        """The same events over a changed network (company indexes are stable)."""
        ledger = RequestLedger(scope)
        ledger.cascade_from, ledger.cascade_to = self.cascade_from, self.cascade_to
        ledger.cascade_sent = self.cascade_sent
        ledger.cascade_link = scope.subgraph_links(self.cascade_from, self.cascade_to)
        _fold_sent(ledger.link_sent, ledger.cascade_link, ledger.cascade_sent)
        for name in ("ack_company", "ack_status", "ack_at", "ack_seq", "latest"):
            setattr(ledger, name, getattr(self, name))
        ledger.answer = _grow(self.answer, scope.network.size)
        return ledger

    def _add_cascades(self, rows: Sequence[tuple[str, str, int]]) -> None:
        network = self.scope.network
        src = network.indexes(r[0] for r in rows)
        dst = network.indexes(r[1] for r in rows)
        sent = np.fromiter((r[2] for r in rows), dtype=np.int64, count=len(rows))
        link = self.scope.subgraph_links(src, dst)
        self.cascade_from = np.concatenate([self.cascade_from, src])
        self.cascade_to = np.concatenate([self.cascade_to, dst])
        self.cascade_sent = np.concatenate([self.cascade_sent, sent])
        self.cascade_link = np.concatenate([self.cascade_link, link])
        self.link_sent = self.link_sent.copy()
        _fold_sent(self.link_sent, link, sent)
        self.latest = max(self.latest, int(sent.max()))
        self._reach = None

    def _add_answers(self, rows: Sequence[tuple[str, str, int, int]]) -> None:
        seq = np.fromiter((r[3] for r in rows), dtype=np.int64, count=len(rows))
        fresh = ~np.isin(seq, self.ack_seq) if seq.min() <= self.ack_seq.max(initial=-1) \
            else np.ones(seq.size, dtype=bool)
        if not fresh.any():
            return
        picked = [r for r, keep in zip(rows, fresh, strict=True) if keep]
        company = self.scope.network.indexes(r[0] for r in picked).astype(np.int64)
        # An answer of a company the network does not know yet is not recorded, so it is
        # folded when the change log delivers it again with its company.
        known = company >= 0
        if not known.any():
            return
        picked = [r for r, keep in zip(picked, known, strict=True) if keep]
        company, seq = company[known], seq[fresh][known]
        status = np.fromiter((_STATUS_CODE[r[1]] for r in picked), dtype=np.int64)
        at = np.fromiter((r[2] for r in picked), dtype=np.int64)
        base = self.ack_seq.size
        self.ack_company = np.concatenate([self.ack_company, company])
        self.ack_status = np.concatenate([self.ack_status, status])
        self.ack_at = np.concatenate([self.ack_at, at])
        self.ack_seq = np.concatenate([self.ack_seq, seq])
        self.answer = self.answer.copy()
        _fold_answers(self.answer, self.ack_company, self.ack_at, self.ack_seq,
                      np.arange(base, self.ack_seq.size))
        self.latest = max(self.latest, int(at.max()))

    def reach(self, link_sent: np.ndarray) -> Reach:
        """What the forwards alone decide, given the earliest forward per link."""
        scope = self.scope
        n = scope.network.size
        cascaded = link_sent != NEVER
        reached = reachable(n, scope.src[cascaded], scope.dst[cascaded], scope.root)
        into = cascaded & reached[scope.src]
        first = np.full(n, NEVER, dtype=np.int64)
        np.minimum.at(first, scope.dst[into], link_sent[into])
        first[scope.root] = NEVER  # the issuer is where the request starts, never "reached"
        behind = scope.dag.link_edge[cascaded & (scope.dag.link_edge >= 0)]
        step_ok = np.bincount(behind, minlength=scope.dag.edge_src.size) > 0
        return Reach(cascaded, reached, first, step_ok)

    def reach_now(self) -> Reach:
        if self._reach is None:
            self._reach = self.reach(self.link_sent)
        return self._reach

    def analyse(self, as_of: datetime, previous: ArrayAnalysis | None = None) -> ArrayAnalysis:
        """The analysis at `as_of`; from `previous` when only answers changed since and no
        state turned by the clock in between (a single acknowledgement costs milliseconds)."""
        if previous is not None and previous.advances_to(self, as_of):
            return previous.advanced(self, as_of)
        return ArrayAnalysis(self, as_of)


def _grow(values: np.ndarray, size: int, fill: int = -1) -> np.ndarray:
    if values.size >= size:
        return values
    return np.concatenate([values, np.full(size - values.size, fill, dtype=values.dtype)])


def _fold_sent(link_sent: np.ndarray, link: np.ndarray, sent: np.ndarray) -> None:
    inside = link >= 0
    np.minimum.at(link_sent, link[inside], sent[inside])


def _fold_answers(answer: np.ndarray, company: np.ndarray, at: np.ndarray, seq: np.ndarray,
                  candidates: np.ndarray) -> None:
    """Make `answer[c]` the latest (at, seq) among its current answer and `candidates`."""
    candidates = candidates[company[candidates] >= 0]
    if candidates.size == 0:
        return
    order = candidates[np.lexsort((seq[candidates], at[candidates], company[candidates]))]
    last = np.append(company[order][1:] != company[order][:-1], True)
    best = order[last]
    who = company[best]
    held = answer[who]
    newer = (held < 0) | (at[best] > at[held]) | ((at[best] == at[held]) & (seq[best] > seq[held]))
    answer[who[newer]] = best[newer]


class ArrayAnalysis:
    """Everything known about one request at one instant, as arrays over companies."""

    def __init__(self, ledger: RequestLedger, as_of: datetime) -> None:
        scope = ledger.scope
        self.scope, self.ledger, self.as_of = scope, ledger, as_of
        self.now = now = to_epoch_us(as_of)
        if now >= ledger.latest:  # nothing recorded after as_of: the folds are current
            self.answer, self.forwards = ledger.answer, ledger.reach_now()
        else:
            link_sent = np.full(scope.link.size, NEVER, dtype=np.int64)
            early = ledger.cascade_sent <= now
            _fold_sent(link_sent, ledger.cascade_link[early], ledger.cascade_sent[early])
            self.answer = np.full(scope.network.size, -1, dtype=np.int64)
            _fold_answers(self.answer, ledger.ack_company, ledger.ack_at, ledger.ack_seq,
                          np.flatnonzero(ledger.ack_at <= now))
            self.forwards = ledger.reach(link_sent)
        self.state = np.full(scope.network.size, -1, dtype=np.int8)
        self.state[scope.tier >= 0] = _CODE[NodeState.not_applicable]
        inside = np.flatnonzero(scope.inside)
        self.state[inside] = self._own_states(inside)
        self.state[scope.root] = _CODE[NodeState.issuer]
        self.acknowledged = self.state == _CODE[NodeState.acknowledged]
        self.covered = self._covered()
        self._good: dict[int | None, np.ndarray] = {}

    @property
    def cascaded(self) -> np.ndarray:
        return self.forwards.cascaded

    @property
    def first(self) -> np.ndarray:
        return self.forwards.first

    # -- states and coverage ------------------------------------------------------------

    def _answers(self, companies: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(status code or -1, answer time or 0) of each company's current answer."""
        pick = self.answer[companies]
        has = pick >= 0
        status = np.where(has, self.ledger.ack_status[np.maximum(pick, 0)], -1) \
            if self.ledger.ack_status.size else np.full(pick.size, -1)
        at = np.where(has, self.ledger.ack_at[np.maximum(pick, 0)], 0) \
            if self.ledger.ack_at.size else np.zeros(pick.size, dtype=np.int64)
        return status, at

    def _own_states(self, companies: np.ndarray) -> np.ndarray:
        """Own state of companies inside the request (the issuer aside)."""
        request, now = self.scope.request, self.now
        status, at = self._answers(companies)
        first = self.first[companies]
        # "as_of > t + days" written as "t < as_of - days": no overflow on NEVER
        expired = (at < now - request.valid_days * _DAY_US if request.valid_days is not None
                   else np.zeros(companies.size, dtype=bool))
        overdue = first < now - request.due_days * _DAY_US
        return np.select(
            [first == NEVER, status == ACCEPTED, status == DECLINED, overdue],
            [_CODE[NodeState.unreached],
             np.where(expired, _CODE[NodeState.expired], _CODE[NodeState.acknowledged]),
             _CODE[NodeState.declined], _CODE[NodeState.overdue]],
            _CODE[NodeState.pending],
        ).astype(np.int8)

    def _eligible_from(self) -> np.ndarray:
        """Per subgraph link: its buyer is the issuer or acknowledged."""
        src = self.scope.src
        return (src == self.scope.root) | self.acknowledged[src]

    def _covered(self) -> np.ndarray:
        scope = self.scope
        chain = self.cascaded & self.acknowledged[scope.dst] & self._eligible_from()
        return reachable(scope.network.size, scope.src[chain], scope.dst[chain], scope.root)

    # -- a single answer: advance instead of recomputing -----------------------------------

    def advances_to(self, ledger: RequestLedger, as_of: datetime) -> bool:
        """Whether `advanced` is exact: same scope and forwards, both analyses on the
        folds for "now", and no state turned by the clock in between."""
        now = to_epoch_us(as_of)
        return (ledger.scope is self.scope and now >= ledger.latest
                and self.forwards is ledger.reach_now() and self.answer is self.ledger.answer
                and self.now <= now < self.valid_until())

    def advanced(self, ledger: RequestLedger, as_of: datetime) -> ArrayAnalysis:
        """This analysis with the answers of `ledger`: only companies whose current answer
        changed are re-stated; coverage grows from them, or is recomputed if one lost its
        acknowledgement."""
        nxt = object.__new__(ArrayAnalysis)
        nxt.scope, nxt.ledger, nxt.as_of, nxt.now = self.scope, ledger, as_of, to_epoch_us(as_of)
        nxt.answer, nxt.forwards, nxt._good = ledger.answer, self.forwards, {}
        changed = np.flatnonzero(ledger.answer != self.answer)
        changed = changed[self.scope.inside[changed] & (changed != self.scope.root)]
        nxt.state = self.state.copy()
        nxt.state[changed] = nxt._own_states(changed)
        nxt.acknowledged = nxt.state == _CODE[NodeState.acknowledged]
        if (self.acknowledged[changed] & ~nxt.acknowledged[changed]).any():
            nxt.covered = nxt._covered()
        else:
            nxt.covered = nxt._grow_coverage(self.covered, changed[nxt.acknowledged[changed]])
        return nxt

    def _grow_coverage(self, covered: np.ndarray, gained: np.ndarray) -> np.ndarray:
        """Coverage after `gained` companies became acknowledged (none lost it)."""
        scope, covered = self.scope, covered.copy()
        into_order, into_start = scope.links_into
        frontier = [v for v in gained.tolist() if not covered[v] and any(
            self.cascaded[i] and covered[scope.src[i]]
            for i in into_order[into_start[v] : into_start[v + 1]].tolist())]
        frontier_arr = np.array(frontier, dtype=np.int64)
        while frontier_arr.size:
            covered[frontier_arr] = True
            links = ranges(scope.links_from, frontier_arr)
            links = links[self.cascaded[links]]
            nxt = scope.dst[links]
            frontier_arr = np.unique(nxt[self.acknowledged[nxt] & ~covered[nxt]])
        return covered

    @property
    def population(self) -> int:
        """Companies inside the request, the issuer excluded."""
        return int(self.scope.inside.sum()) - 1

    @property
    def coverage_ratio(self) -> float:
        population = self.population
        return (int(self.covered.sum()) - 1) / population if population > 0 else 1.0

    def state_counts(self) -> dict[str, int]:
        counts = np.bincount(self.state[self.state >= 0], minlength=len(STATES))
        return {state.value: int(counts[code]) for code, state in enumerate(STATES)}

    def tier_table(self) -> list[dict[str, int]]:
        inside = self.state >= 0
        tiers, states = self.scope.tier[inside], self.state[inside]
        width = len(STATES)
        table = np.bincount(tiers.astype(np.int64) * width + states,
                            minlength=(int(tiers.max(initial=0)) + 1) * width).reshape(-1, width)
        return [
            {"tier": tier, "companies": int(row.sum())}
            | {state.value: int(row[code]) for code, state in enumerate(STATES)}
            for tier, row in enumerate(table) if row.any()
        ]

    def states_by_id(self) -> dict[str, NodeState]:
        ids = self.scope.network.ids
        return {ids[i]: STATES[self.state[i]] for i in np.flatnonzero(self.state >= 0)}

    def state_of(self, company: int) -> NodeState | None:
        code = self.state[company]
        return None if code < 0 else STATES[code]

    # -- gaps ---------------------------------------------------------------------------

    @cached_property
    def gap_links(self) -> np.ndarray:
        """Subgraph positions of the break points (applicable, not cascaded, buyer is the
        issuer or acknowledged)."""
        return np.flatnonzero(~self.cascaded & self._eligible_from())

    def gaps(self) -> list[tuple[str, str, int, int]]:
        """(from_id, to_id, tier, impact), most impactful first, then nearest tier, ids."""
        scope, ids = self.scope, self.scope.network.ids
        heads = scope.dst[self.gap_links]
        impact = self._uncovered_upstream(np.unique(heads))
        rows = [(ids[u], ids[v], int(scope.tier[v]), impact[v])
                for u, v in zip(scope.src[self.gap_links].tolist(), heads.tolist(), strict=True)]
        return sorted(rows, key=lambda g: (-g[3], g[2], g[0], g[1]))

    def _uncovered_upstream(self, heads: np.ndarray, chunk: int = 2048) -> dict[int, int]:
        """For each head company: companies upstream of it (itself included) not covered.

        Exact: one bit per uncovered company (`chunk` at a time) pulled up the component
        DAG from suppliers to buyers, then a popcount per head."""
        scope, dag = self.scope, self.scope.dag
        uncovered = np.flatnonzero(scope.inside & ~self.covered)
        impact = np.zeros(heads.size, dtype=np.int64)
        for start in range(0, uncovered.size, chunk):
            bits = _pull_up(dag, dag.comp[uncovered[start : start + chunk]], chunk // 64)
            impact += np.bitwise_count(bits[dag.comp[heads]]).sum(axis=1, dtype=np.int64)
        return dict(zip(heads.tolist(), impact.tolist(), strict=True))

    # -- path counts ----------------------------------------------------------------------

    @cached_property
    def group_ok(self) -> np.ndarray:
        """Groups whose every member is covered (or is the issuer)."""
        scope = self.scope
        bad = scope.inside & ~self.covered
        bad[scope.root] = False
        return np.bincount(scope.dag.comp[bad], minlength=scope.dag.size) == 0

    def good(self, target: int | None = None) -> np.ndarray:
        """Covered paths from each group to an end, given it is entered by a covered
        prefix (never more than the totals, so the totals' number type holds them)."""
        if target not in self._good:
            dtype = self.scope.totals(target).dtype
            ok = self.group_ok.astype(np.int64).astype(dtype)
            self._good[target] = self.scope.dag.path_sums(
                self.scope.end_groups(target), ok, self.group_ok, self.forwards.step_ok, dtype)
        return self._good[target]

    def path_counts(self, target: int | None = None) -> tuple[int, int]:
        """(all, covered) issuer-to-leaf (or -to-target) paths."""
        root_group = self.scope.dag.comp[self.scope.root]
        total = self.scope.totals(target)[root_group]
        return int(total), int(self.good(target)[root_group])

    # -- time ---------------------------------------------------------------------------

    @cached_property
    def _valid_until(self) -> int:
        request, now = self.scope.request, self.now
        moments = [NEVER]
        pending = self.state == _CODE[NodeState.pending]
        if pending.any():
            moments.append(int(self.first[pending].min()) + request.due_days * _DAY_US + 1)
        if request.valid_days is not None and self.acknowledged.any():
            _, at = self._answers(np.flatnonzero(self.acknowledged))
            moments.append(int(at.min()) + request.valid_days * _DAY_US + 1)
        later = [self.ledger.cascade_sent[self.ledger.cascade_sent > now],
                 self.ledger.ack_at[self.ledger.ack_at > now]]
        moments += [int(t.min()) for t in later if t.size]
        return min(moments)

    def valid_until(self) -> int:
        """The first instant (µs) after `as_of` at which a state can change with no new
        write: a pending company turning overdue, an acceptance expiring, or an event
        recorded with a later time becoming visible."""
        return self._valid_until


def ranges(indptr: np.ndarray, nodes: np.ndarray) -> np.ndarray:
    """Concatenated positions indptr[v] .. indptr[v + 1] - 1 of each node v."""
    lo, hi = indptr[nodes], indptr[nodes + 1]
    sizes = hi - lo
    return np.repeat(lo - np.cumsum(sizes) + sizes, sizes) + np.arange(sizes.sum())


def _pull_up(dag: ComponentDag, groups: np.ndarray, words: int) -> np.ndarray:
    """Bit i set on every group that reaches `groups[i]` (itself included)."""
    bits = np.zeros((dag.size, words), dtype=np.uint64)
    slot = np.arange(groups.size)
    np.bitwise_or.at(bits, (groups, slot // 64),
                     np.left_shift(np.uint64(1), (slot % 64).astype(np.uint64)))
    for _, edges in dag.levels:  # suppliers first: each level's successors are final
        heads = dag.edge_src[edges]
        starts = np.flatnonzero(np.r_[True, heads[1:] != heads[:-1]])
        bits[heads[starts]] |= np.bitwise_or.reduceat(bits[dag.edge_dst[edges]], starts)
    return bits
