"""Webhooks and their delivery outbox on Neo4j: a mixin of `Neo4jStore` (see the port)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

from neo4j import ManagedTransaction

from service.store import neo4j_queries as cypher
from service.store.port import Delivery, DeliveryAttempt, Webhook, WebhookEvent

__all__ = ["Neo4jWebhooks"]

_T = TypeVar("_T")


class _Transactions(Protocol):
    def _write(self, work: Callable[..., _T], *args: Any) -> _T: ...
    def _read(self, work: Callable[..., _T], *args: Any) -> _T: ...


def _run(query: str, **params: Any) -> Callable[[ManagedTransaction], list[dict[str, Any]]]:
    def work(tx: ManagedTransaction) -> list[dict[str, Any]]:
        return [record.data() for record in tx.run(query, params)]

    return work


def _hook(row: dict[str, Any]) -> Webhook:
    return Webhook(**{**row, "events": tuple(row["events"])})


def _delivery(row: dict[str, Any]) -> Delivery:
    attempts = tuple(DeliveryAttempt(**a) for a in json.loads(row.pop("attempts_json")))
    return Delivery(**{**row, "payload": bytes(row["payload"]), "attempts": attempts})


class Neo4jWebhooks:
    """The port's webhook methods."""

    def add_webhook(self: _Transactions, hook: Webhook) -> None:
        fields = dataclasses.asdict(hook)
        self._write(_run(cypher.CREATE_WEBHOOK, **{**fields, "events": list(hook.events)}))

    def list_webhooks(self: _Transactions) -> list[Webhook]:
        return [_hook(row) for row in self._read(_run(cypher.LIST_WEBHOOKS))]

    def get_webhook(self: _Transactions, webhook_id: str) -> Webhook | None:
        rows = self._read(_run(cypher.GET_WEBHOOK, id=webhook_id))
        return _hook(rows[0]) if rows else None

    def delete_webhook(self: _Transactions, webhook_id: str) -> bool:
        [row] = self._write(_run(cypher.DELETE_WEBHOOK, id=webhook_id))
        return bool(row["deleted"])

    def enqueue_events(self: _Transactions, events: Sequence[WebhookEvent]) -> int:
        if not events:
            return 0
        rows = [dataclasses.asdict(event) for event in events]
        return sum(row["created"] for row in
                   self._write(_run(cypher.ENQUEUE_DELIVERIES, events=rows)))

    def claim_deliveries(self: _Transactions, *, now_us: int, lease_until_us: int,
                         limit: int) -> list[tuple[Delivery, Webhook]]:
        rows = self._write(_run(cypher.CLAIM_DELIVERIES, now=now_us,
                                lease_until=lease_until_us, limit=limit))
        return [(_delivery({k: v for k, v in row.items() if k != "webhook"}),
                 _hook(row["webhook"])) for row in rows]

    def finish_attempt(self: _Transactions, delivery_id: str, attempt: DeliveryAttempt, *,
                       state: str, next_attempt_at_us: int | None) -> None:
        def work(tx: ManagedTransaction) -> None:
            row = tx.run(cypher.DELIVERY_ATTEMPTS, id=delivery_id).single()
            if row is None:
                return  # the webhook was deleted meanwhile
            attempts = [*json.loads(row["attempts_json"]), dataclasses.asdict(attempt)]
            tx.run(cypher.FINISH_ATTEMPT, id=delivery_id, attempts_json=json.dumps(attempts),
                   state=state, next_attempt_at=next_attempt_at_us).consume()

        self._write(work)

    def list_deliveries(self: _Transactions, webhook_id: str, *,
                        limit: int = 100) -> list[Delivery]:
        rows = self._read(_run(cypher.LIST_DELIVERIES, webhook_id=webhook_id, limit=limit))
        return [_delivery(row) for row in rows]
