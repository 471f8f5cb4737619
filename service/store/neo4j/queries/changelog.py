"""The change log: what writes stamped after a revision, and what they deleted
(`neo4j.changelog`). Each read: the rows stamped after `$since`, at most `$limit`, as
parallel lists."""

from __future__ import annotations

__all__ = [
    "CHANGED_ACKS",
    "CHANGED_CASCADES",
    "CHANGED_COMPANIES",
    "CHANGED_LINKS",
    "CHANGED_REQUESTS",
    "CHANGED_TOMBSTONES",
    "CHANGES_SINCE",
    "CHANGE_LOG",
]

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
