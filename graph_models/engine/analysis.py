"""One request at one instant on the array engine: states, coverage, gaps, path counts.

An `ArrayAnalysis` is built from a `RequestLedger` (`graph_models.engine.ledger`) at an
instant; `graph_models.engine.advance.analyse` builds one, or carries the previous one
forward when that is exact. Its checkers judge an analysis against the definitions of
DESIGN.md's "Coverage semantics": `is_covered_mask`, `are_path_counts` and
`graph_models.engine.gaps.is_gap_list`.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime
from functools import cached_property

import numpy as np

from graph_models.engine.components import are_path_sums
from graph_models.engine.gaps import uncovered_upstream
from graph_models.engine.ledger import (
    ACCEPTED,
    DAY_US,
    DECLINED,
    NEVER,
    RequestLedger,
    fold_answers,
    fold_sent,
)
from graph_models.engine.search import reachable
from graph_models.models import NodeState, to_epoch_us

__all__ = [
    "STATES",
    "STATE_CODE",
    "ArrayAnalysis",
    "are_path_counts",
    "is_covered_mask",
]

STATES: tuple[NodeState, ...] = tuple(NodeState)
STATE_CODE = {state: np.int8(code) for code, state in enumerate(STATES)}


class ArrayAnalysis:
    """Everything known about one request at one instant, as arrays over companies.

    Attributes
    ----------
    state : array of int8
        Per company: code into `STATES`, -1 outside the request.
    covered : array of bool
        Per company: a cascade chain from the issuer reaches it over acknowledged
        companies only (the issuer is covered).
    forwards : Reach
        What the forwards visible at `as_of` decide (cascaded links, first reached).
    """

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
        """Per subgraph link: forwarded at or before `as_of`."""
        return self.forwards.cascaded

    @property
    def first(self) -> np.ndarray:
        """Per company: when it was first reached (µs), `NEVER` if not."""
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
        overdue = first < now - round(request.due_days * DAY_US)
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
        eligible: np.ndarray = (src == self.scope.root) | self.acknowledged[src]
        return eligible

    def _covered(self) -> np.ndarray:
        scope = self.scope
        chain = self.cascaded & self.acknowledged[scope.dst] & self._eligible_from()
        return reachable(scope.network.size, scope.src[chain], scope.dst[chain], scope.root)

    @property
    def population(self) -> int:
        """Companies inside the request, the issuer excluded."""
        return int(self.scope.inside.sum()) - 1

    @property
    def coverage_ratio(self) -> float:
        """Covered companies over the population (1.0 when nobody is to be covered)."""
        population = self.population
        return (self.covered_count - 1) / population if population > 0 else 1.0

    @cached_property
    def covered_count(self) -> int:
        """Covered companies, the issuer included."""
        return int(self.covered.sum())

    @cached_property
    def state_tally(self) -> np.ndarray:
        """Number of companies in each state, by state code."""
        return np.bincount(self.state[self.state >= 0], minlength=len(STATES))

    def state_counts(self) -> dict[str, int]:
        """Number of companies in each state (every state listed, zeros included)."""
        return {state.value: int(self.state_tally[code]) for code, state in enumerate(STATES)}

    def tier_table(self) -> list[dict[str, int]]:
        """Per tier: number of companies and number in each state."""
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

    def state_of(self, company: int) -> NodeState | None:
        """The company's state, None outside the request."""
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
        impact = uncovered_upstream(scope.dag, np.flatnonzero(scope.inside & ~self.covered),
                                    np.unique(heads))
        rows = [(ids[u], ids[v], int(scope.tier[v]), impact[v])
                for u, v in zip(scope.src[self.gap_links].tolist(), heads.tolist(), strict=True)]
        return sorted(rows, key=lambda g: (-g[3], g[2], g[0], g[1]))

    # -- path counts ----------------------------------------------------------------------

    @cached_property
    def bad_members(self) -> np.ndarray:
        """Per group: members inside the request and not covered (the issuer aside)."""
        scope = self.scope
        bad = scope.inside & ~self.covered
        bad[scope.root] = False
        return np.bincount(scope.dag.comp[bad], minlength=scope.dag.size).astype(np.int32)

    @cached_property
    def group_ok(self) -> np.ndarray:
        """Groups whose every member is covered (or is the issuer)."""
        ok: np.ndarray = self.bad_members == 0
        return ok

    def good(self, target: int | None = None) -> np.ndarray:
        """Covered paths from each group to an end, given it is entered by a covered
        prefix (never more than the totals, so the totals' number type holds them)."""
        if target not in self._good:
            dtype = self.scope.totals(target).dtype
            ok = self.group_ok.astype(np.int64)  # taken into the sums' type per group
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
        moments = [self._deadline(np.flatnonzero(
            (self.state == STATE_CODE[NodeState.pending]) | self.acknowledged))]
        now = self.now
        if self.ledger.latest > now:  # events recorded with a later time (as_of answers)
            later = [self.ledger.cascade_sent[self.ledger.cascade_sent > now],
                     self.ledger.ack_at[self.ledger.ack_at > now]]
            moments += [int(t.min()) for t in later if t.size]
        return min(moments)

    def _deadline(self, companies: np.ndarray) -> int:
        """The first instant the clock turns the state of one of `companies`: a pending
        one falling overdue or an acceptance expiring (`NEVER` if none can turn)."""
        request, state = self.scope.request, self.state[companies]
        moments = [NEVER]
        pending = companies[state == STATE_CODE[NodeState.pending]]
        if pending.size:
            moments.append(int(self.first[pending].min()) + round(request.due_days * DAY_US) + 1)
        held = companies[state == STATE_CODE[NodeState.acknowledged]]
        if request.valid_days is not None and held.size:
            _, at = self._answers(held)
            moments.append(int(at.min()) + request.valid_days * DAY_US + 1)
        return min(moments)

    def valid_until(self) -> int:
        """The first instant (µs) after `as_of` at which a state can change with no new
        write: a pending company turning overdue, an acceptance expiring, or an event
        recorded with a later time becoming visible."""
        return self._valid_until

    @cached_property
    def recheck_at(self) -> int:
        """An instant (µs) no later than `valid_until()`, for a cache to look again: after
        an answer it is carried from the previous analysis without a pass over every
        company, so it may come earlier (looking again then finds nothing turned).
        `valid_until()` stays exact: it names a state the same in every worker."""
        return self._valid_until


