"""The store revision node: the write lock every writer takes, the counters it holds (revision,
last answer seq, last company key), and the tombstones of the change log."""

from __future__ import annotations

from functools import cache

__all__ = [
    "ADD_TOMBSTONES",
    "BUMP_REVISION",
    "LOCK_REVISION",
    "READ_KEYED_REVISION",
    "READ_REVISION",
    "SET_COMPANY_KEY",
    "bumping",
    "under_lock",
]

_LOCK = """
MERGE (r:StoreRevision {id: 'main'})
ON CREATE SET r.value = 0, r.ack_seq = 0, r.log_from = 0
SET r.locked = true
WITH r.value AS value, r.ack_seq AS ack_seq, coalesce(r.company_key, 0) AS company_key
"""

LOCK_REVISION = _LOCK + "RETURN value, ack_seq, company_key"
"""Take the write lock on the revision node until commit, then read it (with the last
company key handed out). Every write transaction runs this first, so writers are
serialised and revision/seq/key order is commit order. The SET writes a constant on
purpose: `SET r.value = r.value` would read the value before waiting for the lock and
write a stale one back (a lost update)."""


def under_lock(read: str) -> str:
    """LOCK_REVISION, then `read` (which returns exactly one record, e.g. of `collect`ed
    lists) in the same query: a writer's first read costs no round trip of its own. The
    lock is taken before `read` runs (one row flows through the clauses in order)."""
    return f"{_LOCK}CALL () {{{read}}}\nRETURN *"


@cache
def bumping(write: str) -> str:
    """`write` (an `UNWIND` write returning `written`), then BUMP_REVISION and the counters
    handed out in this transaction (`$last_seq`, `$last_key`; null: unchanged) in the
    same query: the last write of a transaction that changed data costs no round trip
    more than the write. Under the lock, as every write."""
    return (f"CALL () {{{write}}}\n"
            "MATCH (r:StoreRevision {id: 'main'})\n"
            "SET r.value = r.value + 1, r.ack_seq = coalesce($last_seq, r.ack_seq),\n"
            "    r.company_key = coalesce($last_key, r.company_key)\n"
            "RETURN written")


READ_REVISION = "MATCH (r:StoreRevision {id: 'main'}) RETURN r.value AS value"
"""The current store revision (no row on an empty database: revision 0)."""

READ_KEYED_REVISION = """
MATCH (r:StoreRevision {id: 'main'})
RETURN r.value AS value, coalesce(r.company_key, 0) AS company_key
"""
"""The current store revision and the last company key handed out (no row: both 0)."""

BUMP_REVISION = """
MATCH (r:StoreRevision {id: 'main'})
SET r.value = r.value + 1
RETURN r.value AS value
"""
"""Advance the revision by one; run in the transaction of a write that changed data."""

SET_COMPANY_KEY = """
MATCH (r:StoreRevision {id: 'main'})
SET r.company_key = $last_key
"""
"""Record the last company key handed out (read under the lock by LOCK_REVISION)."""

ADD_TOMBSTONES = """
UNWIND $rows AS row
MERGE (t:Tombstone {id: row.id})
SET t.entity = row.entity, t.key = row.key, t.key2 = row.key2, t.revision = $revision
"""
"""Record deletions at `$revision`: one node per deleted key (`id`: JSON of [entity, key,
key2]) holding the latest deletion. Entities: 'company' (key = id), 'link' (key = buyer,
key2 = supplier), 'events' (key = a request that lost cascade events or answers)."""
