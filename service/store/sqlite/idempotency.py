"""Idempotency keys on SQLite: a part of `SqliteStore` (see `ports.IdempotencyStore`).

One row per (scope, key). In flight: `status` NULL, `claim` the claiming request's token,
`expires_at` the end of its lease. Finished: the stored response, `claim` NULL, `expires_at`
the end of its retention. Times are epoch microseconds.
"""

from __future__ import annotations

import sqlite3
from contextlib import AbstractContextManager
from typing import Protocol

from service.store.errors import ClaimLost
from service.store.records import IdempotencyRecord

__all__ = ["IDEMPOTENCY_TABLES", "SqliteIdempotency"]

PRUNE_BATCH = 1000  # expired records deleted per claim: keeps every claim cheap

IDEMPOTENCY_TABLES = (
    """CREATE TABLE IF NOT EXISTS idempotency_keys (
        scope TEXT NOT NULL,
        key TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        claim TEXT,
        status INTEGER,
        body BLOB NOT NULL DEFAULT x'',
        content_type TEXT NOT NULL DEFAULT 'application/json',
        expires_at INTEGER NOT NULL,
        PRIMARY KEY (scope, key)
    ) WITHOUT ROWID""",
    "CREATE INDEX IF NOT EXISTS idempotency_expiry ON idempotency_keys (expires_at)",
)
CLEAR_IDEMPOTENCY = "DELETE FROM idempotency_keys"

_SELECT = (
    "SELECT fingerprint, status, body, content_type, expires_at FROM idempotency_keys "
    "WHERE scope = ? AND key = ?"
)
_PRUNE_BY_KEY = "DELETE FROM idempotency_keys WHERE scope = ? AND key = ? AND expires_at < ?"
_PRUNE = (
    "DELETE FROM idempotency_keys WHERE (scope, key) IN (SELECT scope, key "
    "FROM idempotency_keys WHERE expires_at < ? LIMIT ?)"
)
_CLAIM = (
    "INSERT OR REPLACE INTO idempotency_keys (scope, key, fingerprint, claim, expires_at) "
    "VALUES (?, ?, ?, ?, ?)"
)
_COMPLETE = (
    "UPDATE idempotency_keys SET status = ?, body = ?, content_type = ?, claim = NULL, "
    "expires_at = ? WHERE scope = ? AND key = ? AND claim = ?"
)
_RELEASE = "DELETE FROM idempotency_keys WHERE scope = ? AND key = ? AND claim = ?"


class _Transactions(Protocol):
    def _write(self) -> AbstractContextManager[sqlite3.Connection]: ...


class SqliteIdempotency:
    """The port's idempotency-key methods; BEGIN IMMEDIATE makes each claim race-free."""

    def claim_idempotency_key(
        self: _Transactions,
        scope: str,
        key: str,
        *,
        fingerprint: str,
        token: str,
        now_us: int,
        lease_until_us: int,
    ) -> IdempotencyRecord | None:
        with self._write() as conn:
            conn.execute(_PRUNE_BY_KEY, (scope, key, now_us))
            conn.execute(_PRUNE, (now_us, PRUNE_BATCH))
            row = conn.execute(_SELECT, (scope, key)).fetchone()
            if row is not None:
                return IdempotencyRecord(
                    fingerprint=row[0], status=row[1], body=bytes(row[2]), content_type=row[3]
                )
            conn.execute(_CLAIM, (scope, key, fingerprint, token, lease_until_us))
            return None

    def complete_idempotency_key(
        self: _Transactions,
        scope: str,
        key: str,
        *,
        token: str,
        status: int,
        body: bytes,
        content_type: str,
        expires_at_us: int,
    ) -> None:
        with self._write() as conn:
            done = conn.execute(
                _COMPLETE, (status, body, content_type, expires_at_us, scope, key, token)
            )
            if done.rowcount != 1:
                raise ClaimLost(f"idempotency key {key!r} was claimed by another request")

    def release_idempotency_key(self: _Transactions, scope: str, key: str, *, token: str) -> None:
        with self._write() as conn:
            conn.execute(_RELEASE, (scope, key, token))
