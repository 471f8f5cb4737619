"""A request's cascade events and answers as arrays, folded for "now".

`RequestLedger` holds the events; its folds are the earliest forward per request-subgraph
link (`fold_sent`) and the current answer per company (`fold_answers`: latest `at`, ties
to the later recorded). New events give a new ledger that folds only the new ones;
`is_folded` checks both folds against the events. Times are integer microseconds since
the epoch (UTC).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from graph_models.engine.columns import Column
from graph_models.engine.network import lookup
from graph_models.engine.scope import RequestScope
from graph_models.engine.search import reachable

__all__ = [
    "ACK_STATUSES",
    "DAY_US",
    "NEVER",
    "Reach",
    "RequestLedger",
    "fold_answers",
    "fold_sent",
    "is_folded",
]

ACK_STATUSES = ("received", "accepted", "declined")
_STATUS_CODE = {status: code for code, status in enumerate(ACK_STATUSES)}
ACCEPTED, DECLINED = _STATUS_CODE["accepted"], _STATUS_CODE["declined"]
NEVER = np.iinfo(np.int64).max  # "no such time"
DAY_US = 86_400_000_000
# A ledger's event columns and their types (company and link positions fit in int32).
CASCADE_COLUMNS = {"cascade_from": np.int32, "cascade_to": np.int32,
                   "cascade_sent": np.int64, "cascade_link": np.int32}
ANSWER_COLUMNS = {"ack_company": np.int32, "ack_status": np.int8,
                  "ack_at": np.int64, "ack_seq": np.int64}


class Reach(NamedTuple):
    """What a request's forwards decide on their own (answers aside)."""

    cascaded: np.ndarray  # per subgraph link
    reached: np.ndarray  # per company
    first: np.ndarray  # first reached, per company (NEVER if not)
    step_ok: np.ndarray  # per group link: some link behind it cascaded


