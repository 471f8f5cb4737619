"""Every Cypher statement of the Neo4j adapter, as named constants.

Values travel only as `$parameters`; labels, relationship types and property names are
fixed here. Timestamps are stored as Neo4j `DateTime` (UTC) but returned as integer
microseconds since the epoch: the driver's pure-Python `DateTime` decoding costs tens of
microseconds a value, which dominated reading a request's event history. The integer is
`epochMillis * 1000 + microsecond % 1000`: `epochSeconds` rounds toward zero, which would
be a second off for an instant before 1970 with a fraction.

Batch writes take `$rows` (at most ~1,000 maps) and `UNWIND` them, merging on a
constrained key so a retried transaction function stays idempotent; answers, the bulk
stream, travel as parallel lists instead (see ADD_ACKNOWLEDGEMENTS). Bulk reads return ONE
record of parallel lists (`collect`): the driver's cost is per record and per map key.

Change log: writes stamp what they change with `$revision`, the revision their transaction
commits as; deletions MERGE `Tombstone` nodes. The CHANGED_* reads seek the `revision`
indexes by hint (a plan cached while a label was empty would otherwise scan). The graph
shape is described in `service.store.neo4j`.
"""

from __future__ import annotations

__all__ = [
    "ACKS_WITH_IDENTITY",
    "ADD_ACKNOWLEDGEMENTS",
    "ADD_CASCADES",
    "ADD_TOMBSTONES",
    "AWAIT_INDEXES",
    "BUMP_REVISION",
    "CHANGED_ACKS",
    "CHANGED_CASCADES",
    "CHANGED_COMPANIES",
    "CHANGED_LINKS",
    "CHANGED_REQUESTS",
    "CHANGED_TOMBSTONES",
    "CHANGES_SINCE",
    "CHANGE_LOG",
    "COMPANY_LINK_KEYS",
    "COMPANY_KEYS",
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
    "FILL_ACK_KEYS",
    "FILL_CASCADE_KEYS",
    "GET_COMPANIES",
    "GET_REQUEST",
    "LAST_LINK_ID",
    "LINK_COUNT",
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
    "NETWORK_LINKS",
    "PING",
    "READ_LOG",
    "READ_KEYED_REVISION",
    "READ_REVISION",
    "REQUEST_ACK_COUNT",
    "REQUEST_ACK_KEYS",
    "REQUEST_ACK_ROWS",
    "REQUEST_CASCADE_COUNT",
    "REQUEST_CASCADE_KEYS",
    "REQUEST_CASCADE_ROWS",
    "SCHEMA",
    "SET_ACK_SEQ",
    "SET_COMPANY_KEY",
    "START_LOG",
    "UPSERT_COMPANIES",
    "UNKEYED_COMPANIES",
    "UPSERT_LINKS",
]

# --- schema -------------------------------------------------------------------------------

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

# --- revision -----------------------------------------------------------------------------

LOCK_REVISION = """
MERGE (r:StoreRevision {id: 'main'})
ON CREATE SET r.value = 0, r.ack_seq = 0, r.log_from = 0
SET r.locked = true
RETURN r.value AS value, r.ack_seq AS ack_seq, coalesce(r.company_key, 0) AS company_key
"""
"""Take the write lock on the revision node until commit, then read it (with the last
company key handed out). Every write transaction runs this first, so writers are
serialised and revision/seq/key order is commit order. The SET writes a constant on
purpose: `SET r.value = r.value` would read the value before waiting for the lock and
write a stale one back (a lost update)."""

READ_REVISION = "MATCH (r:StoreRevision {id: 'main'}) RETURN r.value AS value"
"""The current store revision (no row on an empty database: revision 0)."""

READ_KEYED_REVISION = """
MATCH (r:StoreRevision {id: 'main'})
RETURN r.value AS value, coalesce(r.company_key, 0) AS company_key
"""
"""The current store revision and the last company key handed out (no row: both 0)."""

READ_LOG = """
MATCH (r:StoreRevision {id: 'main'})
RETURN r.value AS value, r.log_from AS log_from
"""
"""The revision and where the change log starts (no row on an empty database: both 0;
a null `log_from`: a database of an older version not upgraded by `init_schema` yet)."""

START_LOG = """
MATCH (r:StoreRevision {id: 'main'})
SET r.log_from = coalesce(r.log_from, r.value)
"""
"""Upgrade: a database written before the change log existed starts its log now (its
deletions so far left no tombstones); run under the revision lock by `init_schema`."""

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

