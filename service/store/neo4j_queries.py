"""Every Cypher statement of the Neo4j adapter, as named constants.

Values travel only as `$parameters`; labels, relationship types and property names are
fixed here. Timestamps are stored as Neo4j `DateTime` (UTC) but returned as integer
microseconds since the epoch: the driver's pure-Python `DateTime` decoding costs tens of
microseconds a value, which dominated reading a request's event history.

Batch writes take `$rows` (at most ~1,000 maps) and `UNWIND` them, merging on a
constrained key so a retried transaction function stays idempotent. The graph shape is
described in `service.store.neo4j`.
"""

from __future__ import annotations

__all__ = [
    "ACKS_WITH_IDENTITY",
    "ADD_ACKNOWLEDGEMENTS",
    "ADD_CASCADES",
    "BUMP_REVISION",
    "COMPANY_REFERENCES",
    "CREATE_COMPANY",
    "CREATE_REQUEST",
    "DELETE_ALL_BATCH",
    "DELETE_COMPANY",
    "DELETE_COMPANY_ACKS",
    "DELETE_COMPANY_CASCADES",
    "DELETE_LINK",
    "EXISTING_CASCADE_KEYS",
    "EXISTING_COMPANY_IDS",
    "EXISTING_LINKS",
    "GET_COMPANIES",
    "GET_REQUEST",
    "LIST_ACKS",
    "LIST_ACKS_OF_COMPANY",
    "LIST_ACKS_OF_REQUEST",
    "LIST_CASCADES",
    "LIST_CASCADES_FROM",
    "LIST_CASCADES_OF_REQUEST",
    "LIST_CASCADES_TO",
    "LIST_COMPANIES",
    "LIST_LINKS",
    "LIST_LINKS_OF_BUYER",
    "LIST_LINKS_OF_SUPPLIER",
    "LIST_REQUESTS",
    "LOCK_REVISION",
    "NETWORK_KINDS",
    "NETWORK_LINKS_PAGE",
    "PING",
    "READ_REVISION",
    "REQUEST_ACKS",
    "REQUEST_CASCADES",
    "SCHEMA",
    "SET_ACK_SEQ",
    "UPSERT_COMPANIES",
    "UPSERT_LINKS",
    "AWAIT_INDEXES",
]

# --- schema -------------------------------------------------------------------------------

SCHEMA: tuple[str, ...] = (
    # One node per company id, request id, cascade (request, from, to), ack seq; one revision.
    "CREATE CONSTRAINT company_id IF NOT EXISTS FOR (c:Company) REQUIRE c.id IS UNIQUE",
    "CREATE CONSTRAINT request_id IF NOT EXISTS FOR (r:Request) REQUIRE r.id IS UNIQUE",
    "CREATE CONSTRAINT cascade_key IF NOT EXISTS FOR (e:Cascade) REQUIRE e.key IS UNIQUE",
    "CREATE CONSTRAINT ack_seq IF NOT EXISTS FOR (a:Acknowledgement) REQUIRE a.seq IS UNIQUE",
    "CREATE CONSTRAINT ack_identity_key IF NOT EXISTS "
    "FOR (a:Acknowledgement) REQUIRE a.identity IS UNIQUE",
    "CREATE CONSTRAINT store_revision_id IF NOT EXISTS "
    "FOR (r:StoreRevision) REQUIRE r.id IS UNIQUE",
    # Lookups by reference: the issuer rule, event filters, force-delete of a company.
    "CREATE INDEX request_issuer IF NOT EXISTS FOR (r:Request) ON (r.issuer_id)",
    "CREATE INDEX cascade_request IF NOT EXISTS FOR (e:Cascade) ON (e.request_id)",
    "CREATE INDEX cascade_from IF NOT EXISTS FOR (e:Cascade) ON (e.from_id)",
    "CREATE INDEX cascade_to IF NOT EXISTS FOR (e:Cascade) ON (e.to_id)",
    "CREATE INDEX ack_request IF NOT EXISTS FOR (a:Acknowledgement) ON (a.request_id)",
    "CREATE INDEX ack_company IF NOT EXISTS FOR (a:Acknowledgement) ON (a.company_id)",
)
"""Idempotent DDL: uniqueness constraints on every key and indexes for reference lookups.
Batch lookups (`UNWIND` + `MATCH`) only ever go through a unique key: the planner always
seeks those, whereas a plan made while a label looked empty may scan a plain index once
per row (seen: 150 s instead of 3 s for a 20k-answer retry)."""

AWAIT_INDEXES = "CALL db.awaitIndexes($seconds)"
"""Block until every index (and constraint-backing index) is online."""

# --- revision -----------------------------------------------------------------------------

