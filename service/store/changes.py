"""The change log's answer, assembled once for both adapters: each reads the rows its
writes stamped after a revision (and the tombstones of what they deleted), and
`assemble_changes` turns them into the `ChangeSet` a cache applies."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from service.store.records import AckRow, CascadeRow, ChangeSet

__all__ = ["assemble_changes"]

_K = TypeVar("_K")
_V = TypeVar("_V")


def assemble_changes(
    revision: int,
    companies: Iterable[Sequence[Any]],
    links: Iterable[Sequence[Any]],
    requests: Iterable[Sequence[Any]],
    cascades: Iterable[Sequence[Any]],
    acknowledgements: Iterable[Sequence[Any]],
    tombstones: Iterable[Sequence[Any]],
) -> ChangeSet:
    """The `ChangeSet` of an adapter's change-log rows (rows stamped after the revision
    asked for, at most `revision` or a little later; see `ChangeLog.changes_since`).

    Rows: companies (id, kind, revision), links (buyer, supplier, category, revision),
    requests (id,), cascades (request, from, to, sent_at µs), acknowledgements (request,
    company, status, at µs, seq) in seq order, tombstones (entity, id, id2, revision) with
    entity 'company', 'link' (id2 = supplier) or 'events'. Per company or link, the later
    of its row and its tombstone wins: deleted, then created again, is present.

    Examples
    --------
    >>> changes = assemble_changes(
    ...     7, [("acme", "smelter", 6)], [], [], [], [],
    ...     [("company", "acme", "", 5), ("link", "focal", "acme", 5), ("events", "r1", "", 5)],
    ... )
    >>> changes.companies, changes.links, changes.events_removed
    ({'acme': 'smelter'}, {('focal', 'acme'): None}, {'r1'})
    """
    tombstones = list(tombstones)
    kinds = _latest(
        [(cid, rev, kind) for cid, kind, rev in companies]
        + [(key, rev, None) for entity, key, _, rev in tombstones if entity == "company"]
    )
    categories = _latest(
        [((buyer, supplier), rev, category) for buyer, supplier, category, rev in links]
        + [((key, key2), rev, None) for entity, key, key2, rev in tombstones if entity == "link"]
    )
    events: defaultdict[str, list[CascadeRow]] = defaultdict(list)
    for request_id, from_id, to_id, sent_at in cascades:
        events[request_id].append((from_id, to_id, sent_at))
    answers: defaultdict[str, list[AckRow]] = defaultdict(list)
    for request_id, company_id, status, at, seq in acknowledgements:
        answers[request_id].append((company_id, status, at, seq))
    return ChangeSet(
        revision=revision,
        companies=kinds,
        links=categories,
        requests={request_id for (request_id,) in requests},
        cascades=dict(events),
        acknowledgements=dict(answers),
        events_removed={key for entity, key, _, _ in tombstones if entity == "events"},
    )


def _latest(versions: Iterable[tuple[_K, int, _V]]) -> dict[_K, _V]:
    """Per key, the value of the highest revision."""
    best: dict[_K, tuple[int, _V]] = {}
    for key, revision, value in versions:
        if key not in best or best[key][0] < revision:
            best[key] = (revision, value)
    return {key: value for key, (_, value) in best.items()}
