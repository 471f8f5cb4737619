"""An analysis carried forward instead of recomputed: more answers, a later instant.

`analyse(ledger, as_of, previous)` gives the `ArrayAnalysis` at `as_of`. When only
answers and the clock moved on since `previous` (same scope and forwards, time not turned
back), it re-states only the companies whose answer changed or whose state the clock
turned (pending to overdue, an acceptance expiring), grows or recomputes coverage from
them, and carries the previous figures updated at those companies: a single answer or a
due date passing costs milliseconds at a million links, whatever the network's size.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np

from graph_models.engine.analysis import STATE_CODE, STATES, ArrayAnalysis
from graph_models.engine.ledger import DAY_US, RequestLedger
from graph_models.engine.search import ranges
from graph_models.models import NodeState, to_epoch_us

__all__ = ["advances_to", "analyse"]


def analyse(
    ledger: RequestLedger, as_of: datetime, previous: ArrayAnalysis | None = None
) -> ArrayAnalysis:
    """The analysis at `as_of`; from `previous` when only answers and the clock moved on
    since (a single acknowledgement or a due date passing costs milliseconds).

    Examples
    --------
    f forwarded to a, which accepted; a never forwarded to b.

    >>> from datetime import UTC, datetime, timedelta
    >>> from graph_models.engine.analysis import are_path_counts, is_covered_mask
    >>> from graph_models.engine.network import CompactNetwork
    >>> from graph_models.engine.scope import RequestScope
    >>> from graph_models.models import PolicyRequest
    >>> t = datetime(2026, 1, 1, tzinfo=UTC)
    >>> net = CompactNetwork.build(dict.fromkeys("fab", "manufacturer"),
    ...                            [("f", "a", "components"), ("a", "b", "components")])
    >>> scope = RequestScope(net, PolicyRequest(id="bcp", topic="business_continuity",
    ...     title="BCP", issuer_id="f", issued_at=t))
    >>> us = to_epoch_us(t)
    >>> ledger = RequestLedger.of(scope, [("f", "a", us)], [("a", "accepted", us, 1)])
    >>> a = analyse(ledger, t + timedelta(days=1))
    >>> [str(a.state_of(c)) for c in range(3)], a.covered.tolist(), a.coverage_ratio
    (['issuer', 'acknowledged', 'unreached'], [True, True, False], 0.5)
    >>> a.gaps(), a.path_counts()
    ([('a', 'b', 2, 1)], (1, 0))
    >>> is_covered_mask(a), are_path_counts(a)
    (True, True)

    With acceptances valid for 30 days, the day-1 analysis carried to day 40: a's expired.

    >>> expiring = RequestScope(net, PolicyRequest(id="bcp", topic="business_continuity",
    ...     title="BCP", issuer_id="f", issued_at=t, valid_days=30))
    >>> ledger = RequestLedger.of(expiring, [("f", "a", us)], [("a", "accepted", us, 1)])
    >>> day1 = analyse(ledger, t + timedelta(days=1))
    >>> later = analyse(ledger, t + timedelta(days=40), previous=day1)
    >>> str(later.state_of(1)), later.covered.tolist(), advances_to(later, ledger, t)
    ('expired', [True, False, False], False)
    """
    if previous is not None and advances_to(previous, ledger, as_of):
        return _advanced(previous, ledger, as_of)
    return ArrayAnalysis(ledger, as_of)


def advances_to(previous: ArrayAnalysis, ledger: RequestLedger, as_of: datetime) -> bool:
    """Whether `previous` can be advanced exactly to `ledger` at `as_of`: same scope and
    forwards, both analyses on the folds for "now", and the clock not turned back."""
    now = to_epoch_us(as_of)
    return (ledger.scope is previous.scope and now >= ledger.latest
            and previous.forwards is ledger.reach_now()
            and previous.answer is previous.ledger.answer and previous.now <= now)


def _advanced(previous: ArrayAnalysis, ledger: RequestLedger,
              as_of: datetime) -> ArrayAnalysis:
    """`previous` with the answers of `ledger`, at `as_of`: only companies whose current
    answer changed or whose state the clock turned are re-stated; coverage grows from
    them, or is recomputed if one lost its acknowledgement."""
    nxt = object.__new__(ArrayAnalysis)
    nxt.scope, nxt.ledger, nxt.as_of, nxt.now = previous.scope, ledger, as_of, to_epoch_us(as_of)
    nxt.answer, nxt.forwards, nxt._good = ledger.answer, previous.forwards, {}
    # Covered path counts are summed again only above the groups whose coverage
    # changed (`good`): keep the previous sums, not the previous analysis itself.
    nxt._prior = (dict(previous._good), previous.group_ok) if previous._good else None
    changed = np.flatnonzero(ledger.answer != previous.answer)
    turned = nxt.now >= previous.recheck_at
    if turned:
        changed = np.union1d(changed, _turned_by(previous, nxt.now))
    scope = previous.scope
    changed = changed[scope.inside[changed] & (changed != scope.root)]
    nxt.state = previous.state.copy()
    nxt.state[changed] = nxt._own_states(changed)
    nxt.acknowledged = nxt.state == STATE_CODE[NodeState.acknowledged]
    if (previous.acknowledged[changed] & ~nxt.acknowledged[changed]).any():
        nxt.covered = nxt._covered()
        moved = np.flatnonzero(nxt.covered != previous.covered)
    else:
        nxt.covered, moved = _grow_coverage(nxt, previous.covered,
                                            changed[nxt.acknowledged[changed]])
    _carry_figures(previous, nxt, changed, moved, turned)
    return nxt


def _turned_by(analysis: ArrayAnalysis, now: int) -> np.ndarray:
    """Companies whose state the clock alone turns between `analysis` and `now`: pending
    ones falling overdue, acknowledged ones whose acceptance expires (with the same
    answers and forwards, no other state depends on the clock)."""
    request = analysis.scope.request
    due = analysis.state == STATE_CODE[NodeState.pending]
    due &= analysis.first < now - round(request.due_days * DAY_US)
    turned = np.flatnonzero(due)
    if request.valid_days is not None:
        held = np.flatnonzero(analysis.acknowledged)
        _, at = analysis._answers(held)
        turned = np.union1d(turned, held[at < now - request.valid_days * DAY_US])
    return turned


def _grow_coverage(analysis: ArrayAnalysis, covered: np.ndarray,
                   gained: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(coverage, companies newly covered) of `analysis`, from the previous `covered`,
    after `gained` companies became acknowledged (none lost it)."""
    scope, covered = analysis.scope, covered.copy()
    into_order, into_start = scope.links_into
    frontier = [v for v in gained.tolist() if not covered[v] and any(
        analysis.cascaded[i] and covered[scope.src[i]]
        for i in into_order[into_start[v] : into_start[v + 1]].tolist())]
    frontier_arr = np.array(frontier, dtype=np.int64)
    grown = [frontier_arr]
    while frontier_arr.size:
        covered[frontier_arr] = True
        links = ranges(scope.links_from, frontier_arr)
        links = links[analysis.cascaded[links]]
        nxt = scope.dst[links]
        frontier_arr = np.unique(nxt[analysis.acknowledged[nxt] & ~covered[nxt]])
        grown.append(frontier_arr)
    return covered, np.concatenate(grown)


