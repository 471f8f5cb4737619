"""Schema and migrations: constraints and indexes, the schema version, the upgrade fills, and
maintenance (ping, clear)."""

from __future__ import annotations

__all__ = [
    "READ_SCHEMA_VERSION",
    "SET_SCHEMA_VERSION",
    "AWAIT_INDEXES",
    "COMPANY_KEYS",
    "DELETE_ALL_BATCH",
    "DELETE_LINKS_BATCH",
    "FILL_ACK_KEYS",
    "FILL_CASCADE_KEYS",
    "PING",
    "SCHEMA",
    "START_LOG",
    "UNKEYED_COMPANIES",
]

SCHEMA: tuple[str, ...] = (
    # One node per company id, request id, cascade (request, from, to), ack seq; one revision.
    "CREATE CONSTRAINT company_id IF NOT EXISTS FOR (c:Company) REQUIRE c.id IS UNIQUE",
    # An integer per company, never reused: the cold read returns links as integers.
    "CREATE CONSTRAINT company_key IF NOT EXISTS FOR (c:Company) REQUIRE c.key IS UNIQUE",
    "CREATE CONSTRAINT request_id IF NOT EXISTS FOR (r:Request) REQUIRE r.id IS UNIQUE",
    "CREATE CONSTRAINT cascade_key IF NOT EXISTS FOR (e:Cascade) REQUIRE e.key IS UNIQUE",
    "CREATE CONSTRAINT ack_seq IF NOT EXISTS FOR (a:Acknowledgement) REQUIRE a.seq IS UNIQUE",
    "CREATE CONSTRAINT ack_identity_key IF NOT EXISTS "
    "FOR (a:Acknowledgement) REQUIRE a.identity IS UNIQUE",
    "CREATE CONSTRAINT store_revision_id IF NOT EXISTS "
    "FOR (r:StoreRevision) REQUIRE r.id IS UNIQUE",
    "CREATE CONSTRAINT schema_version_id IF NOT EXISTS "
    "FOR (v:SchemaVersion) REQUIRE v.id IS UNIQUE",
    # Lookups by reference: the issuer rule, event filters, force-delete of a company.
    "CREATE INDEX request_issuer IF NOT EXISTS FOR (r:Request) ON (r.issuer_id)",
    "CREATE INDEX cascade_request IF NOT EXISTS FOR (e:Cascade) ON (e.request_id)",
    # The cold read (NETWORK_LINKS, REQUEST_CASCADE_KEYS, REQUEST_ACK_KEYS) takes every
    # value it needs from these indexes, not from the records (half the server's work).
    "CREATE INDEX link_category IF NOT EXISTS FOR ()-[l:SUPPLIED_BY]-() ON (l.category)",
    "CREATE INDEX cascade_cold_read IF NOT EXISTS "
    "FOR (e:Cascade) ON (e.request_id, e.from_key, e.to_key, e.sent_us)",
    "CREATE INDEX ack_cold_read IF NOT EXISTS "
    "FOR (a:Acknowledgement) ON (a.request_id, a.company_key, a.at_us, a.seq, a.status)",
    "CREATE INDEX cascade_from IF NOT EXISTS FOR (e:Cascade) ON (e.from_id)",
    "CREATE INDEX cascade_to IF NOT EXISTS FOR (e:Cascade) ON (e.to_id)",
    "CREATE INDEX ack_request IF NOT EXISTS FOR (a:Acknowledgement) ON (a.request_id)",
    "CREATE INDEX ack_company IF NOT EXISTS FOR (a:Acknowledgement) ON (a.company_id)",
    # The change log: what a write stamped, and what it deleted.
    "CREATE CONSTRAINT tombstone_id IF NOT EXISTS FOR (t:Tombstone) REQUIRE t.id IS UNIQUE",
    "CREATE INDEX company_revision IF NOT EXISTS FOR (c:Company) ON (c.revision)",
    "CREATE INDEX link_revision IF NOT EXISTS FOR ()-[l:SUPPLIED_BY]-() ON (l.revision)",
    "CREATE INDEX request_revision IF NOT EXISTS FOR (r:Request) ON (r.revision)",
    "CREATE INDEX cascade_revision IF NOT EXISTS FOR (e:Cascade) ON (e.revision)",
    "CREATE INDEX ack_revision IF NOT EXISTS FOR (a:Acknowledgement) ON (a.revision)",
    "CREATE INDEX tombstone_revision IF NOT EXISTS FOR (t:Tombstone) ON (t.revision)",
)
"""Idempotent DDL: uniqueness constraints on every key and indexes for reference lookups.
Batch lookups (`UNWIND` + `MATCH`) only ever go through a unique key: the planner always
seeks those, whereas a plan made while a label looked empty may scan a plain index once
per row (seen: 150 s instead of 3 s for a 20k-answer retry)."""

