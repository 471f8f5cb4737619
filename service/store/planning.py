"""Write planning both adapters share: which item of a batch is created, updated or
unchanged, and which answers are new, with the seq each gets. An adapter reads what it
holds of a batch's keys (under its write lock), asks the plan, and writes only what the
plan says changed; so the rules of a retry live here once, not in each adapter.

Examples
--------
>>> outcomes, changed = plan_writes({"acme": "smelter"},
...                                 [("acme", "smelter"), ("beta", "other"), ("acme", "other")])
>>> [str(o) for o in outcomes], changed
(['unchanged', 'created', 'updated'], {'beta': 'other', 'acme': 'other'})
>>> outcomes, changed = plan_writes({}, [("k", 2), ("k", 3), ("k", 1)], keep=min)
>>> [str(o) for o in outcomes], changed
(['created', 'unchanged', 'updated'], {'k': 1})
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from graph_models.models import Acknowledgement, CascadeEvent
from service.store.records import WriteOutcome

__all__ = ["AnswerIdentity", "AnswerPlan", "chunks", "earliest_sent", "latest", "plan_answers",
           "plan_writes"]

_C = TypeVar("_C")
_K = TypeVar("_K", bound=Hashable)
_V = TypeVar("_V")

AnswerIdentity = tuple[str, str, str, datetime]
"""(request, company, status, at): what makes two answers the same one (a retry)."""


def latest(held: _V, offered: _V) -> _V:
    """The rule of companies and links: the value offered last holds."""
    return offered


def earliest_sent(held: CascadeEvent, offered: CascadeEvent) -> CascadeEvent:
    """The rule of cascade events: of two forwards of one link the earlier `sent_at`
    holds, whatever order they were posted in (DESIGN: a company is first reached at the
    earliest forward); on a tie, the one held.

    >>> from datetime import UTC
    >>> sent = [CascadeEvent(request_id="r1", from_id="f", to_id="a",
    ...                      sent_at=datetime(2026, 1, day, tzinfo=UTC)) for day in (9, 2)]
    >>> earliest_sent(*sent).sent_at.day, earliest_sent(*reversed(sent)).sent_at.day
    (2, 2)
    """
    return offered if offered.sent_at < held.sent_at else held


def plan_writes(
    stored: Mapping[_K, _V], items: Iterable[tuple[_K, _V]], *,
    keep: Callable[[_V, _V], _V] = latest,
) -> tuple[list[WriteOutcome], dict[_K, _V]]:
    """Apply `items` (key, value) in order onto what is `stored`: the outcome of each and
    the values to write, by key.

    For a held key, `keep(held, offered)` says which value holds: the offered one (when
    it differs) makes the item `updated`, else it is `unchanged`. Companies and links
    take the `latest`; cascade events the `earliest_sent`, so what is stored does not
    depend on the order the items came in.
    """
    held = dict(stored)
    outcomes: list[WriteOutcome] = []
    changed: dict[_K, _V] = {}
    for key, value in items:
        if key not in held:
            outcomes.append(WriteOutcome.created)
            held[key] = changed[key] = value
            continue
        kept = keep(held[key], value)
        if kept == held[key]:
            outcomes.append(WriteOutcome.unchanged)
            continue
        outcomes.append(WriteOutcome.updated)
        held[key] = changed[key] = kept
    return outcomes, changed


@dataclass(frozen=True)
class AnswerPlan:
    """What `plan_answers` decided: per asked answer its outcome and the answer to hand
    back, the new answers to write (with their seqs, in seq order), and the last seq."""

    results: list[tuple[WriteOutcome, Acknowledgement]]
    fresh: list[Acknowledgement]
    last_seq: int


def plan_answers(
    acks: Sequence[Acknowledgement],
    stored: Mapping[AnswerIdentity, Acknowledgement],
    *,
    last_seq: int,
    recorded_at: datetime,
) -> AnswerPlan:
    """Number the new answers among `acks` after `last_seq`, in batch order; an answer
    whose identity is `stored` (or came earlier in the batch) is a retry: `unchanged`, and
    the stored answer is handed back, so a retry never double-counts.

    Examples
    --------
    >>> from datetime import UTC
    >>> at = datetime(2026, 1, 5, tzinfo=UTC)
    >>> ack = Acknowledgement(request_id="r1", company_id="acme", status="accepted", at=at)
    >>> plan = plan_answers([ack, ack], {}, last_seq=7, recorded_at=at)
    >>> [(str(o), a.seq) for o, a in plan.results], plan.last_seq, len(plan.fresh)
    ([('created', 8), ('unchanged', 8)], 8, 1)
    """
    known = dict(stored)
    results: list[tuple[WriteOutcome, Acknowledgement]] = []
    fresh: list[Acknowledgement] = []
    for ack in acks:
        if (held := known.get(ack.identity)) is not None:
            results.append((WriteOutcome.unchanged, held))
            continue
        last_seq += 1
        new = ack.model_copy(update={"seq": last_seq, "recorded_at": recorded_at})
        known[ack.identity] = new
        fresh.append(new)
        results.append((WriteOutcome.created, new))
    return AnswerPlan(results=results, fresh=fresh, last_seq=last_seq)


def chunks(items: Sequence[_C], size: int) -> Iterator[Sequence[_C]]:
    """`items` `size` at a time (the last slice may be shorter): how both adapters batch."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