def is_covered_mask(analysis: ArrayAnalysis) -> bool:
    """Checker: `analysis.covered` is the covered set of DESIGN.md.

    covered(v): some chain of cascade events issuer -> ... -> v whose every company after
    the issuer is acknowledged; found by a breadth-first search in Python.

    Examples
    --------
    See `analyse`; a mask missing the issuer is refused:

    >>> from types import SimpleNamespace
    >>> scope = SimpleNamespace(root=0, src=np.array([0]), dst=np.array([1]))
    >>> fake = SimpleNamespace(scope=scope, cascaded=np.array([True]),
    ...     acknowledged=np.array([False, True]), covered=np.array([False, True]))
    >>> is_covered_mask(fake)
    False
    """
    scope, acknowledged = analysis.scope, analysis.acknowledged
    onward: dict[int, list[int]] = {}
    for i, (u, v) in enumerate(zip(scope.src.tolist(), scope.dst.tolist(), strict=True)):
        if analysis.cascaded[i] and acknowledged[v]:
            onward.setdefault(u, []).append(v)
    covered, queue = {scope.root}, deque([scope.root])
    while queue:
        u = queue.popleft()
        if u != scope.root and not acknowledged[u]:
            continue
        for v in onward.get(u, []):
            if v not in covered:
                covered.add(v)
                queue.append(v)
    return set(np.flatnonzero(analysis.covered).tolist()) == covered


def are_path_counts(analysis: ArrayAnalysis, target: int | None = None) -> bool:
    """Checker: the path counts solve their recurrences on the component DAG.

    Totals: one at an end group, else the sum over the group's successors. Covered
    counts: the same over groups whose members are all covered (the issuer aside) and
    group links with a cascaded link behind them. So the covered count never exceeds the
    total.

    Examples
    --------
    See `analyse`.
    """
    scope, dag = analysis.scope, analysis.scope.dag
    members_ok = [True] * dag.size
    for v in np.flatnonzero(scope.inside & ~analysis.covered).tolist():
        members_ok[int(dag.comp[v])] &= v == scope.root
    if analysis.group_ok.tolist() != members_ok:
        return False
    ends, ok = scope.end_groups(target), analysis.group_ok
    total, good = scope.totals(target), analysis.good(target)
    step_ok = np.zeros(dag.edge_src.size, dtype=bool)
    step_ok[dag.link_edge[analysis.cascaded & (dag.link_edge >= 0)]] = True
    return (are_path_sums(dag, total, ends, np.ones(dag.size, dtype=np.int64))
            and are_path_sums(dag, good, ends, ok.astype(np.int64), ok, step_ok)
            and all(int(g) <= int(t) for g, t in zip(good, total, strict=True)))
