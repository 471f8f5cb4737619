"""Snapshots from the stores' reads: what an adapter turns its columnar reads (of ids, or
of integer company keys) into, the `Snapshot` the port's `load_snapshot` returns, and
`PendingEvents`, a snapshot's events while they are still being read."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future
from operator import itemgetter
from typing import Any

import numpy as np

from service.store.records import (
    ACK_STATUSES,
    Network,
    RequestEvents,
    Snapshot,
    SnapshotEvents,
)

__all__ = ["IdColumns", "PendingEvents", "events_at_positions", "events_by_id", "events_of_ids",
           "id_positions", "keyed_events", "position_table", "positions", "snapshot_of",
           "snapshot_of_columns", "snapshot_of_positions", "status_codes"]

IdColumns = tuple[Sequence[Any], ...]
"""Columns of ids and values, e.g. (from ids, to ids, sent_at µs) of cascade events."""


class PendingEvents(Mapping[str, SnapshotEvents]):
    """A snapshot's events still being read: the first access waits for them, and raises
    what their read raised."""

    def __init__(self, read: Future[dict[str, SnapshotEvents]]) -> None:
        self._read = read

    def __getitem__(self, request_id: str) -> SnapshotEvents:
        return self._read.result()[request_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._read.result())

    def __len__(self) -> int:
        return len(self._read.result())


def snapshot_of(network: Network, events: dict[str, RequestEvents]) -> Snapshot:
    """The `Snapshot` of a network and events read as tuples of ids; events naming a
    company the network lacks are left out.

    Examples
    --------
    >>> network = Network({"focal": "manufacturer", "acme": "smelter"},
    ...                   [("focal", "acme", "components")], revision=3)
    >>> events = RequestEvents([("focal", "acme", 5), ("focal", "ghost", 6)],
    ...                        [("acme", "accepted", 7, 1)])
    >>> snap = snapshot_of(network, {"r1": events})
    >>> snap.ids, snap.buyer.tolist(), snap.supplier.tolist(), snap.categories
    (['focal', 'acme'], [0], [1], ('components',))
    >>> e = snap.events["r1"]
    >>> e.cascade_to.tolist(), e.ack_company.tolist(), e.ack_status.tolist()
    ([1], [1], [1])
    """
    return snapshot_of_columns(
        list(network.kinds), list(network.kinds.values()), _transposed(network.links, 3),
        network.revision,
        {rid: (_transposed(found.cascades, 3), _transposed(found.acknowledgements, 4))
         for rid, found in events.items()})


def snapshot_of_columns(ids: list[str], kinds: list[str], links: IdColumns, revision: int,
                        events: dict[str, tuple[IdColumns, IdColumns]]) -> Snapshot:
    """The `Snapshot` of columns of ids (for adapters that read ids): links as (buyer
    ids, supplier ids, categories), per request its cascades (from ids, to ids, sent_at)
    and answers (company ids, statuses, at, seq)."""
    index = id_positions(ids)
    buyers, suppliers, names = links
    categories = tuple(dict.fromkeys(names))
    category = _coded({name: i for i, name in enumerate(categories)}, names)
    return snapshot_of_positions(
        ids, kinds, _coded(index, buyers), _coded(index, suppliers), category, categories,
        revision, {rid: _event_columns(index, *found) for rid, found in events.items()})


def snapshot_of_positions(ids: list[str], kinds: list[str], buyer: np.ndarray,
                          supplier: np.ndarray, category: np.ndarray,
                          categories: Sequence[str], revision: int,
                          events: Mapping[str, SnapshotEvents],
                          index: dict[str, int] | None = None) -> Snapshot:
    """The `Snapshot` of links given as company positions in `ids` (-1: a company the
    read of `ids` did not see, written after `revision`: the link is left out) with
    their codes into `categories`, and the events of each request. A category only
    left-out links had is left out too.

    >>> snap = snapshot_of_positions(["f", "a"], ["manufacturer", "smelter"],
    ...     np.array([0, 0]), np.array([1, -1]), np.array([1, 0]), ("late", "parts"), 3, {})
    >>> snap.buyer.tolist(), snap.category.tolist(), snap.categories
    ([0], [0], ('parts',))
    """
    known = (buyer >= 0) & (supplier >= 0)
    if not known.all():
        buyer, supplier, category = buyer[known], supplier[known], category[known]
    used = np.bincount(category, minlength=len(categories)) > 0
    if not used.all():
        category = (np.cumsum(used) - 1)[category]
        categories = [name for name, kept in zip(categories, used.tolist(), strict=True) if kept]
    return Snapshot(
        ids=ids, kinds=kinds, buyer=buyer, supplier=supplier, category=category,
        categories=tuple(categories), revision=revision, events=events, index=index,
    )


def position_table(keys: Sequence[int] | np.ndarray) -> np.ndarray:
    """The table giving the position of each of `keys` (distinct integers >= 0) at index
    key, -1 elsewhere: see `positions`."""
    key = np.asarray(keys, dtype=np.int64)
    table = np.full(int(key.max(initial=-1)) + 1, -1, dtype=np.int64)
    table[key] = np.arange(key.size)
    return table


def positions(table: np.ndarray, keys: Sequence[int] | np.ndarray) -> np.ndarray:
    """The position of each key in `table` (`position_table`), -1 for a key it lacks.

    >>> positions(position_table([7, 2, 5]), [5, 7, 3, 9, -1]).tolist()
    [2, 0, -1, -1, -1]
    """
    found = np.asarray(keys, dtype=np.int64)
    if not found.size or (found.min() >= 0 and found.max() < table.size):
        return table[found]  # the usual case: one gather, no masks
    held = (found >= 0) & (found < table.size)
    return np.where(held, table[np.where(held, found, 0)], -1)


def keyed_events(table: np.ndarray, cascades: Sequence[Any] | np.ndarray,
                 acks: Sequence[Any] | np.ndarray) -> SnapshotEvents:
    """The `SnapshotEvents` of events given as integer company keys: cascades as (from
    keys, to keys, sent µs), answers as (company keys, status codes, at µs, seqs). An
    event naming a key `table` lacks (a company written after the network was read, or
    none) is left out."""
    (froms, tos, sent), (companies, statuses, ats, seqs) = cascades, acks
    return events_at_positions(
        (positions(table, froms), positions(table, tos), sent),
        (positions(table, companies), statuses, ats, seqs))


def events_at_positions(cascades: Sequence[Any], acks: Sequence[Any]) -> SnapshotEvents:
    """`keyed_events` of events whose companies are already positions (-1: unknown)."""
    (src, dst, sent), (company, statuses, ats, seqs) = (
        [np.asarray(column, dtype=np.int64) for column in columns]
        for columns in (cascades, acks))
    keep, held = (src >= 0) & (dst >= 0), company >= 0
    return SnapshotEvents(
        cascade_from=src[keep], cascade_to=dst[keep], cascade_sent=sent[keep],
        ack_company=company[held], ack_status=statuses[held], ack_at=ats[held],
        ack_seq=seqs[held],
    )


def status_codes(statuses: Sequence[str]) -> np.ndarray:
    """The code of each answer status (its position in `ACK_STATUSES`)."""
    return _coded({name: i for i, name in enumerate(ACK_STATUSES)}, statuses)


def _coded(table: dict[str, int], names: Sequence[str]) -> np.ndarray:
    """table[name] for each name, -1 where it has none (looked up in C when all have)."""
    if len(names) > 1 and table.keys() >= set(names):
        return np.array(itemgetter(*names)(table), dtype=np.int64)
    get = table.get
    return np.fromiter((get(name, -1) for name in names), dtype=np.int64, count=len(names))


def events_of_ids(ids: Sequence[str], events: Mapping[str, RequestEvents]
                  ) -> dict[str, SnapshotEvents]:
    """`events_by_id` of each request's events, over the companies `ids` lists in order."""
    index = id_positions(ids)
    return {rid: events_by_id(index, found) for rid, found in events.items()}


