"""One request at one instant on the array engine: states, coverage, gaps, path counts.

`analyse(ledger, as_of)` builds an `ArrayAnalysis` from a `RequestLedger`
(`graph_models.engine`); given the previous analysis it only re-states the companies whose
answer changed when that is exact (same forwards, no state turned by the clock since).
"""

from __future__ import annotations

from datetime import datetime
from functools import cached_property

import numpy as np

from graph_models.compact import ComponentDag, ranges, reachable
from graph_models.engine import (
    ACCEPTED,
    DAY_US,
    DECLINED,
    NEVER,
    STATE_CODE,
    STATES,
    RequestLedger,
    fold_answers,
    fold_sent,
)
from graph_models.models import NodeState, to_epoch_us

__all__ = ["ArrayAnalysis", "analyse"]


def analyse(
    ledger: RequestLedger, as_of: datetime, previous: ArrayAnalysis | None = None
) -> ArrayAnalysis:
    """The analysis at `as_of`; from `previous` when only answers changed since and no
    state turned by the clock in between (a single acknowledgement costs milliseconds)."""
    if previous is not None and previous.advances_to(ledger, as_of):
        return previous.advanced(ledger, as_of)
    return ArrayAnalysis(ledger, as_of)


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
            fold_sent(link_sent, ledger.cascade_link[early], ledger.cascade_sent[early])
            self.answer = np.full(scope.network.size, -1, dtype=np.int64)
            fold_answers(self.answer, ledger.ack_company, ledger.ack_at, ledger.ack_seq,
                          np.flatnonzero(ledger.ack_at <= now))
            self.forwards = ledger.reach(link_sent)
        self.state = np.full(scope.network.size, -1, dtype=np.int8)
        self.state[scope.tier >= 0] = STATE_CODE[NodeState.not_applicable]
        inside = np.flatnonzero(scope.inside)
        self.state[inside] = self._own_states(inside)
        self.state[scope.root] = STATE_CODE[NodeState.issuer]
        self.acknowledged = self.state == STATE_CODE[NodeState.acknowledged]
        self.covered = self._covered()
        self._good: dict[int | None, np.ndarray] = {}
        self._prior: tuple[dict[int | None, np.ndarray], np.ndarray] | None = None

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
        expired = (at < now - request.valid_days * DAY_US if request.valid_days is not None
                   else np.zeros(companies.size, dtype=bool))
        overdue = first < now - request.due_days * DAY_US
        return np.select(
            [first == NEVER, status == ACCEPTED, status == DECLINED, overdue],
            [STATE_CODE[NodeState.unreached],
             np.where(expired, STATE_CODE[NodeState.expired], STATE_CODE[NodeState.acknowledged]),
             STATE_CODE[NodeState.declined], STATE_CODE[NodeState.overdue]],
            STATE_CODE[NodeState.pending],
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
        # Covered path counts are summed again only above the groups whose coverage
        # changed (`good`): keep this analysis's sums, not the analysis itself.
        nxt._prior = (dict(self._good), self.group_ok) if self._good else None
        changed = np.flatnonzero(ledger.answer != self.answer)
        changed = changed[self.scope.inside[changed] & (changed != self.scope.root)]
        nxt.state = self.state.copy()
        nxt.state[changed] = nxt._own_states(changed)
        nxt.acknowledged = nxt.state == STATE_CODE[NodeState.acknowledged]
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
            ends, dag = self.scope.end_groups(target), self.scope.dag
            if self._prior is not None and target in self._prior[0]:
                sums, group_ok = self._prior
                changed = np.flatnonzero(group_ok != self.group_ok)
                self._good[target] = dag.path_sums_again(
                    sums[target], changed, ends, ok, self.group_ok, self.forwards.step_ok)
            else:
                self._good[target] = dag.path_sums(
                    ends, ok, self.group_ok, self.forwards.step_ok, dtype)
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
        pending = self.state == STATE_CODE[NodeState.pending]
        if pending.any():
            moments.append(int(self.first[pending].min()) + request.due_days * DAY_US + 1)
        if request.valid_days is not None and self.acknowledged.any():
            _, at = self._answers(np.flatnonzero(self.acknowledged))
            moments.append(int(at.min()) + request.valid_days * DAY_US + 1)
        if self.ledger.latest > now:  # events recorded with a later time (as_of answers)
            later = [self.ledger.cascade_sent[self.ledger.cascade_sent > now],
                     self.ledger.ack_at[self.ledger.ack_at > now]]
            moments += [int(t.min()) for t in later if t.size]
        return min(moments)

    def valid_until(self) -> int:
        """The first instant (µs) after `as_of` at which a state can change with no new
        write: a pending company turning overdue, an acceptance expiring, or an event
        recorded with a later time becoming visible."""
        return self._valid_until


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