class RequestLedger:
    """A request's events as arrays, with the folds for "now" kept up to date.

    Treat as immutable: `with_events` returns a new ledger and leaves this one intact, so a
    reader can keep analysing it while a writer folds in new events. The event columns are
    read-only views of append-only buffers (`graph_models.engine.columns`) that the
    ledgers made from one another share: a write costs the new events, not a copy of all
    of them.

    Attributes
    ----------
    link_sent : array of int64
        Per request-subgraph link: its earliest forward, `NEVER` if none.
    answer : array of int64
        Per company: position of its current answer among the ``ack_*`` columns, -1.

    Examples
    --------
    f forwards to a twice, a forwards to b; a answers twice at the same instant (the
    later recorded holds).

    >>> from datetime import UTC, datetime
    >>> from graph_models.engine.network import CompactNetwork
    >>> from graph_models.models import PolicyRequest
    >>> net = CompactNetwork.build(dict.fromkeys("fab", "manufacturer"),
    ...                            [("f", "a", "components"), ("a", "b", "components")])
    >>> scope = RequestScope(net, PolicyRequest(id="bcp", topic="business_continuity",
    ...     title="BCP", issuer_id="f", issued_at=datetime(2026, 1, 1, tzinfo=UTC)))
    >>> ledger = RequestLedger.of(scope, [("f", "a", 20), ("f", "a", 10), ("a", "b", 30)],
    ...                           [("a", "declined", 40, 1), ("a", "accepted", 40, 2)])
    >>> ledger.link_sent.tolist(), ACK_STATUSES[ledger.ack_status[ledger.answer[1]]]
    ([10, 30], 'accepted')
    >>> later = ledger.with_events([], [("b", "accepted", 50, 3)])
    >>> later.answer.tolist(), ledger.answer.tolist()  # the first ledger is intact
    ([-1, 1, 2], [-1, 1, -1])
    >>> is_folded(later)
    True
    """

    cascade_from: np.ndarray  # company positions
    cascade_to: np.ndarray
    cascade_sent: np.ndarray  # µs
    cascade_link: np.ndarray  # subgraph position of each event's link, -1 outside
    ack_company: np.ndarray  # company positions
    ack_status: np.ndarray  # code into ACK_STATUSES
    ack_at: np.ndarray  # µs
    ack_seq: np.ndarray

    def __init__(self, scope: RequestScope) -> None:
        self.scope = scope
        self._columns = {name: Column.of(np.zeros(0, dtype=dtype))
                         for name, dtype in {**CASCADE_COLUMNS, **ANSWER_COLUMNS}.items()}
        for name, column in self._columns.items():
            setattr(self, name, column.prefix(0))
        self.link_sent = np.full(scope.link.size, NEVER, dtype=np.int64)
        self.answer = np.full(scope.network.size, -1, dtype=np.int64)  # index into acks
        self.latest = np.iinfo(np.int64).min
        self.last_seq = -1  # the largest answer seq folded in
        self._reach: Reach | None = None

    @classmethod
    def of(
        cls,
        scope: RequestScope,
        cascades: Sequence[tuple[str, str, int]],
        acknowledgements: Sequence[tuple[str, str, int, int]],
    ) -> RequestLedger:
        """From rows: cascades (from id, to id, sent_at µs) and answers (company id,
        status in ACK_STATUSES, at µs, seq), each in any order."""
        return cls(scope).with_events(cascades, acknowledgements)

    @classmethod
    def of_columns(
        cls,
        scope: RequestScope,
        cascades: tuple[np.ndarray, np.ndarray, np.ndarray],
        acknowledgements: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    ) -> RequestLedger:
        """From columns of company indexes: cascades (from, to, sent_at) and answers
        (company, status code into ACK_STATUSES, at, seq), each in any order."""
        ledger = cls(scope)
        if cascades[0].size:
            ledger._add_cascade_columns(*cascades)
        if acknowledgements[0].size:
            ledger._add_answer_columns(*acknowledgements)
        return ledger

    def _copy(self) -> RequestLedger:
        clone = object.__new__(RequestLedger)
        clone.__dict__.update(self.__dict__)
        clone._columns = dict(self._columns)
        return clone

    def _append(self, name: str, values: np.ndarray) -> None:
        """Append `values` to the event column `name` (this ledger's copy of it)."""
        column, view = self._columns[name].extended(getattr(self, name).size, values)
        self._columns[name] = column
        setattr(self, name, view)

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
        shared = [name for name in (*CASCADE_COLUMNS, *ANSWER_COLUMNS) if name != "cascade_link"]
        for name in shared:  # the events are the same; where their links are is not
            ledger._columns[name] = self._columns[name]
            setattr(ledger, name, getattr(self, name))
        ledger._append("cascade_link", scope.subgraph_links(self.cascade_from, self.cascade_to))
        fold_sent(ledger.link_sent, ledger.cascade_link, ledger.cascade_sent)
        ledger.latest, ledger.last_seq = self.latest, self.last_seq
        ledger.answer = _grow(self.answer, scope.network.size)
        return ledger

    def _add_cascades(self, rows: Sequence[tuple[str, str, int]]) -> None:
        network = self.scope.network
        froms, tos, times = zip(*rows, strict=True)
        self._add_cascade_columns(network.indexes(froms), network.indexes(tos),
                                  np.array(times, dtype=np.int64))

    def _add_cascade_columns(self, src: np.ndarray, dst: np.ndarray, sent: np.ndarray) -> None:
        link = self.scope.subgraph_links(src, dst)
        for name, values in (("cascade_from", src), ("cascade_to", dst),
                             ("cascade_sent", sent), ("cascade_link", link)):
            self._append(name, values)
        self.link_sent = self.link_sent.copy()
        fold_sent(self.link_sent, link, sent)
        self.latest = max(self.latest, int(sent.max()))
        self._reach = None

    def _add_answers(self, rows: Sequence[tuple[str, str, int, int]]) -> None:
        names, statuses, times, seqs = zip(*rows, strict=True)
        self._add_answer_columns(
            self.scope.network.indexes(names).astype(np.int64),
            np.array(lookup(_STATUS_CODE, list(statuses)), dtype=np.int64).reshape(-1),
            np.array(times, dtype=np.int64), np.array(seqs, dtype=np.int64))

    def _add_answer_columns(self, company: np.ndarray, status: np.ndarray, at: np.ndarray,
                            seq: np.ndarray) -> None:
        # Skip answers already folded (a re-delivered change) and answers of a company the
        # network does not know yet: those are folded when the log delivers them again.
        keep = company >= 0
        if seq.min() <= self.last_seq:
            keep &= ~np.isin(seq, self.ack_seq)
        if not keep.any():
            return
        company, status, at, seq = company[keep], status[keep], at[keep], seq[keep]
        base = self.ack_seq.size
        for name, values in (("ack_company", company), ("ack_status", status),
                             ("ack_at", at), ("ack_seq", seq)):
            self._append(name, values)
        self.answer = self.answer.copy()
        fold_answers(self.answer, self.ack_company, self.ack_at, self.ack_seq,
                      np.arange(base, self.ack_seq.size))
        self.latest = max(self.latest, int(at.max()))
        self.last_seq = max(self.last_seq, int(seq.max()))

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
        """`reach` of the folds for "now" (kept until new forwards arrive)."""
        if self._reach is None:
            self._reach = self.reach(self.link_sent)
        return self._reach


def _grow(values: np.ndarray, size: int, fill: int = -1) -> np.ndarray:
    if values.size >= size:
        return values
    return np.concatenate([values, np.full(size - values.size, fill, dtype=values.dtype)])


