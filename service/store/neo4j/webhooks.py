"""Webhooks and their delivery outbox on Neo4j: a part of `Neo4jStore` (see the ports)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from typing import Any

from neo4j import ManagedTransaction

from service.store.neo4j import queries as cypher
from service.store.neo4j.tx import Transactions, row_dicts
from service.store.records import Delivery, DeliveryAttempt, Webhook, WebhookEvent

__all__ = ["Neo4jWebhooks"]


def _hook(row: dict[str, Any]) -> Webhook:
    return Webhook(**{**row, "events": tuple(row["events"])})


def _delivery(row: dict[str, Any]) -> Delivery:
    attempts = tuple(DeliveryAttempt(**a) for a in json.loads(row.pop("attempts_json")))
    return Delivery(**{**row, "payload": bytes(row["payload"]), "attempts": attempts})


class Neo4jWebhooks:
    """The port's webhook methods."""

    def add_webhook(self: Transactions, hook: Webhook) -> None:
        fields = dataclasses.asdict(hook)
        self._write(row_dicts, cypher.CREATE_WEBHOOK, {**fields, "events": list(hook.events)})

    def list_webhooks(self: Transactions) -> list[Webhook]:
        return [_hook(row) for row in self._read(row_dicts, cypher.LIST_WEBHOOKS, {})]

    def get_webhook(self: Transactions, webhook_id: str) -> Webhook | None:
        rows = self._read(row_dicts, cypher.GET_WEBHOOK, {"id": webhook_id})
        return _hook(rows[0]) if rows else None

    def delete_webhook(self: Transactions, webhook_id: str) -> bool:
        [row] = self._write(row_dicts, cypher.DELETE_WEBHOOK, {"id": webhook_id})
        return bool(row["deleted"])

    def enqueue_events(self: Transactions, events: Sequence[WebhookEvent]) -> int:
        if not events:
            return 0
        rows = [dataclasses.asdict(event) for event in events]
        return sum(row["created"] for row in
                   self._write(row_dicts, cypher.ENQUEUE_DELIVERIES, {"events": rows}))

    def claim_deliveries(self: Transactions, *, now_us: int, lease_until_us: int,
                         limit: int) -> list[tuple[Delivery, Webhook]]:
        params = {"now": now_us, "lease_until": lease_until_us, "limit": limit}
        rows = self._write(row_dicts, cypher.CLAIM_DELIVERIES, params)
        return [(_delivery({k: v for k, v in row.items() if k != "webhook"}),
                 _hook(row["webhook"])) for row in rows]

    def finish_attempt(self: Transactions, delivery_id: str, attempt: DeliveryAttempt, *,
                       state: str, next_attempt_at_us: int | None) -> None:
        def work(tx: ManagedTransaction) -> None:
            row = tx.run(cypher.DELIVERY_ATTEMPTS, id=delivery_id).single()
            if row is None:
                return  # the webhook was deleted meanwhile
            attempts = [*json.loads(row["attempts_json"]), dataclasses.asdict(attempt)]
            tx.run(cypher.FINISH_ATTEMPT, id=delivery_id, attempts_json=json.dumps(attempts),
                   state=state, next_attempt_at=next_attempt_at_us).consume()

        self._write(work)

    def list_deliveries(self: Transactions, webhook_id: str, *,
                        limit: int = 100) -> list[Delivery]:
        params = {"webhook_id": webhook_id, "limit": limit}
        rows = self._read(row_dicts, cypher.LIST_DELIVERIES, params)
        return [_delivery(row) for row in rows]