def _carry_figures(previous: ArrayAnalysis, nxt: ArrayAnalysis, changed: np.ndarray,
                   moved: np.ndarray, turned: bool) -> None:
    """Give `nxt` the figures `previous` computed, updated at the companies whose state
    (`changed`) or coverage (`moved`) changed, so one answer at ten million links costs
    no pass over every company or link."""
    known = vars(previous)
    if "state_tally" in known:
        nxt.state_tally = (previous.state_tally
                           - np.bincount(previous.state[changed], minlength=len(STATES))
                           + np.bincount(nxt.state[changed], minlength=len(STATES)))
    if "covered_count" in known:
        nxt.covered_count = previous.covered_count + 2 * int(nxt.covered[moved].sum()) \
            - moved.size
    if "bad_members" in known:
        nxt.bad_members, nxt.group_ok = _regrouped(previous, nxt, moved)
    if "gap_links" in known:
        flipped = changed[previous.acknowledged[changed] != nxt.acknowledged[changed]]
        nxt.gap_links = _gap_links_after(previous, nxt, flipped)
    if "recheck_at" in known and not turned:
        nxt.recheck_at = min(previous.recheck_at, nxt._deadline(changed))


def _regrouped(previous: ArrayAnalysis, nxt: ArrayAnalysis,
               moved: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(`bad_members`, `group_ok`) of `nxt`, counted again at the groups of `moved`."""
    moved = moved[moved != previous.scope.root]
    comp = previous.scope.dag.comp[moved]
    bad, ok = previous.bad_members.copy(), previous.group_ok.copy()
    np.add.at(bad, comp, np.where(nxt.covered[moved], -1, 1).astype(bad.dtype))
    ok[comp] = bad[comp] == 0
    return bad, ok


def _gap_links_after(previous: ArrayAnalysis, nxt: ArrayAnalysis,
                     flipped: np.ndarray) -> np.ndarray:
    """`nxt.gap_links` from the previous ones: only the links out of companies whose
    acknowledgement `flipped` change (a buyer's eligibility is all that moved)."""
    if not flipped.size:
        return previous.gap_links
    starts, scope = previous.scope.links_from, previous.scope
    out = ranges(starts, flipped)
    gained = out[~previous.cascaded[out] & nxt.acknowledged[scope.src[out]]]
    old = previous.gap_links
    edge = np.zeros(old.size + 1, dtype=np.int64)  # +1 where a range opens, -1 closes
    np.add.at(edge, np.searchsorted(old, starts[flipped]), 1)
    np.add.at(edge, np.searchsorted(old, starts[flipped + 1]), -1)
    kept = old[np.cumsum(edge[:-1]) == 0]
    gained.sort()
    return np.insert(kept, np.searchsorted(kept, gained), gained)
