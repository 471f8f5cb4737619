"""API keys and the audit trail on Neo4j: a part of `Neo4jStore` (see the ports)."""

from __future__ import annotations

import dataclasses

from service.store.neo4j import queries as cypher
from service.store.neo4j.tx import Transactions, row_dicts
from service.store.records import ApiKey, AuditEntry

__all__ = ["Neo4jAccess"]


class Neo4jAccess:
    """The port's key and audit methods."""

    def add_api_key(self: Transactions, key: ApiKey) -> None:
        fields = dataclasses.asdict(key)
        fields.pop("revoked_at_us")
        self._write(row_dicts, cypher.CREATE_API_KEY, fields)

    def get_api_key(self: Transactions, key_id: str) -> ApiKey | None:
        rows = self._read(row_dicts, cypher.GET_API_KEY, {"id": key_id})
        return ApiKey(**rows[0]) if rows else None

    def list_api_keys(self: Transactions) -> list[ApiKey]:
        return [ApiKey(**row) for row in self._read(row_dicts, cypher.LIST_API_KEYS, {})]

    def revoke_api_key(self: Transactions, key_id: str, *, at_us: int) -> bool:
        [row] = self._write(row_dicts, cypher.REVOKE_API_KEY, {"id": key_id, "at": at_us})
        return bool(row["found"])

    def record_audit(self: Transactions, entry: AuditEntry) -> None:
        fields = dataclasses.asdict(entry)
        fields.pop("seq")
        self._write(row_dicts, cypher.RECORD_AUDIT, fields)

    def list_audit(
        self: Transactions,
        *,
        key_id: str | None = None,
        since_us: int | None = None,
        until_us: int | None = None,
        before_seq: int | None = None,
        limit: int = 100,
    ) -> list[AuditEntry]:
        params = {"key_id": key_id, "since": since_us, "until": until_us,
                  "before": before_seq, "limit": limit}
        rows = self._read(row_dicts, cypher.LIST_AUDIT, params)
        return [AuditEntry(**row) for row in rows]