LOCK_REVISION = """
MERGE (r:StoreRevision {id: 'main'})
ON CREATE SET r.value = 0, r.ack_seq = 0
SET r.locked = true
RETURN r.value AS value, r.ack_seq AS ack_seq
"""
"""Take the write lock on the revision node until commit, then read it. Every write
transaction runs this first, so writers are serialised and revision/seq order is commit
order. The SET writes a constant on purpose: `SET r.value = r.value` would read the value
before waiting for the lock and write a stale one back (a lost update)."""

READ_REVISION = "MATCH (r:StoreRevision {id: 'main'}) RETURN r.value AS value"
"""The current store revision (no row on an empty database: revision 0)."""

BUMP_REVISION = """
MATCH (r:StoreRevision {id: 'main'})
SET r.value = r.value + 1
RETURN r.value AS value
"""
"""Advance the revision by one; run in the transaction of a write that changed data."""

SET_ACK_SEQ = """
MATCH (r:StoreRevision {id: 'main'})
SET r.ack_seq = $last_seq
"""
"""Record the last acknowledgement seq handed out (read under the lock by LOCK_REVISION)."""

PING = "RETURN 1 AS ok"
"""A round trip to the named database."""

DELETE_ALL_BATCH = """
MATCH (n)
WITH n LIMIT $batch
DETACH DELETE n
RETURN count(*) AS deleted
"""
"""Tests only: delete up to `$batch` nodes with their relationships; repeat until 0."""

# --- companies ----------------------------------------------------------------------------

_COMPANY_FIELDS = """
c.id AS id, c.name AS name, c.country AS country, c.kind AS kind,
c.identifiers_json AS identifiers_json, c.tags AS tags
"""

GET_COMPANIES = f"""
UNWIND $ids AS id
MATCH (c:Company {{id: id}})
RETURN {_COMPANY_FIELDS}
"""
"""The companies among `$ids` that exist, with all their properties."""

EXISTING_COMPANY_IDS = """
UNWIND $ids AS id
MATCH (c:Company {id: id})
RETURN c.id AS id
"""
"""The ids among `$ids` that name an existing company."""

CREATE_COMPANY = """
CREATE (c:Company {id: $row.id})
SET c.name = $row.name, c.country = $row.country, c.kind = $row.kind,
    c.identifiers_json = $row.identifiers_json, c.tags = $row.tags
"""
"""Create one company (the caller checked that the id is free, under the revision lock)."""

UPSERT_COMPANIES = """
UNWIND $rows AS row
MERGE (c:Company {id: row.id})
SET c.name = row.name, c.country = row.country, c.kind = row.kind,
    c.identifiers_json = row.identifiers_json, c.tags = row.tags
RETURN count(c) AS written
"""
"""Create or overwrite companies by id (a null country removes the property)."""

LIST_COMPANIES = f"""
MATCH (c:Company)
WHERE c.id > $after
  AND ($kind IS NULL OR c.kind = $kind)
  AND ($country IS NULL OR c.country = $country)
  AND ($q IS NULL OR toLower(c.id) CONTAINS $q OR toLower(c.name) CONTAINS $q)
RETURN {_COMPANY_FIELDS}
ORDER BY c.id
LIMIT $limit
"""
"""A page of companies ordered by id after `$after` ('' = from the start), filtered by kind,
country and a lower-cased substring `$q` of id or name (null = no filter)."""

COMPANY_REFERENCES = """
MATCH (c:Company {id: $id})
RETURN
  EXISTS { (c)-[:SUPPLIED_BY]-() } AS links,
  EXISTS { MATCH (e:Cascade) WHERE e.from_id = $id } AS cascades_out,
  EXISTS { MATCH (e:Cascade) WHERE e.to_id = $id } AS cascades_in,
  EXISTS { MATCH (a:Acknowledgement) WHERE a.company_id = $id } AS acks,
  EXISTS { MATCH (r:Request) WHERE r.issuer_id = $id } AS issued
"""
"""What references company `$id`: links, cascade events, acknowledgements, issued
requests (each a flag; no row when the company does not exist)."""

DELETE_COMPANY_CASCADES = """
MATCH (e:Cascade) WHERE e.from_id = $id OR e.to_id = $id
DELETE e
"""
"""Force-delete: remove the cascade events sent by or to company `$id`."""

DELETE_COMPANY_ACKS = """
MATCH (a:Acknowledgement) WHERE a.company_id = $id
DELETE a
"""
"""Force-delete: remove the answers of company `$id`."""

DELETE_COMPANY = """
MATCH (c:Company {id: $id})
DETACH DELETE c
RETURN count(*) AS deleted
"""
"""Delete company `$id` with its supply links."""