SET_COMPANY_KEY = """
MATCH (r:StoreRevision {id: 'main'})
SET r.company_key = $last_key
"""
"""Record the last company key handed out (read under the lock by LOCK_REVISION)."""

ADD_TOMBSTONES = """
UNWIND $rows AS row
MERGE (t:Tombstone {id: row.id})
SET t.entity = row.entity, t.key = row.key, t.key2 = row.key2, t.revision = $revision
"""
"""Record deletions at `$revision`: one node per deleted key (`id`: JSON of [entity, key,
key2]) holding the latest deletion. Entities: 'company' (key = id), 'link' (key = buyer,
key2 = supplier), 'events' (key = a request that lost cascade events or answers)."""

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
c.identifiers_json AS identifiers_json, c.tags AS tags, c.sites_json AS sites_json
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
CREATE (c:Company {id: $row.id, key: $key})
SET c.name = $row.name, c.country = $row.country, c.kind = $row.kind,
    c.identifiers_json = $row.identifiers_json, c.tags = $row.tags,
    c.sites_json = $row.sites_json, c.revision = $revision
"""
"""Create one company with the next company `$key` (the caller checked that the id is
free, under the revision lock)."""

UPSERT_COMPANIES = """
UNWIND $rows AS row
MERGE (c:Company {id: row.id})
ON CREATE SET c.key = row.key
SET c.name = row.name, c.country = row.country, c.kind = row.kind,
    c.identifiers_json = row.identifiers_json, c.tags = row.tags,
    c.sites_json = row.sites_json, c.revision = $revision
RETURN count(c) AS written
"""
"""Create or overwrite companies by id (a null country removes the property); a new one
gets its row's `key`, the next company key (handed out under the revision lock)."""

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
WITH e, e.request_id AS request_id
DELETE e
RETURN collect(DISTINCT request_id) AS request_ids
"""
"""Force-delete: remove the cascade events sent by or to company `$id`; the requests
they belonged to."""

DELETE_COMPANY_ACKS = """
MATCH (a:Acknowledgement) WHERE a.company_id = $id
WITH a, a.request_id AS request_id
DELETE a
RETURN collect(DISTINCT request_id) AS request_ids
"""
"""Force-delete: remove the answers of company `$id`; the requests they answered."""

COMPANY_LINK_KEYS = """
MATCH (:Company {id: $id})-[l:SUPPLIED_BY]-()
RETURN collect([startNode(l).id, endNode(l).id]) AS pairs
"""
"""The [buyer, supplier] pairs of every link of company `$id` (before a force delete)."""

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
SET l.category = row.category, l.revision = $revision
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

NETWORK_KINDS = """
MATCH (c:Company)
RETURN collect(id(c)) AS nodes, collect(coalesce(c.key, -1)) AS keys, collect(c.id) AS ids,
       collect(c.kind) AS kinds
"""
"""Every company's node id (valid in this transaction only), key (-1: none yet, see
COMPANY_KEYS), id and kind, as parallel lists in ONE record (the driver's cost is per
record: 100k records take seconds, one record of 100k values a fraction)."""

LINK_COUNT = """
MATCH ()-[l:SUPPLIED_BY]->() RETURN count(l) AS links
"""
"""How many links there are (from the count store: no scan)."""

LAST_LINK_ID = """
MATCH ()-[l:SUPPLIED_BY]->() RETURN coalesce(max(id(l)), 0) AS last
"""
"""The highest relationship id of a link (a scan without property reads)."""

NETWORK_LINKS = """
MATCH (b)-[l:SUPPLIED_BY]->(s) USING INDEX l:SUPPLIED_BY(category)
WHERE l.category IS NOT NULL AND $from <= id(l) < $to
WITH l.category AS category, collect(id(b)) AS buyers, collect(id(s)) AS suppliers
RETURN collect(category) AS categories, collect(buyers) AS buyers,
       collect(suppliers) AS suppliers