AWAIT_INDEXES = "CALL db.awaitIndexes($seconds)"
"""Block until every index (and constraint-backing index) is online."""

PING = "RETURN 1 AS ok"
"""A round trip to the named database."""

DELETE_ALL_BATCH = """
MATCH (n)
WITH n LIMIT $batch
DETACH DELETE n
RETURN count(*) AS deleted
"""
"""Delete up to `$batch` nodes with their relationships; repeat until 0 (tests, and
`cascade generate --replace`, after DELETE_LINKS_BATCH)."""

DELETE_LINKS_BATCH = """
MATCH ()-[l]->()
WITH l LIMIT $batch
DELETE l
RETURN count(*) AS deleted
"""
"""Delete up to `$batch` relationships; repeat until 0, before DELETE_ALL_BATCH: a batch
of nodes may hold a supplier to thousands of buyers, whose links would not fit in one
transaction's memory."""

START_LOG = """
MATCH (r:StoreRevision {id: 'main'})
SET r.log_from = coalesce(r.log_from, r.value)
"""
"""Upgrade: a database written before the change log existed starts its log now (its
deletions so far left no tombstones); run under the revision lock by `init_schema`."""

UNKEYED_COMPANIES = """
CALL () { MATCH (c:Company) RETURN count(c) AS companies }
CALL () { MATCH (k:Company) WHERE k.key IS NOT NULL RETURN count(k) AS keyed }
RETURN companies - keyed AS unkeyed
"""
"""How many companies have no key yet, from the count store and the key index (a few
milliseconds at a million companies, where COMPANY_KEYS scans them all)."""

COMPANY_KEYS = """
MATCH (c:Company) WHERE c.key IS NULL
WITH c ORDER BY c.id LIMIT $batch
WITH collect(c) AS page
UNWIND range(0, size(page) - 1) AS i
WITH page[i] AS c, i
SET c.key = $after + 1 + i
RETURN count(*) AS keyed
"""
"""Give up to `$batch` companies without a key (written before the keys existed, or by a
worker of that version since) the keys after `$after`, in id order; how many it keyed.
Run under the revision lock, which hands out the keys (SET_COMPANY_KEY); no data and no
revision change."""

FILL_CASCADE_KEYS = """
MATCH (e:Cascade) WHERE e.from_key IS NULL OR e.to_key IS NULL OR e.sent_us IS NULL
CALL (e) {
  OPTIONAL MATCH (f:Company {id: e.from_id})
  OPTIONAL MATCH (t:Company {id: e.to_id})
  SET e.sent_us = e.sent_at.epochMillis * 1000 + e.sent_at.microsecond % 1000,
      e.from_key = CASE WHEN f IS NULL THEN 0 ELSE f.key END,
      e.to_key = CASE WHEN t IS NULL THEN 0 ELSE t.key END
} IN TRANSACTIONS OF 10000 ROWS
"""
"""Upgrade and repair (auto-commit, after COMPANY_KEYS): give cascade events written
without them (by an older version, or naming a company without a key yet) their time as
epoch µs and their companies' keys. Derived values, no data: no lock, no revision."""

FILL_ACK_KEYS = """
MATCH (a:Acknowledgement) WHERE a.company_key IS NULL OR a.at_us IS NULL
CALL (a) {
  OPTIONAL MATCH (c:Company {id: a.company_id})
  SET a.at_us = a.at.epochMillis * 1000 + a.at.microsecond % 1000,
      a.company_key = CASE WHEN c IS NULL THEN 0 ELSE c.key END
} IN TRANSACTIONS OF 10000 ROWS
"""
"""FILL_CASCADE_KEYS for answers."""

READ_SCHEMA_VERSION = "MATCH (v:SchemaVersion {id: 'main'}) RETURN v.version AS version"
"""The number of the last migration step the database ran (no row: none, version 0)."""

SET_SCHEMA_VERSION = """
MERGE (v:SchemaVersion {id: 'main'})
SET v.version = CASE WHEN v.version > $version THEN v.version ELSE $version END
"""
"""Record that migration step `$version` ran (never backwards: a slower worker starting
at the same time does not undo a faster one's record)."""