# --- supply links -------------------------------------------------------------------------

EXISTING_LINKS = """
UNWIND $pairs AS pair
MATCH (b:Company {id: pair[0]})-[l:SUPPLIED_BY]->(s:Company {id: pair[1]})
RETURN b.id AS buyer_id, s.id AS supplier_id, l.category AS category
"""
"""The links among `$pairs` ([buyer, supplier] lists) that exist, with their category."""

UPSERT_LINKS = """
UNWIND $rows AS row
MATCH (b:Company {id: row.buyer_id})
MATCH (s:Company {id: row.supplier_id})
MERGE (b)-[l:SUPPLIED_BY]->(s)
SET l.category = row.category
RETURN count(l) AS written
"""
"""Create or re-categorise links buyer -[:SUPPLIED_BY]-> supplier between existing
companies; returns how many rows found both ends."""

_LINK_PAGE = """
RETURN b.id AS buyer_id, s.id AS supplier_id, l.category AS category
ORDER BY buyer_id, supplier_id
LIMIT $limit
"""

LIST_LINKS = f"""
MATCH (b:Company)
WHERE b.id >= $after_buyer
MATCH (b)-[l:SUPPLIED_BY]->(s:Company)
WHERE b.id > $after_buyer OR s.id > $after_supplier
{_LINK_PAGE}"""
"""A page of all links ordered by (buyer, supplier) after the pair
(`$after_buyer`, `$after_supplier`) ('' and '' = from the start)."""

LIST_LINKS_OF_BUYER = f"""
MATCH (b:Company {{id: $buyer_id}})-[l:SUPPLIED_BY]->(s:Company)
WHERE ($supplier_id IS NULL OR s.id = $supplier_id)
  AND (b.id > $after_buyer OR (b.id = $after_buyer AND s.id > $after_supplier))
{_LINK_PAGE}"""
"""A page of the links of buyer `$buyer_id` (optionally to one supplier), keyset after the
pair (`$after_buyer`, `$after_supplier`)."""

LIST_LINKS_OF_SUPPLIER = f"""
MATCH (b:Company)-[l:SUPPLIED_BY]->(s:Company {{id: $supplier_id}})
WHERE b.id > $after_buyer OR (b.id = $after_buyer AND s.id > $after_supplier)
{_LINK_PAGE}"""
"""A page of the links into supplier `$supplier_id`, keyset after the pair."""

DELETE_LINK = """
MATCH (:Company {id: $buyer_id})-[l:SUPPLIED_BY]->(:Company {id: $supplier_id})
DELETE l
RETURN count(*) AS deleted
"""
"""Delete the link buyer -> supplier; returns 1 if it existed, else 0."""

NETWORK_KINDS = "MATCH (c:Company) RETURN collect(c.id) AS ids, collect(c.kind) AS kinds"
"""Every company id with its kind, as two parallel lists in ONE record (the driver's cost
is per record: 100k records take seconds, one record of 100k values a fraction)."""

NETWORK_LINKS_PAGE = """
MATCH (b:Company) WHERE b.id > $after
WITH b ORDER BY b.id LIMIT $buyers
WITH collect(b) AS page
WITH page[-1].id AS last, page
UNWIND page AS b
OPTIONAL MATCH (b)-[l:SUPPLIED_BY]->(s:Company)
RETURN last,
       collect(CASE WHEN s IS NULL THEN null ELSE b.id END) AS buyer_ids,
       collect(s.id) AS supplier_ids,
       collect(l.category) AS categories
"""
"""The links of the next `$buyers` buyers after buyer id `$after` ('' = first page), as
three parallel lists in one record, and the `last` buyer id of the page (no row past the
end). Paging keeps server memory bounded; one record per page keeps the client fast."""

# --- requests -----------------------------------------------------------------------------

_REQUEST_FIELDS = """
r.id AS id, r.topic AS topic, r.title AS title, r.version AS version,
r.issuer_id AS issuer_id,
r.issued_at.epochSeconds * 1000000 + r.issued_at.microsecond AS issued_at,
r.due_days AS due_days,
r.valid_days AS valid_days, r.mandatory AS mandatory, r.applies_to_json AS applies_to_json,
r.supersedes AS supersedes, r.catalog_id AS catalog_id, r.description AS description
"""

CREATE_REQUEST = """
CREATE (r:Request {id: $row.id})
SET r += $row
"""
"""Create one request (the caller checked that the id is free, under the revision lock)."""

GET_REQUEST = f"MATCH (r:Request {{id: $id}}) RETURN {_REQUEST_FIELDS}"
"""One request by id."""