"""
"""The links with relationship ids in [`$from`, `$to`) in ONE record, grouped by category:
the categories, and for each the buyer and supplier node ids (as NETWORK_KINDS read them
in the same transaction). A scan of the category index, which is ordered by category and
holds it (a link always has one), so no record is read but the relationship's own, no
label check of the ends (links only join companies) and no string per link travels. About
70 bytes of server memory per link: a million at once fits `db.memory.transaction.max`."""

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

# --- requests -----------------------------------------------------------------------------

_REQUEST_FIELDS = """
r.id AS id, r.topic AS topic, r.title AS title, r.version AS version,
r.issuer_id AS issuer_id,
r.issued_at.epochMillis * 1000 + r.issued_at.microsecond % 1000 AS issued_at,
r.due_days AS due_days,
r.valid_days AS valid_days, r.mandatory AS mandatory, r.applies_to_json AS applies_to_json,
r.supersedes AS supersedes, r.catalog_id AS catalog_id, r.description AS description
"""

CREATE_REQUEST = """
CREATE (r:Request {id: $row.id})
SET r += $row, r.revision = $revision
"""
"""Create one request (the caller checked that the id is free, under the revision lock)."""

GET_REQUEST = f"MATCH (r:Request {{id: $id}}) RETURN {_REQUEST_FIELDS}"
"""One request by id."""

LIST_REQUESTS = f"MATCH (r:Request) RETURN {_REQUEST_FIELDS} ORDER BY r.id"
"""Every request, ordered by id."""

# --- cascade events -----------------------------------------------------------------------

_CASCADE_FIELDS = """
e.request_id AS request_id, e.from_id AS from_id, e.to_id AS to_id,
e.sent_at.epochMillis * 1000 + e.sent_at.microsecond % 1000 AS sent_at
"""

EXISTING_CASCADE_KEYS = """
UNWIND $keys AS key
MATCH (e:Cascade {key: key})
RETURN e.key AS key
"""
"""The cascade keys among `$keys` already recorded."""

ADD_CASCADES = """
UNWIND $rows AS row
OPTIONAL MATCH (f:Company {id: row.from_id})
OPTIONAL MATCH (t:Company {id: row.to_id})
MERGE (e:Cascade {key: row.key})
ON CREATE SET e.request_id = row.request_id, e.from_id = row.from_id,
              e.to_id = row.to_id, e.sent_at = row.sent_at, e.revision = $revision,
              e.sent_us = row.sent_us, e.from_key = CASE WHEN f IS NULL THEN 0 ELSE f.key END,
              e.to_key = CASE WHEN t IS NULL THEN 0 ELSE t.key END
RETURN count(e) AS written
"""
"""Record cascade events by key; an existing one keeps its first `sent_at`. The event
also keeps, for the cold read, its time as epoch µs (`sent_us`) and the keys of its
companies (`from_key`, `to_key`; 0: no such company, which no read holds; none: a company
without a key yet, see FILL_CASCADE_KEYS)."""

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

REQUEST_CASCADE_COUNT = """
MATCH (e:Cascade {request_id: $request_id})
RETURN count(e) AS events
"""
"""How many cascade events request `$request_id` has (from the request index)."""

REQUEST_CASCADE_KEYS = """
MATCH (e:Cascade) USING INDEX e:Cascade(request_id, from_key, to_key, sent_us)
WHERE e.request_id = $request_id AND $from <= e.from_key < $to
  AND e.to_key IS NOT NULL AND e.sent_us IS NOT NULL
RETURN collect(e.from_key) AS from_keys, collect(e.to_key) AS to_keys,
       collect(e.sent_us) AS sent_us
"""
"""The cascade events of request `$request_id` sent by companies with keys in [`$from`,
`$to`) as parallel lists in one record, in no particular order: sender key, recipient key
and time as epoch µs. A range of the `cascade_cold_read` index, which holds all three:
no record is read. An event missing one of them is not in the index (see
FILL_CASCADE_KEYS; the caller compares the count with REQUEST_CASCADE_COUNT)."""

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

REQUEST_CASCADE_ROWS = """
MATCH (e:Cascade) WHERE e.key STARTS WITH $prefix AND e.key > $after
WITH e ORDER BY e.key LIMIT $page
WITH collect(e) AS page
RETURN [e IN page | e.from_id] AS from_ids, [e IN page | e.to_id] AS to_ids,
       [e IN page | e.sent_at.epochMillis * 1000 + e.sent_at.microsecond % 1000] AS sent_ats,
       page[-1].key AS last_key
