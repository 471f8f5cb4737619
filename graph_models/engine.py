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
* `ArrayAnalysis` (`graph_models.analysis`): states, covered set, gaps and path counts at
  one instant.

Times are integer microseconds since the epoch (UTC).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import cached_property
from typing import NamedTuple

import numpy as np

from graph_models.columns import Column
from graph_models.compact import (
    KINDS,
    CompactNetwork,
    ComponentDag,
    distances_from,
    lookup,
    reachable,
    stable_order,
    starts,
)
from graph_models.models import NodeState, PolicyRequest

__all__ = [
    "NEVER",
    "STATES",
    "Reach",
    "RequestLedger",
    "RequestScope",
]

STATES: tuple[NodeState, ...] = tuple(NodeState)
STATE_CODE = {state: np.int8(code) for code, state in enumerate(STATES)}
ACK_STATUSES = ("received", "accepted", "declined")
_STATUS_CODE = {status: code for code, status in enumerate(ACK_STATUSES)}
ACCEPTED, DECLINED = _STATUS_CODE["accepted"], _STATUS_CODE["declined"]
NEVER = np.iinfo(np.int64).max  # "no such time"
DAY_US = 86_400_000_000
INT64_SAFE = 2.0**62  # path counts above this switch to exact Python integers
# A ledger's event columns and their types (company and link positions fit in int32).
CASCADE_COLUMNS = {"cascade_from": np.int32, "cascade_to": np.int32,
                   "cascade_sent": np.int64, "cascade_link": np.int32}
ANSWER_COLUMNS = {"ack_company": np.int32, "ack_status": np.int8,
                  "ack_at": np.int64, "ack_seq": np.int64}


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

    def prepared(self) -> RequestScope:
        """This scope with what every analysis needs built now (the component DAG, path
        totals, link lookups), e.g. while the request's events are still being read."""
        self.totals()
        _ = self.sub_of_link, self.links_from, self.links_into
        return self

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
        return starts(self.src, self.network.size)

    @cached_property
    def links_into(self) -> tuple[np.ndarray, np.ndarray]:
        """(subgraph links ordered by supplier, start of each supplier's links)."""
        order = stable_order(self.dst)
        return order, starts(self.dst, self.network.size)

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
            dtype: type | np.dtype = np.int64
            # A group has at most (largest out-degree) ** (its height) paths; above 2^62
            # a float pass tells whether the counts really are that large.
            widest, top = int(self.dag.out_degree.max(initial=1)), int(self.dag.height.max())
            if widest > 1 and top * math.log2(widest) >= math.log2(INT64_SAFE):
                with np.errstate(over="ignore"):  # past 1.8e308 it is inf: huge all the same
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
    reader can keep analysing it while a writer folds in new events. The event columns are
    read-only views of append-only buffers (`graph_models.columns`) that the ledgers made
    from one another share: a write costs the new events, not a copy of all of them.
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
        if self._reach is None:
            self._reach = self.reach(self.link_sent)
        return self._reach


def _grow(values: np.ndarray, size: int, fill: int = -1) -> np.ndarray:
    if values.size >= size:
        return values
    return np.concatenate([values, np.full(size - values.size, fill, dtype=values.dtype)])


def fold_sent(link_sent: np.ndarray, link: np.ndarray, sent: np.ndarray) -> None:
    inside = link >= 0
    np.minimum.at(link_sent, link[inside], sent[inside])


def fold_answers(answer: np.ndarray, company: np.ndarray, at: np.ndarray, seq: np.ndarray,
                  candidates: np.ndarray) -> None:
    """Make `answer[c]` the latest (at, seq) among its current answer and `candidates`."""
    candidates = candidates[company[candidates] >= 0]
    if candidates.size == 0:
        return
    # Each company's latest time, then its highest seq at that time: two scatter-max
    # passes instead of a sort (seqs are distinct, so one answer per company is left).
    who, when, number = company[candidates], at[candidates], seq[candidates]
    at_latest = when == _scatter_max(answer.size, who, when)[who]
    top_seq = _scatter_max(answer.size, who[at_latest], number[at_latest])
    best = candidates[at_latest & (number == top_seq[who])]
    who = company[best]
    held = answer[who]
    newer = (held < 0) | (at[best] > at[held]) | ((at[best] == at[held]) & (seq[best] > seq[held]))
    answer[who[newer]] = best[newer]


def _scatter_max(size: int, index: np.ndarray, values: np.ndarray) -> np.ndarray:
    """out[i] = the largest of `values` at `index` i (int64 minimum where there is none)."""
    out = np.full(size, np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(out, index, values)
    return out
