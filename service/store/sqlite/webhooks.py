"""Webhooks and their delivery outbox on SQLite: a part of `SqliteStore` (see the ports)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import asdict
from typing import Any, Protocol

from service.store.records import Delivery, DeliveryAttempt, Webhook, WebhookEvent

__all__ = ["CLEAR_WEBHOOKS", "SqliteWebhooks", "WEBHOOK_TABLES"]

WEBHOOK_TABLES = (
    """CREATE TABLE IF NOT EXISTS webhooks (
        id TEXT PRIMARY KEY,
        url TEXT NOT NULL,
        events TEXT NOT NULL,
        secret TEXT NOT NULL,
        description TEXT NOT NULL,
        created_at INTEGER NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS webhook_deliveries (
        id TEXT PRIMARY KEY,
        webhook_id TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
        event_id TEXT NOT NULL,
        event_type TEXT NOT NULL,
        payload BLOB NOT NULL,
        state TEXT NOT NULL,
        attempts TEXT NOT NULL DEFAULT '[]',
        next_attempt_at INTEGER,
        lease_until INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS deliveries_due ON webhook_deliveries (state, next_attempt_at)",
    "CREATE INDEX IF NOT EXISTS deliveries_of ON webhook_deliveries (webhook_id, created_at)",
)
CLEAR_WEBHOOKS = ("DELETE FROM webhook_deliveries", "DELETE FROM webhooks")

_HOOK = "id, url, events, secret, description, created_at"
_DELIVERY = ("d.id, d.webhook_id, d.event_id, d.event_type, d.payload, d.state, d.attempts, "
             "d.next_attempt_at, d.created_at")


class _Transactions(Protocol):
    def _write(self) -> AbstractContextManager[sqlite3.Connection]: ...
    def _read(self) -> AbstractContextManager[sqlite3.Connection]: ...


def _hook(row: Sequence[Any]) -> Webhook:
    return Webhook(row[0], row[1], tuple(json.loads(row[2])), row[3], row[4], row[5])


def _delivery(row: Sequence[Any]) -> Delivery:
    attempts = tuple(DeliveryAttempt(**a) for a in json.loads(row[6]))
    return Delivery(row[0], row[1], row[2], row[3], bytes(row[4]), row[5], attempts, row[7],
                    row[8])


class SqliteWebhooks:
    """The port's webhook methods."""

    def add_webhook(self: _Transactions, hook: Webhook) -> None:
        with self._write() as conn:
            conn.execute(f"INSERT INTO webhooks ({_HOOK}) VALUES (?, ?, ?, ?, ?, ?)",
                         (hook.id, hook.url, json.dumps(hook.events), hook.secret,
                          hook.description, hook.created_at_us))

    def list_webhooks(self: _Transactions) -> list[Webhook]:
        with self._read() as conn:
            rows = conn.execute(f"SELECT {_HOOK} FROM webhooks ORDER BY created_at, id")
            return [_hook(row) for row in rows.fetchall()]

    def get_webhook(self: _Transactions, webhook_id: str) -> Webhook | None:
        with self._read() as conn:
            row = conn.execute(f"SELECT {_HOOK} FROM webhooks WHERE id = ?",
                               (webhook_id,)).fetchone()
        return None if row is None else _hook(row)

    def delete_webhook(self: _Transactions, webhook_id: str) -> bool:
        with self._write() as conn:
            conn.execute("DELETE FROM webhook_deliveries WHERE webhook_id = ?", (webhook_id,))
            return conn.execute("DELETE FROM webhooks WHERE id = ?",
                                (webhook_id,)).rowcount == 1

    def enqueue_events(self: _Transactions, events: Sequence[WebhookEvent]) -> int:
        if not events:
            return 0
        with self._write() as conn:
            hooks = [_hook(row) for row in conn.execute(f"SELECT {_HOOK} FROM webhooks")]
            rows = [(f"{event.id}@{hook.id}", hook.id, event.id, event.type, event.payload,
                     event.created_at_us, event.created_at_us)
                    for event in events for hook in hooks if event.type in hook.events]
            before = conn.total_changes
            conn.executemany(
                "INSERT OR IGNORE INTO webhook_deliveries (id, webhook_id, event_id, "
                "event_type, payload, state, next_attempt_at, created_at) "
                "VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)", rows)
            return conn.total_changes - before

    def claim_deliveries(self: _Transactions, *, now_us: int, lease_until_us: int,
                         limit: int) -> list[tuple[Delivery, Webhook]]:
        with self._write() as conn:
            rows = conn.execute(
                f"SELECT {_DELIVERY}, {', '.join('w.' + c for c in _HOOK.split(', '))} "
                "FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id "
                "WHERE d.state = 'pending' AND d.next_attempt_at <= ? AND d.lease_until <= ? "
                "ORDER BY d.next_attempt_at, d.id LIMIT ?", (now_us, now_us, limit)).fetchall()
            conn.executemany("UPDATE webhook_deliveries SET lease_until = ? WHERE id = ?",
                             [(lease_until_us, row[0]) for row in rows])
        return [(_delivery(row[:9]), _hook(row[9:])) for row in rows]

    def finish_attempt(self: _Transactions, delivery_id: str, attempt: DeliveryAttempt, *,
                       state: str, next_attempt_at_us: int | None) -> None:
        with self._write() as conn:
            row = conn.execute("SELECT attempts FROM webhook_deliveries WHERE id = ?",
                               (delivery_id,)).fetchone()
            if row is None:
                return  # the webhook was deleted meanwhile
            attempts = [*json.loads(row[0]), asdict(attempt)]
            conn.execute(
                "UPDATE webhook_deliveries SET attempts = ?, state = ?, next_attempt_at = ?, "
                "lease_until = 0 WHERE id = ?",
                (json.dumps(attempts), state, next_attempt_at_us, delivery_id))

    def list_deliveries(self: _Transactions, webhook_id: str, *,
                        limit: int = 100) -> list[Delivery]:
        with self._read() as conn:
            rows = conn.execute(
                f"SELECT {_DELIVERY} FROM webhook_deliveries d WHERE d.webhook_id = ? "
                "ORDER BY d.created_at DESC, d.id DESC LIMIT ?", (webhook_id, limit))
            return [_delivery(row) for row in rows.fetchall()]