"""
"""One page of the cascade events of one request, as parallel lists in one record: the
events whose `key` (JSON of [request, from, to]) starts with `$prefix` and comes after
`$after`, in key order, read from the unique index so a page costs only its own memory
(collecting a million events at once exceeded `db.memory.transaction.max`)."""

# --- acknowledgements ---------------------------------------------------------------------

_ACK_FIELDS = """
a.request_id AS request_id, a.company_id AS company_id, a.status AS status,
a.at.epochMillis * 1000 + a.at.microsecond % 1000 AS at,
a.evidence_json AS evidence_json, a.seq AS seq,
a.recorded_at.epochMillis * 1000 + a.recorded_at.microsecond % 1000 AS recorded_at,
a.posted_by AS posted_by
"""

ACKS_WITH_IDENTITY = """
UNWIND $keys AS key
MATCH (a:Acknowledgement {identity: key})
RETURN collect([
    a.identity, a.seq, a.recorded_at.epochMillis * 1000 + a.recorded_at.microsecond % 1000,
    a.evidence_json, a.posted_by
]) AS rows
"""
"""What is stored of the answers whose `identity` (JSON of [request, company, status, `at`])
is one of `$keys`, beyond the identity: [identity, seq, recorded_at µs, evidence_json,
posted_by]. A retried answer is found here and not appended again."""

ADD_ACKNOWLEDGEMENTS = """
UNWIND range(0, size($identities) - 1) AS i
OPTIONAL MATCH (c:Company {id: $company_ids[i]})
CREATE (a:Acknowledgement {
    identity: $identities[i], request_id: $request_ids[i], company_id: $company_ids[i],
    company_key: CASE WHEN c IS NULL THEN 0 ELSE c.key END, status: $statuses[i],
    at: datetime({epochSeconds: $at_seconds[i], nanosecond: $at_nanos[i]}), at_us: $at_us[i],
    evidence_json: $evidence_jsons[i], posted_by: $posted_bys[i],
    seq: $first_seq + i,
    recorded_at: datetime({epochSeconds: $recorded_seconds, nanosecond: $recorded_nanos}),
    revision: $revision
})
"""
"""Append answers given as parallel lists, numbered `$first_seq`, `$first_seq + 1`, ...
(seq reserved under the revision lock, unique by constraint); `at` as epoch seconds and
nanoseconds, `recorded_at` (one for the batch) likewise. Parallel lists of ints pack
several times faster in the driver than maps of `datetime` values (measured: a 10k batch
0.6 s instead of 2.6 s). Like a cascade event, an answer keeps `at_us` and its company's
`company_key` for the cold read (see ADD_CASCADES)."""

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

REQUEST_ACK_COUNT = """
MATCH (a:Acknowledgement {request_id: $request_id})
RETURN count(a) AS answers
"""
"""How many answers request `$request_id` has (from the request index)."""

REQUEST_ACK_KEYS = """
MATCH (a:Acknowledgement)
USING INDEX a:Acknowledgement(request_id, company_key, at_us, seq, status)
WHERE a.request_id = $request_id AND $from <= a.company_key < $to
  AND a.at_us IS NOT NULL AND a.seq IS NOT NULL AND a.status IS NOT NULL
RETURN collect(a.company_key) AS company_keys, collect(a.status) AS statuses,
       collect(a.at_us) AS at_us, collect(a.seq) AS seqs
"""
"""The answers to request `$request_id` of companies with keys in [`$from`, `$to`) as
parallel lists in one record, in no particular order: company key, status, time as epoch
µs and seq, all from the `ack_cold_read` index (as REQUEST_CASCADE_KEYS)."""

FILL_ACK_KEYS = """
MATCH (a:Acknowledgement) WHERE a.company_key IS NULL OR a.at_us IS NULL
CALL (a) {
  OPTIONAL MATCH (c:Company {id: a.company_id})
  SET a.at_us = a.at.epochMillis * 1000 + a.at.microsecond % 1000,
      a.company_key = CASE WHEN c IS NULL THEN 0 ELSE c.key END
} IN TRANSACTIONS OF 10000 ROWS
"""
"""FILL_CASCADE_KEYS for answers."""

REQUEST_ACK_ROWS = """
MATCH (a:Acknowledgement {request_id: $request_id}) WHERE a.seq > $after
WITH a ORDER BY a.seq LIMIT $page
WITH collect(a) AS page
RETURN [a IN page | a.company_id] AS company_ids, [a IN page | a.status] AS statuses,
       [a IN page | a.at.epochMillis * 1000 + a.at.microsecond % 1000] AS ats,
       [a IN page | a.seq] AS seqs
