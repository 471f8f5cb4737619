"""API keys and the audit trail on SQLite: a part of `SqliteStore` (see the ports)."""

from __future__ import annotations

import sqlite3
from contextlib import AbstractContextManager
from typing import Any, Protocol

from service.store.records import ApiKey, AuditEntry

__all__ = ["ACCESS_TABLES", "CLEAR_ACCESS", "SqliteAccess"]

ACCESS_TABLES = (
    """CREATE TABLE IF NOT EXISTS api_keys (
        id TEXT PRIMARY KEY,
        secret_hash TEXT NOT NULL,
        role TEXT NOT NULL,
        company_id TEXT,
        name TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER,
        revoked_at INTEGER
    )""",
    """CREATE TABLE IF NOT EXISTS audit_log (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        key_id TEXT NOT NULL,
        method TEXT NOT NULL,
        path TEXT NOT NULL,
        status INTEGER NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS audit_by_key ON audit_log (key_id, seq)",
    "CREATE INDEX IF NOT EXISTS audit_by_time ON audit_log (at)",
)
CLEAR_ACCESS = ("DELETE FROM api_keys", "DELETE FROM audit_log")

_KEY_COLUMNS = "id, secret_hash, role, company_id, name, created_at, expires_at, revoked_at"
_AUDIT_COLUMNS = "at, key_id, method, path, status, seq"


class _Transactions(Protocol):
    def _write(self) -> AbstractContextManager[sqlite3.Connection]: ...
    def _read(self) -> AbstractContextManager[sqlite3.Connection]: ...


class SqliteAccess:
    """The port's key and audit methods."""

    def add_api_key(self: _Transactions, key: ApiKey) -> None:
        with self._write() as conn:
            conn.execute(
                f"INSERT INTO api_keys ({_KEY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    key.id,
                    key.secret_hash,
                    key.role,
                    key.company_id,
                    key.name,
                    key.created_at_us,
                    key.expires_at_us,
                    key.revoked_at_us,
                ),
            )

    def get_api_key(self: _Transactions, key_id: str) -> ApiKey | None:
        with self._read() as conn:
            row = conn.execute(
                f"SELECT {_KEY_COLUMNS} FROM api_keys WHERE id = ?", (key_id,)
            ).fetchone()
        return None if row is None else ApiKey(*row)

    def list_api_keys(self: _Transactions) -> list[ApiKey]:
        with self._read() as conn:
            rows = conn.execute(
                f"SELECT {_KEY_COLUMNS} FROM api_keys ORDER BY created_at, id"
            ).fetchall()
        return [ApiKey(*row) for row in rows]

    def revoke_api_key(self: _Transactions, key_id: str, *, at_us: int) -> bool:
        with self._write() as conn:
            done = conn.execute(
                "UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?",
                (at_us, key_id),
            )
            return done.rowcount == 1

    def record_audit(self: _Transactions, entry: AuditEntry) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO audit_log (at, key_id, method, path, status) VALUES (?, ?, ?, ?, ?)",
                (entry.at_us, entry.key_id, entry.method, entry.path, entry.status),
            )

    def list_audit(
        self: _Transactions,
        *,
        key_id: str | None = None,
        since_us: int | None = None,
        until_us: int | None = None,
        before_seq: int | None = None,
        limit: int = 100,
    ) -> list[AuditEntry]:
        conditions: list[str] = []
        params: list[Any] = []
        for clause, value in (
            ("key_id = ?", key_id),
            ("at >= ?", since_us),
            ("at < ?", until_us),
            ("seq < ?", before_seq),
        ):
            if value is not None:
                conditions.append(clause)
                params.append(value)
        where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
        with self._read() as conn:
            rows = conn.execute(
                f"SELECT {_AUDIT_COLUMNS} FROM audit_log {where} ORDER BY seq DESC LIMIT ?",
                (*params, limit),
            ).fetchall()
        return [AuditEntry(*row) for row in rows]
