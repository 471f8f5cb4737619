"""Webhooks and their delivery outbox (not data: they never bump the revision;
`neo4j.webhooks`)."""

from __future__ import annotations

__all__ = [
    "CLAIM_DELIVERIES",
    "CREATE_WEBHOOK",
    "DELETE_WEBHOOK",
    "DELIVERY_ATTEMPTS",
    "ENQUEUE_DELIVERIES",
    "FINISH_ATTEMPT",
    "GET_WEBHOOK",
    "LIST_DELIVERIES",
    "LIST_WEBHOOKS",
    "WEBHOOK_SCHEMA",
]

WEBHOOK_SCHEMA = (
    "CREATE CONSTRAINT webhook_id IF NOT EXISTS FOR (w:Webhook) REQUIRE w.id IS UNIQUE",
    "CREATE CONSTRAINT delivery_id IF NOT EXISTS FOR (d:WebhookDelivery) REQUIRE d.id IS UNIQUE",
    "CREATE INDEX delivery_due IF NOT EXISTS "
    "FOR (d:WebhookDelivery) ON (d.state, d.next_attempt_at)",
    "CREATE INDEX delivery_of IF NOT EXISTS FOR (d:WebhookDelivery) ON (d.webhook_id)",
)
"""`(:Webhook {id, url, events, secret, description, created_at})` and
`(:WebhookDelivery {id, webhook_id, event_id, event_type, payload, state, attempts_json,
next_attempt_at, lease_until, created_at})`, times in epoch µs."""

_WEBHOOK_FIELDS = """
w.id AS id, w.url AS url, w.events AS events, w.secret AS secret,
w.description AS description, w.created_at AS created_at_us
"""
_DELIVERY_FIELDS = """
d.id AS id, d.webhook_id AS webhook_id, d.event_id AS event_id, d.event_type AS event_type,
d.payload AS payload, d.state AS state, d.attempts_json AS attempts_json,
d.next_attempt_at AS next_attempt_at_us, d.created_at AS created_at_us
"""

CREATE_WEBHOOK = """
CREATE (:Webhook {id: $id, url: $url, events: $events, secret: $secret,
                  description: $description, created_at: $created_at_us})
"""
"""Store a new webhook."""

LIST_WEBHOOKS = f"MATCH (w:Webhook) RETURN {_WEBHOOK_FIELDS} ORDER BY w.created_at, w.id"
"""Every webhook, oldest first."""

GET_WEBHOOK = f"MATCH (w:Webhook {{id: $id}}) RETURN {_WEBHOOK_FIELDS}"
"""One webhook."""

DELETE_WEBHOOK = """
OPTIONAL MATCH (d:WebhookDelivery {webhook_id: $id})
DETACH DELETE d
WITH count(*) AS _
MATCH (w:Webhook {id: $id})
DETACH DELETE w
RETURN count(w) AS deleted
"""
"""Delete a webhook and its deliveries."""

ENQUEUE_DELIVERIES = """
UNWIND $events AS event
MATCH (w:Webhook) WHERE event.type IN w.events
MERGE (d:WebhookDelivery {id: event.id + '@' + w.id})
ON CREATE SET d.webhook_id = w.id, d.event_id = event.id, d.event_type = event.type,
              d.payload = event.payload, d.state = 'pending', d.attempts_json = '[]',
              d.next_attempt_at = event.created_at_us, d.lease_until = 0,
              d.created_at = event.created_at_us, d.fresh = true
WITH d WHERE d.fresh
REMOVE d.fresh
RETURN count(d) AS created
"""
"""A pending delivery per event and subscribed webhook; an existing one is left alone."""

CLAIM_DELIVERIES = f"""
MATCH (d:WebhookDelivery)
WHERE d.state = 'pending' AND d.next_attempt_at <= $now AND d.lease_until <= $now
WITH d ORDER BY d.next_attempt_at, d.id LIMIT $limit
SET d.lease_until = $lease_until
WITH d
MATCH (w:Webhook {{id: d.webhook_id}})
RETURN {_DELIVERY_FIELDS}, {{id: w.id, url: w.url, events: w.events, secret: w.secret,
        description: w.description, created_at_us: w.created_at}} AS webhook
"""
"""Lease the due pending deliveries (the SET locks them: a second claimer waits, then
reads the new lease and skips them)."""

FINISH_ATTEMPT = """
MATCH (d:WebhookDelivery {id: $id})
SET d.attempts_json = $attempts_json, d.state = $state, d.next_attempt_at = $next_attempt_at,
    d.lease_until = 0
"""
"""Record an attempt's outcome and release the lease."""

DELIVERY_ATTEMPTS = "MATCH (d:WebhookDelivery {id: $id}) RETURN d.attempts_json AS attempts_json"
"""The attempts so far (JSON)."""

LIST_DELIVERIES = f"""
MATCH (d:WebhookDelivery {{webhook_id: $webhook_id}})
RETURN {_DELIVERY_FIELDS}
ORDER BY d.created_at DESC, d.id DESC LIMIT $limit
"""
"""A webhook's deliveries, newest first."""
