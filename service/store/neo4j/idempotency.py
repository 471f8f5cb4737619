"""Idempotency keys on Neo4j: a part of `Neo4jStore` (see `ports.IdempotencyStore`).

A record is one `:IdempotencyKey` node whose `id` is the scope and key joined by a NUL
(neither may contain one: they come from HTTP headers and paths). The claim locks the node
first (MERGE + SET) and reads it after, so two concurrent claims never both win.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from neo4j import ManagedTransaction

from service.store.errors import ClaimLost
from service.store.neo4j import queries as cypher
from service.store.records import IdempotencyRecord

__all__ = ["Neo4jIdempotency"]

PRUNE_BATCH = 1000  # expired records deleted per claim: keeps every claim cheap
_T = TypeVar("_T")


class _Transactions(Protocol):
    def _write(self, work: Callable[..., _T], *args: Any) -> _T: ...


def record_id(scope: str, key: str) -> str:
    return f"{scope}\x00{key}"


def _claim_tx(
    tx: ManagedTransaction,
    scope: str,
    key: str,
    fingerprint: str,
    token: str,
    now_us: int,
    lease_until_us: int,
) -> IdempotencyRecord | None:
    tx.run(cypher.PRUNE_IDEMPOTENCY_KEYS, now=now_us, limit=PRUNE_BATCH).consume()
    params = {"id": record_id(scope, key), "fingerprint": fingerprint}
    tx.run(cypher.LOCK_IDEMPOTENCY_KEY, params).consume()
    row = tx.run(
        cypher.CLAIM_IDEMPOTENCY_KEY,
        params,
        token=token,
        now=now_us,
        lease_until=lease_until_us,
    ).single(strict=True)
    if row["free"]:
        return None
    return IdempotencyRecord(
        fingerprint=row["fingerprint"],
        status=row["status"],
        body=bytes(row["body"] or b""),
        content_type=row["content_type"] or "application/json",
    )


def _complete_tx(tx: ManagedTransaction, params: dict[str, Any]) -> None:
    done = tx.run(cypher.COMPLETE_IDEMPOTENCY_KEY, params).single(strict=True)["done"]
    if done != 1:
        raise ClaimLost("the idempotency key was claimed by another request")


def _release_tx(tx: ManagedTransaction, scope: str, key: str, token: str) -> None:
    tx.run(cypher.RELEASE_IDEMPOTENCY_KEY, id=record_id(scope, key), token=token).consume()


class Neo4jIdempotency:
    """The port's idempotency-key methods."""

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
        return self._write(_claim_tx, scope, key, fingerprint, token, now_us, lease_until_us)

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
        params = {
            "id": record_id(scope, key),
            "token": token,
            "status": status,
            "body": body,
            "content_type": content_type,
            "expires_at": expires_at_us,
        }
        self._write(_complete_tx, params)

    def release_idempotency_key(self: _Transactions, scope: str, key: str, *, token: str) -> None:
        self._write(_release_tx, scope, key, token)