LIST_REQUESTS = f"MATCH (r:Request) RETURN {_REQUEST_FIELDS} ORDER BY r.id"
"""Every request, ordered by id."""

# --- cascade events -----------------------------------------------------------------------

_CASCADE_FIELDS = """
e.request_id AS request_id, e.from_id AS from_id, e.to_id AS to_id,
e.sent_at.epochSeconds * 1000000 + e.sent_at.microsecond AS sent_at
"""

EXISTING_CASCADE_KEYS = """
UNWIND $keys AS key
MATCH (e:Cascade {key: key})
RETURN e.key AS key
"""
"""The cascade keys among `$keys` already recorded."""

ADD_CASCADES = """
UNWIND $rows AS row
MERGE (e:Cascade {key: row.key})
ON CREATE SET e.request_id = row.request_id, e.from_id = row.from_id,
              e.to_id = row.to_id, e.sent_at = row.sent_at
RETURN count(e) AS written
"""
"""Record cascade events by key; an existing one keeps its first `sent_at`."""

_CASCADE_PAGE = f"""
RETURN {_CASCADE_FIELDS}
ORDER BY sent_at, request_id, from_id, to_id
LIMIT $limit
"""

LIST_CASCADES = f"""
MATCH (e:Cascade)
WHERE ($request_id IS NULL OR e.request_id = $request_id)
  AND ($from_id IS NULL OR e.from_id = $from_id)
  AND ($to_id IS NULL OR e.to_id = $to_id)
{_CASCADE_PAGE}"""
"""Cascade events matching the optional filters, oldest first (full scan: no filter set)."""

LIST_CASCADES_OF_REQUEST = f"""
MATCH (e:Cascade {{request_id: $request_id}})
WHERE ($from_id IS NULL OR e.from_id = $from_id) AND ($to_id IS NULL OR e.to_id = $to_id)
{_CASCADE_PAGE}"""
"""Cascade events of one request (index seek), optionally filtered, oldest first."""

LIST_CASCADES_FROM = f"""
MATCH (e:Cascade {{from_id: $from_id}})
WHERE ($to_id IS NULL OR e.to_id = $to_id)
{_CASCADE_PAGE}"""
"""Cascade events sent by one company (index seek), oldest first."""

LIST_CASCADES_TO = f"""
MATCH (e:Cascade {{to_id: $to_id}})
{_CASCADE_PAGE}"""
"""Cascade events received by one company (index seek), oldest first."""

REQUEST_CASCADES = f"""
MATCH (e:Cascade {{request_id: $request_id}})
RETURN {_CASCADE_FIELDS}
ORDER BY sent_at, from_id, to_id
"""
"""Every cascade event of one request, oldest first."""

# --- acknowledgements ---------------------------------------------------------------------

_ACK_FIELDS = """
a.request_id AS request_id, a.company_id AS company_id, a.status AS status,
a.at.epochSeconds * 1000000 + a.at.microsecond AS at,
a.evidence_json AS evidence_json, a.seq AS seq,
a.recorded_at.epochSeconds * 1000000 + a.recorded_at.microsecond AS recorded_at,
a.posted_by AS posted_by
"""

ACKS_WITH_IDENTITY = f"""
UNWIND $keys AS key
MATCH (a:Acknowledgement {{identity: key}})
RETURN {_ACK_FIELDS}
"""
"""Stored answers whose `identity` (JSON of [request, company, status, `at`]) is one of
`$keys`: a retried answer is found here and not appended again."""

ADD_ACKNOWLEDGEMENTS = """
UNWIND $rows AS row
CREATE (a:Acknowledgement)
SET a = row
RETURN count(a) AS written
"""
"""Append answers (seq already reserved, unique by constraint)."""

_ACK_PAGE = f"""
RETURN {_ACK_FIELDS}
ORDER BY at DESC, seq DESC
LIMIT $limit
"""

LIST_ACKS = f"MATCH (a:Acknowledgement) {_ACK_PAGE}"
"""Acknowledgement history of everything, newest first (by `at`, then seq)."""

LIST_ACKS_OF_REQUEST = f"""
MATCH (a:Acknowledgement {{request_id: $request_id}})
WHERE $company_id IS NULL OR a.company_id = $company_id
{_ACK_PAGE}"""
"""History of one request (optionally of one company), newest first."""

LIST_ACKS_OF_COMPANY = f"""
MATCH (a:Acknowledgement {{company_id: $company_id}})
{_ACK_PAGE}"""
"""History of one company across requests, newest first."""

REQUEST_ACKS = f"""
MATCH (a:Acknowledgement {{request_id: $request_id}})
RETURN {_ACK_FIELDS}
ORDER BY seq
"""
"""Every answer to one request, in recording order."""
