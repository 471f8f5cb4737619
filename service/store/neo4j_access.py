"""API keys and the audit trail on Neo4j: a mixin of `Neo4jStore` (see the port)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from neo4j import ManagedTransaction

from service.store import neo4j_queries as cypher
from service.store.port import ApiKey, AuditEntry

__all__ = ["Neo4jAccess"]

_T = TypeVar("_T")


class _Transactions(Protocol):
    def _write(self, work: Callable[..., _T], *args: Any) -> _T: ...
    def _read(self, work: Callable[..., _T], *args: Any) -> _T: ...


def _run(query: str, **params: Any) -> Callable[[ManagedTransaction], list[dict[str, Any]]]:
    def work(tx: ManagedTransaction) -> list[dict[str, Any]]:
        return [record.data() for record in tx.run(query, params)]

    return work


class Neo4jAccess:
    """The port's key and audit methods."""

    def add_api_key(self: _Transactions, key: ApiKey) -> None:
        fields = dataclasses.asdict(key)
        fields.pop("revoked_at_us")
        self._write(_run(cypher.CREATE_API_KEY, **fields))

    def get_api_key(self: _Transactions, key_id: str) -> ApiKey | None:
        rows = self._read(_run(cypher.GET_API_KEY, id=key_id))
        return ApiKey(**rows[0]) if rows else None

    def list_api_keys(self: _Transactions) -> list[ApiKey]:
        return [ApiKey(**row) for row in self._read(_run(cypher.LIST_API_KEYS))]

    def revoke_api_key(self: _Transactions, key_id: str, *, at_us: int) -> bool:
        [row] = self._write(_run(cypher.REVOKE_API_KEY, id=key_id, at=at_us))
        return bool(row["found"])

    def record_audit(self: _Transactions, entry: AuditEntry) -> None:
        fields = dataclasses.asdict(entry)
        fields.pop("seq")
        self._write(_run(cypher.RECORD_AUDIT, **fields))

    def list_audit(
        self: _Transactions,
        *,
        key_id: str | None = None,
        since_us: int | None = None,
        until_us: int | None = None,
        before_seq: int | None = None,
        limit: int = 100,
    ) -> list[AuditEntry]:
        rows = self._read(
            _run(
                cypher.LIST_AUDIT,
                key_id=key_id,
                since=since_us,
                until=until_us,
                before=before_seq,
                limit=limit,
            )
        )
        return [AuditEntry(**row) for row in rows]