"""
"""One page of the answers to one request after seq `$after`, in recording order, as
parallel lists in one record (ORDER BY + LIMIT keeps only a page in memory)."""

# --- change log ---------------------------------------------------------------------------
# Each read: the rows stamped after `$since`, at most `$limit`, as parallel lists.

CHANGED_COMPANIES = """
MATCH (c:Company) USING INDEX c:Company(revision)
WHERE c.revision > $since
WITH c LIMIT $limit
RETURN collect([c.id, c.kind, c.revision]) AS rows
"""
"""Companies written after `$since`: [id, kind, revision]."""

CHANGED_LINKS = """
MATCH (b:Company)-[l:SUPPLIED_BY]->(s:Company) USING INDEX l:SUPPLIED_BY(revision)
WHERE l.revision > $since
WITH b, l, s LIMIT $limit
RETURN collect([b.id, s.id, l.category, l.revision]) AS rows
"""
"""Links written after `$since`: [buyer, supplier, category, revision]."""

CHANGED_REQUESTS = """
MATCH (r:Request) USING INDEX r:Request(revision)
WHERE r.revision > $since
WITH r LIMIT $limit
RETURN collect([r.id]) AS rows
"""
"""Requests created after `$since`: [id]."""

CHANGED_CASCADES = """
MATCH (e:Cascade) USING INDEX e:Cascade(revision)
WHERE e.revision > $since
WITH e LIMIT $limit
WITH e, e.sent_at.epochMillis * 1000 + e.sent_at.microsecond % 1000 AS sent_at
ORDER BY sent_at, e.from_id, e.to_id
RETURN collect([e.request_id, e.from_id, e.to_id, sent_at]) AS rows
"""
"""Cascade events recorded after `$since`, in sending order: [request, from, to, sent µs]."""

CHANGED_ACKS = """
MATCH (a:Acknowledgement) USING INDEX a:Acknowledgement(revision)
WHERE a.revision > $since
WITH a LIMIT $limit
WITH a ORDER BY a.seq
RETURN collect([a.request_id, a.company_id, a.status,
                a.at.epochMillis * 1000 + a.at.microsecond % 1000, a.seq]) AS rows
"""
"""Answers recorded after `$since`, in seq order: [request, company, status, at µs, seq]."""

CHANGED_TOMBSTONES = """
MATCH (t:Tombstone) USING INDEX t:Tombstone(revision)
WHERE t.revision > $since
WITH t LIMIT $limit
RETURN collect([t.entity, t.key, t.key2, t.revision]) AS rows
"""
"""Deletions after `$since`: [entity, key, key2, revision] (see ADD_TOMBSTONES)."""

CHANGE_LOG = (
    CHANGED_COMPANIES,
    CHANGED_LINKS,
    CHANGED_REQUESTS,
    CHANGED_CASCADES,
    CHANGED_ACKS,
    CHANGED_TOMBSTONES,
)
"""The change-log reads in the order `port.assemble_changes` takes their rows."""

CHANGES_SINCE = (
    "OPTIONAL MATCH (r:StoreRevision {id: 'main'})\n"
    "WITH coalesce(r.value, 0) AS value, CASE WHEN r IS NULL THEN 0 ELSE r.log_from END"
    " AS log_from\n"
    + "".join(f"CALL () {{{query.replace('AS rows', f'AS rows{i}')}}}\n"
              for i, query in enumerate(CHANGE_LOG))
    + "RETURN value, log_from, " + ", ".join(f"rows{i}" for i in range(len(CHANGE_LOG)))
)
"""The revision first, then every change-log read, in one round trip: a single
acknowledgement reaches a worker's snapshot in one query."""


# -- idempotency keys (not data: they never bump the revision) -----------------------------

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


# -- access: API keys and the audit trail (not data: they never bump the revision) --------

ACCESS_SCHEMA = (
    "CREATE CONSTRAINT api_key_id IF NOT EXISTS FOR (k:ApiKey) REQUIRE k.id IS UNIQUE",
    "CREATE CONSTRAINT audit_seq IF NOT EXISTS FOR (a:AuditEntry) REQUIRE a.seq IS UNIQUE",
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


# -- webhooks and their delivery outbox (not data: they never bump the revision) ----------

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