def fold_sent(link_sent: np.ndarray, link: np.ndarray, sent: np.ndarray) -> None:
    """Lower `link_sent` in place to the earliest `sent` per `link` (-1 = outside).

    Examples
    --------
    >>> link_sent = np.full(2, NEVER, dtype=np.int64)
    >>> fold_sent(link_sent, np.array([1, -1, 1]), np.array([30, 5, 20]))
    >>> link_sent.tolist() == [NEVER, 20]
    True
    """
    inside = link >= 0
    np.minimum.at(link_sent, link[inside], sent[inside])


def fold_answers(answer: np.ndarray, company: np.ndarray, at: np.ndarray, seq: np.ndarray,
                  candidates: np.ndarray) -> None:
    """Make ``answer[c]`` the latest (at, seq) among its current answer and `candidates`.

    Parameters
    ----------
    answer : array of int64
        Per company: position of its current answer, -1; updated in place.
    company, at, seq : array
        The answers' columns.
    candidates : array of int
        Positions of the answers to fold in.

    Examples
    --------
    Company 0 answers at 5 (seq 1) and at 5 again (seq 2); company 1 at 9.

    >>> answer = np.full(2, -1, dtype=np.int64)
    >>> company, at, seq = np.array([0, 0, 1]), np.array([5, 5, 9]), np.array([1, 2, 3])
    >>> fold_answers(answer, company, at, seq, np.arange(3))
    >>> answer.tolist()
    [1, 2]
    >>> answer = np.full(20, -1, dtype=np.int64)  # few answers among many companies
    >>> fold_answers(answer, np.array([7, 7, 3]), np.array([5, 5, 9]), np.array([2, 1, 3]),
    ...              np.arange(3))
    >>> answer[[3, 7]].tolist(), int((answer >= 0).sum())
    ([2, 0], 2)
    """
    candidates = candidates[company[candidates] >= 0]
    if candidates.size == 0:
        return
    # Each company's latest time, then its highest seq at that time: two scatter-max
    # passes instead of a sort (seqs are distinct, so one answer per company is left).
    who, when, number = company[candidates], at[candidates], seq[candidates]
    slots, slot = answer.size, who
    if candidates.size * 8 < answer.size:  # a few answers: scatter over their companies only
        _, slot = np.unique(who, return_inverse=True)
        slots = int(slot.max()) + 1
    at_latest = when == _scatter_max(slots, slot, when)[slot]
    top_seq = _scatter_max(slots, slot[at_latest], number[at_latest])
    best = candidates[at_latest & (number == top_seq[slot])]
    who = company[best]
    held = answer[who]
    newer = (held < 0) | (at[best] > at[held]) | ((at[best] == at[held]) & (seq[best] > seq[held]))
    answer[who[newer]] = best[newer]


def _scatter_max(size: int, index: np.ndarray, values: np.ndarray) -> np.ndarray:
    """out[i] = the largest of `values` at `index` i (int64 minimum where there is none)."""
    out = np.full(size, np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(out, index, values)
    return out


def is_folded(ledger: RequestLedger) -> bool:
    """Checker: the ledger's folds for "now" are those of its events.

    Each subgraph link's `link_sent` is the earliest `sent_at` of the forwards over it
    (`NEVER` if none), and each company's current answer is, of its answers, the one with
    the latest `at`, ties to the larger `seq` (or -1 when it has none); computed event by
    event in Python.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> from graph_models.engine.network import CompactNetwork
    >>> from graph_models.models import PolicyRequest
    >>> net = CompactNetwork.build(dict.fromkeys("fa", "manufacturer"),
    ...                            [("f", "a", "components")])
    >>> scope = RequestScope(net, PolicyRequest(id="bcp", topic="business_continuity",
    ...     title="BCP", issuer_id="f", issued_at=datetime(2026, 1, 1, tzinfo=UTC)))
    >>> ledger = RequestLedger.of(scope, [("f", "a", 20)], [("a", "accepted", 40, 1)])
    >>> is_folded(ledger)
    True
    >>> ledger.link_sent = np.array([NEVER])
    >>> is_folded(ledger)
    False
    """
    earliest = [NEVER] * ledger.link_sent.size
    for link, sent in zip(ledger.cascade_link.tolist(), ledger.cascade_sent.tolist(),
                          strict=True):
        if link >= 0:
            earliest[link] = min(earliest[link], sent)
    current: dict[int, tuple[int, int, int]] = {}
    for i, (c, at, seq) in enumerate(zip(ledger.ack_company.tolist(), ledger.ack_at.tolist(),
                                         ledger.ack_seq.tolist(), strict=True)):
        current[c] = max(current.get(c, (at, seq, i)), (at, seq, i))
    expected = [current[c][2] if c in current else -1 for c in range(ledger.answer.size)]
    return bool(ledger.link_sent.tolist() == earliest and ledger.answer.tolist() == expected)