def id_positions(ids: Sequence[str]) -> dict[str, int]:
    """The position of each of `ids` (distinct) in it.

    >>> id_positions(["focal", "acme"])
    {'focal': 0, 'acme': 1}
    """
    return dict(zip(ids, range(len(ids)), strict=True))


def events_by_id(index: dict[str, int], events: RequestEvents) -> SnapshotEvents:
    """The `SnapshotEvents` of events read as tuples of ids, over the companies at the
    positions `index` gives (events naming another company are left out)."""
    return _event_columns(index, _transposed(events.cascades, 3),
                          _transposed(events.acknowledgements, 4))


def _event_columns(index: dict[str, int], cascades: IdColumns, acks: IdColumns
                   ) -> SnapshotEvents:
    (froms, tos, sent), (names, statuses, ats, seqs) = cascades, acks
    src, dst, company = _coded(index, froms), _coded(index, tos), _coded(index, names)
    held, known = company >= 0, (src >= 0) & (dst >= 0)
    return SnapshotEvents(
        cascade_from=src[known], cascade_to=dst[known],
        cascade_sent=np.array(sent, dtype=np.int64)[known], ack_company=company[held],
        ack_status=status_codes(statuses)[held],
        ack_at=np.array(ats, dtype=np.int64)[held],
        ack_seq=np.array(seqs, dtype=np.int64)[held],
    )


def _transposed(rows: Sequence[Sequence[Any]], width: int) -> IdColumns:
    return tuple(zip(*rows, strict=True)) if rows else ((),) * width
