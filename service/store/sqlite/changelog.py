"""The revision and the coverage engine's reads on SQLite: a part of `SqliteStore` (see
`ports.ChangeLog`; the integer cold read itself is in `snapshot`). Reads only."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from service.store.changes import assemble_changes
from service.store.records import ChangeSet, Network, RequestEvents, Snapshot
from service.store.snapshots import snapshot_of
from service.store.sqlite import statements as sql
from service.store.sqlite.connection import Row, Transactions

__all__ = ["SqliteChangeLog", "network", "request_events", "snapshot_by_id"]


def network(conn: sqlite3.Connection) -> Network:
    """Every company's kind, every link and the revision, in the caller's read."""
    kinds = dict(conn.execute(sql.NETWORK_KINDS).fetchall())
    links = conn.execute(sql.NETWORK_LINKS).fetchall()
    revision = int(conn.execute(sql.SELECT_REVISION).fetchone()[0])
    return Network(kinds=kinds, links=links, revision=revision)


def request_events(conn: sqlite3.Connection, request_id: str) -> RequestEvents:
    cascades = conn.execute(sql.REQUEST_CASCADE_ROWS, (request_id,)).fetchall()
    acks = conn.execute(sql.REQUEST_ACK_ROWS, (request_id,)).fetchall()
    return RequestEvents(cascades=cascades, acknowledgements=acks)


def snapshot_by_id(conn: sqlite3.Connection, request_ids: Sequence[str]) -> Snapshot:
    """The snapshot read by company id, in the caller's read: slower than the integer
    read, but it needs no keys (rows an older worker wrote after the upgrade)."""
    events = {rid: request_events(conn, rid) for rid in dict.fromkeys(request_ids)}
    return snapshot_of(network(conn), events)


class SqliteChangeLog:
    """The port's revision, network, events and change-log reads."""

    def revision(self: Transactions) -> int:
        return int(self._select(sql.SELECT_REVISION)[0][0])

    def load_network(self: Transactions) -> Network:
        with self._read() as conn:
            return network(conn)

    def request_events(self: Transactions, request_id: str) -> RequestEvents:
        """Cascade events (sending order) and answers (seq order) of one request."""
        with self._read() as conn:
            return request_events(conn, request_id)

    def changes_since(self: Transactions, revision: int, *, limit: int = 50_000
                      ) -> ChangeSet | None:
        """See `ChangeLog.changes_since`; one snapshot, so exactly the changes up to
        `ChangeSet.revision`."""
        changed: list[list[Row]] = []
        with self._read() as conn:
            current, log_from = conn.execute(sql.SELECT_LOG).fetchone()
            if not log_from <= revision <= current:
                return None
            left = limit
            for query in sql.CHANGE_LOG:
                rows = conn.execute(query, {"since": revision, "limit": left + 1}).fetchall()
                left -= len(rows)
                if left < 0:
                    return None
                changed.append(rows)
        return assemble_changes(int(current), *changed)
