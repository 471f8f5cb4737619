"""Idempotency keys (not data: they never bump the revision; `neo4j.idempotency`)."""

from __future__ import annotations

__all__ = [
    "CLAIM_IDEMPOTENCY_KEY",
    "COMPLETE_IDEMPOTENCY_KEY",
    "IDEMPOTENCY_SCHEMA",
    "LOCK_IDEMPOTENCY_KEY",
    "PRUNE_IDEMPOTENCY_KEYS",
    "RELEASE_IDEMPOTENCY_KEY",
]

IDEMPOTENCY_SCHEMA = (
    "CREATE CONSTRAINT idempotency_key_id IF NOT EXISTS "
    "FOR (k:IdempotencyKey) REQUIRE k.id IS UNIQUE",
    "CREATE INDEX idempotency_expiry IF NOT EXISTS FOR (k:IdempotencyKey) ON (k.expires_at)",
)
"""One `(:IdempotencyKey {id, fingerprint, claim, status, body, content_type, expires_at})`
per scope and key; `id` joins them (see `neo4j_idempotency`)."""

PRUNE_IDEMPOTENCY_KEYS = """
MATCH (k:IdempotencyKey) WHERE k.expires_at < $now
WITH k LIMIT $limit
DELETE k
"""
"""Delete up to `$limit` records past their lease or retention."""

LOCK_IDEMPOTENCY_KEY = """
MERGE (k:IdempotencyKey {id: $id})
ON CREATE SET k.expires_at = -1, k.fingerprint = $fingerprint
SET k.locked = true
"""
"""Create the record if missing (born expired) and take its write lock, so what the next
statement reads is what this transaction alone may change."""

CLAIM_IDEMPOTENCY_KEY = """
MATCH (k:IdempotencyKey {id: $id})
REMOVE k.locked
WITH k, k.expires_at < $now AS free
FOREACH (_ IN CASE WHEN free THEN [1] ELSE [] END |
  SET k.fingerprint = $fingerprint, k.claim = $token, k.status = null, k.body = null,
      k.content_type = null, k.expires_at = $lease_until)
RETURN free, k.fingerprint AS fingerprint, k.status AS status, k.body AS body,
       k.content_type AS content_type
"""
"""Take over a free (expired or new) record for `$token`, else return the live one."""

COMPLETE_IDEMPOTENCY_KEY = """
MATCH (k:IdempotencyKey {id: $id}) WHERE k.claim = $token
SET k.status = $status, k.body = $body, k.content_type = $content_type, k.claim = null,
    k.expires_at = $expires_at
RETURN count(k) AS done
"""
"""Store the response of the request holding the claim (0 rows: the claim was lost)."""

RELEASE_IDEMPOTENCY_KEY = """
MATCH (k:IdempotencyKey {id: $id}) WHERE k.claim = $token AND k.status IS NULL
DELETE k
"""
"""Drop an unfinished claim of `$token`."""
