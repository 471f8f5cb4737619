"""Access: API keys and the audit trail (not data: they never bump the revision;
`neo4j.access`)."""

from __future__ import annotations

__all__ = [
    "ACCESS_SCHEMA",
    "CREATE_API_KEY",
    "GET_API_KEY",
    "LIST_API_KEYS",
    "LIST_AUDIT",
    "RECORD_AUDIT",
    "REVOKE_API_KEY",
]

ACCESS_SCHEMA = (
    "CREATE CONSTRAINT api_key_id IF NOT EXISTS FOR (k:ApiKey) REQUIRE k.id IS UNIQUE",
    "CREATE CONSTRAINT audit_seq IF NOT EXISTS FOR (a:AuditEntry) REQUIRE a.seq IS UNIQUE",
    # without it two first audit entries racing on an empty store each MERGE a counter,
    # both take seq 1 and one fails on audit_seq (a dropped connection, not a 201)
    "CREATE CONSTRAINT audit_counter_id IF NOT EXISTS FOR (c:AuditCounter) REQUIRE c.id IS UNIQUE",
    "CREATE INDEX audit_key IF NOT EXISTS FOR (a:AuditEntry) ON (a.key_id)",
)
"""`(:ApiKey {id, secret_hash, role, company_id, name, created_at, expires_at, revoked_at})`
and `(:AuditEntry {seq, at, key_id, method, path, status})`, times in epoch µs."""

_API_KEY_FIELDS = """
k.id AS id, k.secret_hash AS secret_hash, k.role AS role, k.company_id AS company_id,
k.name AS name, k.created_at AS created_at_us, k.expires_at AS expires_at_us,
k.revoked_at AS revoked_at_us
"""

CREATE_API_KEY = """
CREATE (k:ApiKey {id: $id, secret_hash: $secret_hash, role: $role, company_id: $company_id,
                  name: $name, created_at: $created_at_us, expires_at: $expires_at_us})
"""
"""Store a new key (the unique id refuses a duplicate)."""

GET_API_KEY = f"MATCH (k:ApiKey {{id: $id}}) RETURN {_API_KEY_FIELDS}"
"""One key by id."""

LIST_API_KEYS = f"MATCH (k:ApiKey) RETURN {_API_KEY_FIELDS} ORDER BY k.created_at, k.id"
"""Every key, oldest first."""

REVOKE_API_KEY = """
MATCH (k:ApiKey {id: $id})
SET k.revoked_at = coalesce(k.revoked_at, $at)
RETURN count(k) AS found
"""
"""Revoke a key once (a later revocation keeps the first time)."""

RECORD_AUDIT = """
MERGE (c:AuditCounter {id: 'main'}) ON CREATE SET c.value = 0
SET c.value = c.value + 1
CREATE (:AuditEntry {seq: c.value, at: $at_us, key_id: $key_id, method: $method,
                     path: $path, status: $status})
"""
"""Append an audit entry with the next seq (the counter node serialises appends)."""

LIST_AUDIT = """
MATCH (a:AuditEntry)
WHERE ($key_id IS NULL OR a.key_id = $key_id) AND ($since IS NULL OR a.at >= $since)
  AND ($until IS NULL OR a.at < $until) AND ($before IS NULL OR a.seq < $before)
RETURN a.at AS at_us, a.key_id AS key_id, a.method AS method, a.path AS path,
       a.status AS status, a.seq AS seq
ORDER BY a.seq DESC LIMIT $limit
"""
"""Audit entries newest first, filtered."""
