"""The ledger: requests, cascade events and answers (`neo4j.ledger`)."""

from __future__ import annotations

from service.store.neo4j.queries.revision import under_lock

__all__ = [
    "ACKS_WITH_IDENTITY",
    "ADD_ACKNOWLEDGEMENTS",
    "ADD_CASCADES",
    "ANTEDATE_CASCADES",
    "CREATE_REQUEST",
    "GET_REQUEST",
    "LIST_ACKS",
    "LIST_ACKS_OF_COMPANY",
    "LIST_ACKS_OF_REQUEST",
    "LIST_CASCADES",
    "LIST_CASCADES_FROM",
    "LIST_CASCADES_OF_REQUEST",
    "LIST_CASCADES_TO",
    "LIST_REQUESTS",
    "LOCKED_ACKS_WITH_IDENTITY",
    "STORED_CASCADES",
]

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


_CASCADE_FIELDS = """
e.request_id AS request_id, e.from_id AS from_id, e.to_id AS to_id,
e.sent_at.epochMillis * 1000 + e.sent_at.microsecond % 1000 AS sent_at
"""

STORED_CASCADES = """
UNWIND $keys AS key
MATCH (e:Cascade {key: key})
RETURN e.key AS key, e.sent_at.epochMillis * 1000 + e.sent_at.microsecond % 1000 AS sent_at
"""
"""The cascade events among `$keys` already recorded: their key and `sent_at` (µs)."""

ADD_CASCADES = """
UNWIND $rows AS row
OPTIONAL MATCH (f:Company {id: row.from_id})
OPTIONAL MATCH (t:Company {id: row.to_id})
CREATE (e:Cascade {key: row.key})
SET e.request_id = row.request_id, e.from_id = row.from_id, e.to_id = row.to_id,
    e.sent_at = datetime({epochSeconds: row.sent_seconds, nanosecond: row.sent_nanos}),
    e.sent_us = row.sent_us, e.revision = $revision,
    e.from_key = CASE WHEN f IS NULL THEN 0 ELSE f.key END,
    e.to_key = CASE WHEN t IS NULL THEN 0 ELSE t.key END
RETURN count(e) AS written
"""
"""Record new cascade events (the caller found their keys free, under the revision lock),
their time given as epoch seconds and nanoseconds (a `datetime` value per row costs the
driver tens of microseconds to pack). The event also keeps, for the cold read, its time
as epoch µs (`sent_us`) and the keys of its companies (`from_key`, `to_key`; 0: no such
company, which no read holds; none: a company without a key yet, see
FILL_CASCADE_KEYS)."""

ANTEDATE_CASCADES = """
UNWIND $rows AS row
MATCH (e:Cascade {key: row.key})
SET e.sent_at = datetime({epochSeconds: row.sent_seconds, nanosecond: row.sent_nanos}),
    e.sent_us = row.sent_us, e.revision = $revision
RETURN count(e) AS written
"""
"""Give recorded events the earlier `sent_at` of a forward of their link (the caller
planned it, `planning.earliest_sent`) and the revision, so the change log carries it."""

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

LOCKED_ACKS_WITH_IDENTITY = under_lock(ACKS_WITH_IDENTITY)
"""LOCK_REVISION and ACKS_WITH_IDENTITY in one round trip: how a write of answers starts."""
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
RETURN count(a) AS written
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

_AFTER = """($before_at IS NULL OR a.at < $before_at
     OR (a.at = $before_at AND a.seq < $before_seq))"""

LIST_ACKS = f"""
MATCH (a:Acknowledgement)
WHERE {_AFTER}
{_ACK_PAGE}"""
"""Acknowledgement history of everything, newest first (by `at`, then seq); with
`$before_at` and `$before_seq`, only what comes after that answer (a next page), as in
each list below."""

LIST_ACKS_OF_REQUEST = f"""
MATCH (a:Acknowledgement {{request_id: $request_id}})
WHERE ($company_id IS NULL OR a.company_id = $company_id) AND {_AFTER}
{_ACK_PAGE}"""
"""History of one request (optionally of one company), newest first."""

LIST_ACKS_OF_COMPANY = f"""
MATCH (a:Acknowledgement {{company_id: $company_id}})
WHERE {_AFTER}
{_ACK_PAGE}"""
"""History of one company across requests, newest first."""
