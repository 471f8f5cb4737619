"""The coverage engine's reads: the network as columns and a request's events, by id
(`request_events`) and as integer keys (the cold read, `neo4j.snapshot`)."""

from __future__ import annotations

__all__ = [
    "ALL_LINKS",
    "COMPANY_COUNT",
    "LAST_COMPANY_KEY",
    "LAST_LINK_ID",
    "LINK_COUNT",
    "NETWORK_KINDS",
    "NETWORK_LINKS",
    "REQUEST_ACK_COUNT",
    "REQUEST_ACK_KEYS",
    "REQUEST_ACK_ROWS",
    "REQUEST_CASCADE_COUNT",
    "REQUEST_CASCADE_KEYS",
    "REQUEST_CASCADE_ROWS",
    "UNKEYED_KINDS",
]

COMPANY_COUNT = """
MATCH (c:Company) RETURN count(c) AS companies
"""
"""How many companies there are (from the count store: no scan)."""

LAST_COMPANY_KEY = """
MATCH (c:Company) WHERE c.key IS NOT NULL RETURN coalesce(max(c.key), 0) AS last
"""
"""The highest company key (the last entry of the key index: no scan)."""

NETWORK_KINDS = """
MATCH (c:Company) USING INDEX c:Company(key)
WHERE $from <= c.key < $to
RETURN collect(id(c)) AS nodes, collect(c.key) AS keys, collect(c.id) AS ids,
       collect(c.kind) AS kinds
"""
"""The node id (valid in this transaction only), key, id and kind of the companies with
keys in [`$from`, `$to`), as parallel lists in ONE record (the driver's cost is per
record: 100k records take seconds, one record of 100k values a fraction). About 150 bytes
of server memory per company: a page of them must fit `db.memory.transaction.max`, all
3.3M of ten million links did not."""

UNKEYED_KINDS = """
MATCH (c:Company) WHERE c.key IS NULL
RETURN collect(id(c)) AS nodes, collect(-1) AS keys, collect(c.id) AS ids,
       collect(c.kind) AS kinds
"""
"""NETWORK_KINDS of the companies without a key yet (see COMPANY_KEYS), with key -1."""

LINK_COUNT = """
MATCH ()-[l:SUPPLIED_BY]->() RETURN count(l) AS links
"""
"""How many links there are (from the count store: no scan)."""

LAST_LINK_ID = """
MATCH ()-[l:SUPPLIED_BY]->() RETURN coalesce(max(id(l)), 0) AS last
"""
"""The highest relationship id of a link (a scan without property reads)."""

_LINK_COLUMNS = """
WITH l.category AS category, collect(id(b)) AS buyers, collect(id(s)) AS suppliers
RETURN collect(category) AS categories, collect(buyers) AS buyers,
       collect(suppliers) AS suppliers
"""

ALL_LINKS = """
MATCH (b)-[l:SUPPLIED_BY]->(s) USING INDEX l:SUPPLIED_BY(category)
WHERE l.category IS NOT NULL
""" + _LINK_COLUMNS
"""Every link in ONE record, grouped by category: the categories, and for each the buyer
and supplier node ids (as NETWORK_KINDS read them in the same transaction). A scan of the
category index, which is ordered by category and holds it (a link always has one), so no
record is read but the relationship's own, no label check of the ends (links only join
companies) and no string per link travels. About 70 bytes of server memory per link: a
million at once fits `db.memory.transaction.max`."""

NETWORK_LINKS = """
MATCH (b)-[l:SUPPLIED_BY]->(s) WHERE id(l) IN range($from, $to - 1)
""" + _LINK_COLUMNS
"""ALL_LINKS for the links with relationship ids in [`$from`, `$to`), when they take more
than one record: a seek of each id in the range, so a page costs its own links only (the
index scan costs every link per page: 2.7 s a page at ten million links, against 0.9 s;
for one page of a million, the scan takes 0.7 s and the seeks 1.1 s)."""

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
