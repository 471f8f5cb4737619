"""The SQLite store's cold read for the coverage engine: `load_snapshot` as integers.

Every company id gets an integer key once (`company_keys`), and links, cascades and answers
carry the keys of the companies they name, so reading a million links and a request's
events is a read of integer columns straight into numpy: no Python string or tuple per
row, and no dictionary lookup per id. Each column comes as one comma-separated text that
SQLite aggregates in a single step, during which sqlite3 releases the GIL, so the network
and the events are read on two connections at once. (One text per column: SQLite's
default limit of 10^9 bytes per value bounds this at about a hundred million links.)

`fill_company_keys` is migration step 3, the upgrade of a database written before the keys
existed: it only adds keys, it changes no data and no revision. Rows a worker of that older
version writes after the upgrade carry no keys: where companies or links lack them, the read
raises `MissingKeys` and the store reads by id instead (`changelog.snapshot_by_id`); where
only events lack them, those are read by id in the same read. Either way it writes nothing.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from contextlib import AbstractContextManager

import numpy as np

from service.store.records import ACK_STATUSES, Snapshot, SnapshotEvents
from service.store.snapshots import PendingEvents, events_of_ids, keyed_events, position_table
from service.store.sqlite.changelog import request_events
from service.store.sqlite.codecs import epoch_us_sql, split_joined

__all__ = ["KEY_COLUMNS", "MissingKeys", "fill_company_keys", "missing_key_columns",
           "read_events", "read_network", "snapshot"]

KEY_COLUMNS = {  # table -> (key column, id column) of the companies a row names
    "companies": (("key", "id"),),
    "links": (("buyer_key", "buyer_id"), ("supplier_key", "supplier_id")),
    "cascades": (("from_key", "from_id"), ("to_key", "to_id")),
    "acknowledgements": (("company_key", "company_id"),),
}
EventsRead = Callable[[], AbstractContextManager[sqlite3.Connection]]
"""Opens a read transaction for the events half of the cold read."""
_KEY = "(SELECT k.key FROM company_keys AS k WHERE k.id = {}.{})"
FILL_KEYS = (
    "INSERT OR IGNORE INTO company_keys (id) SELECT id FROM companies ORDER BY id",
    *(
        f"UPDATE {table} SET "
        + ", ".join(f"{key} = {_KEY.format(table, ref)}" for key, ref in columns)
        + " WHERE "
        + " OR ".join(f"{key} IS NULL" for key, _ in columns)
        for table, columns in KEY_COLUMNS.items()
    ),
)
"""Give every company a key and every row the keys of its companies (where missing)."""

# Ids and kinds joined by "/", which a company id never contains (`CompanyId`).
COMPANIES = (
    "SELECT coalesce(group_concat(coalesce(key, -1)), ''), "
    "coalesce(group_concat(id, '/'), ''), coalesce(group_concat(kind, '/'), '') FROM companies"
)
COMPANY_ROWS = "SELECT coalesce(key, -1), id, kind FROM companies"
"""The same row by row, for a database holding an id with "/" (written by hand)."""
CATEGORIES = "SELECT DISTINCT category FROM links"
CASE_LIMIT = 64  # names coded by a CASE of parameters; more by a join (twice as slow)


def coded(column: str, count: int) -> str:
    """SQL for the code of `column` among `count` names given as parameters ?1..?count."""
    if count > CASE_LIMIT:
        return f"(SELECT n.key FROM json_each(?1) AS n WHERE n.value = {column})"
    whens = " ".join(f"WHEN ?{i + 1} THEN {i}" for i in range(count))
    return f"CASE {column} {whens} END" if count else "NULL"


def integer_columns(rows: str, *columns: str) -> str:
    """SQL giving each integer column of `rows` as ONE text of comma-separated values:
    SQLite builds them in a single step with the GIL released, where a row at a time
    would hand the GIL back and forth (and two reading threads would take turns)."""
    texts = ", ".join(f"coalesce(group_concat(coalesce({c}, -1)), '')" for c in columns)
    return f"SELECT {texts} FROM {rows}"


def links_sql(count: int) -> str:
    """Links as (buyer key, supplier key, category code) among `count` categories."""
    return integer_columns("links", "buyer_key", "supplier_key", coded("category", count))


_REQUEST = f"WHERE request_id = ?{len(ACK_STATUSES) + 1}"  # after the statuses
CASCADES = integer_columns(f"cascades {_REQUEST}", "from_key", "to_key",
                           epoch_us_sql("sent_at"))
ACKS = integer_columns(f"acknowledgements {_REQUEST}", "company_key",
                       coded("status", len(ACK_STATUSES)), epoch_us_sql("at"), "seq")


class MissingKeys(Exception):
    """Rows without company keys (written by an older version): read by id instead."""


def missing_key_columns(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    """(table, column) of the key columns a database of an older version lacks."""
    missing = []
    for table, columns in KEY_COLUMNS.items():
        present = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        missing += [(table, key) for key, _ in columns if key not in present]
    return missing


def fill_company_keys(conn: sqlite3.Connection) -> None:
    """Add the key columns to a database of an older version, then fill what is missing
    (in the caller's write transaction). Changes no data and no revision."""
    for table, key in missing_key_columns(conn):
        conn.execute(f"ALTER TABLE {table} ADD COLUMN {key} INTEGER")
    for statement in FILL_KEYS:
        conn.execute(statement)


def _columns(conn: sqlite3.Connection, sql: str, params: Sequence[object], width: int
             ) -> np.ndarray:
    """The integer columns of `sql` (`integer_columns`) as an array of (rows, width)."""
    texts = conn.execute(sql, params).fetchone()
    columns = [np.fromstring(text, dtype=np.int64, sep=",") for text in texts]
    return np.stack(columns, axis=1) if columns[0].size else np.zeros((0, width), np.int64)


def read_network(conn: sqlite3.Connection) -> tuple[list[str], list[str], np.ndarray,
                                                      np.ndarray, tuple[str, ...]]:
    """(ids, kinds, key -> position table, links as (buyer, supplier, category code)
    rows of positions, category names), in the caller's read transaction."""
    keys_text, ids_text, kinds_text = conn.execute(COMPANIES).fetchone()
    keys = np.fromstring(keys_text, dtype=np.int64, sep=",")
    columns = split_joined([ids_text, kinds_text], keys.size)
    if columns is None:
        rows = conn.execute(COMPANY_ROWS).fetchall()
        keys = np.array([row[0] for row in rows], dtype=np.int64)
        columns = [[row[1] for row in rows], [row[2] for row in rows]]
    ids, kinds = columns
    if (keys < 0).any():
        raise MissingKeys
    position = position_table(keys)
    categories = tuple(row[0] for row in conn.execute(CATEGORIES))
    names = (json.dumps(categories),) if len(categories) > CASE_LIMIT else categories
    links = _columns(conn, links_sql(len(categories)), names, 3)
    if (links < 0).any():  # (a category code is never missing within one read)
        raise MissingKeys
    links[:, 0], links[:, 1] = position[links[:, 0]], position[links[:, 1]]
    return ids, kinds, position, links, categories


def read_events(conn: sqlite3.Connection, request_ids: Sequence[str]
                ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per request: (cascade rows (from key, to key, sent µs), answer rows (company key,
    status code, at µs, seq)), in the caller's read transaction."""
    found = {}
    for request_id in dict.fromkeys(request_ids):
        params = (*ACK_STATUSES, request_id)
        cascades = _columns(conn, CASCADES, params, 3)
        acks = _columns(conn, ACKS, params, 4)
        if (cascades[:, :2] < 0).any() or (acks[:, 0] < 0).any():
            raise MissingKeys
        found[request_id] = (cascades, acks)
    return found


def snapshot(network_conn: sqlite3.Connection, events_read: EventsRead | None,
             request_ids: Sequence[str]) -> Snapshot:
    """Read the network on `network_conn` (in a read transaction that has not read yet)
    and, at the same time, the events in a read transaction of `events_read` (None: after
    the network, on `network_conn`). The snapshot comes back once the network is read,
    its events still being read (`PendingEvents`): the engine builds the network's arrays
    meanwhile. The events transaction starts reading after the network one did, so it
    sees at least the network's revision."""
    revision = int(network_conn.execute("SELECT revision FROM store_meta").fetchone()[0])
    if events_read is None or not request_ids:
        ids, kinds, position, links, categories = read_network(network_conn)
        events: Mapping[str, SnapshotEvents] = _keyed(
            position, read_events(network_conn, request_ids))
    else:
        network: Future[tuple[np.ndarray, list[str]]] = Future()
        pending: Future[dict[str, SnapshotEvents]] = Future()
        threading.Thread(target=_read_events, args=(pending, events_read, request_ids, network),
                         name="snapshot-events", daemon=True).start()
        try:
            ids, kinds, position, links, categories = read_network(network_conn)
        except BaseException as exc:
            network.set_exception(exc)
            raise
        network.set_result((position, ids))
        events = PendingEvents(pending)
    return Snapshot(
        ids=ids, kinds=kinds, buyer=links[:, 0].copy(), supplier=links[:, 1].copy(),
        category=links[:, 2].copy(), categories=categories, revision=revision, events=events,
    )


def _keyed(position: np.ndarray, read: dict[str, tuple[np.ndarray, np.ndarray]]
           ) -> dict[str, SnapshotEvents]:
    """Events read as rows of company keys, over the companies at their positions."""
    return {rid: keyed_events(position, cascades.T, acks.T)
            for rid, (cascades, acks) in read.items()}


def _read_events(result: Future[dict[str, SnapshotEvents]], events_read: EventsRead,
                 request_ids: Sequence[str],
                 network: Future[tuple[np.ndarray, list[str]]]) -> None:
    """The events of `request_ids` over the network's companies into `result`; by id
    where rows lack their keys (an older worker's since the upgrade), in the same read."""
    try:
        with events_read() as conn:
            try:
                read = read_events(conn, request_ids)
            except MissingKeys:
                by_id = {rid: request_events(conn, rid) for rid in dict.fromkeys(request_ids)}
                result.set_result(events_of_ids(network.result()[1], by_id))
                return
        result.set_result(_keyed(network.result()[0], read))
    except BaseException as exc:  # raised where the events are used
        result.set_exception(exc)
