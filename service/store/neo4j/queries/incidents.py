"""Cypher of the incidents part of the Neo4j store (`neo4j_incidents`).

`(:Incident {id, body_json})`, unique `id`: the incident as JSON, like the request's
applicability. Company locations are the `country` ('' for none) and `sites_json`
properties of `:Company`, with `sited` (it has sites) beside them: the `company_location`
index holds the key, id, country and `sited` of every company, so reading where all of
them are reads no record but the few sited companies' own.
"""

from __future__ import annotations

__all__ = [
    "COMPANY_LOCATIONS",
    "COMPANY_LOCATIONS_OF",
    "CREATE_INCIDENT",
    "FILL_LOCATIONS",
    "GET_INCIDENT",
    "INCIDENT_SCHEMA",
    "LIST_INCIDENTS",
    "LOCATION_SCHEMA",
    "REPLACE_INCIDENT",
    "REQUEST_CREATION",
    "UNINDEXED_LOCATIONS",
]

INCIDENT_SCHEMA = (
    "CREATE CONSTRAINT incident_id IF NOT EXISTS FOR (i:Incident) REQUIRE i.id IS UNIQUE",
)

LOCATION_SCHEMA = (
    "CREATE INDEX company_location IF NOT EXISTS "
    "FOR (c:Company) ON (c.key, c.id, c.country, c.sited)",
)
"""The index COMPANY_LOCATIONS reads (a company lacking one of the four is not in it)."""

FILL_LOCATIONS = """
MATCH (c:Company) WHERE c.country IS NULL OR c.sited IS NULL
CALL (c) {
  SET c.country = coalesce(c.country, ''),
      c.sited = coalesce(c.sites_json, '[]') <> '[]'
} IN TRANSACTIONS OF 10000 ROWS
"""
"""Upgrade (auto-commit): companies written before `sited` existed, or without a country,
get the values the location index needs. Derived values, no data: no lock, no revision."""

CREATE_INCIDENT = """
OPTIONAL MATCH (taken:Incident {id: $id})
WITH taken WHERE taken IS NULL
CREATE (i:Incident {id: $id, body_json: $body})
RETURN count(i) AS created
"""
"""Create the incident `$id` unless the id is taken (`created` 0)."""

GET_INCIDENT = """
MATCH (i:Incident {id: $id})
RETURN i.body_json AS body
"""
"""The stored JSON of incident `$id`."""

LIST_INCIDENTS = """
MATCH (i:Incident) WHERE i.id > $after
RETURN i.body_json AS body
ORDER BY i.id LIMIT $limit
"""
"""Incidents after the id `$after`, by id, at most `$limit`."""

REPLACE_INCIDENT = """
MATCH (i:Incident {id: $id})
SET i.body_json = $body
RETURN count(i) AS replaced
"""
"""Overwrite the JSON of incident `$id` (`replaced` 0 when unknown)."""

COMPANY_LOCATIONS = """
MATCH (c:Company) USING INDEX c:Company(key, id, country, sited)
WHERE $from <= c.key < $to
  AND c.id IS NOT NULL AND c.country IS NOT NULL AND c.sited IS NOT NULL
RETURN collect(c.id) AS ids, collect(c.country) AS countries,
       collect(CASE WHEN c.sited THEN [c.id, c.sites_json] END) AS sited
"""
"""The companies with keys in [`$from`, `$to`) as parallel lists in ONE record (as the
cold read's NETWORK_KINDS): their ids, their own countries ('' for none) and [id, sites
JSON] of those with sites. All but the sites come from the `company_location` index: half
the server's work of reading every record."""

UNINDEXED_LOCATIONS = """
MATCH (c:Company) WHERE c.key IS NULL OR c.country IS NULL OR c.sited IS NULL
RETURN collect(c.id) AS ids, collect(coalesce(c.country, '')) AS countries,
       collect(CASE WHEN c.sites_json <> '[]' THEN [c.id, c.sites_json] END) AS sited
"""
"""COMPANY_LOCATIONS of the companies the index lacks (without a key yet, or written by a
worker of a version before `sited`), from their records."""

COMPANY_LOCATIONS_OF = """
UNWIND $ids AS id
MATCH (c:Company {id: id})
RETURN c.id AS id, c.country AS country, c.sites_json AS sites_json
"""
"""The own country and sites of the companies among `$ids`."""

REQUEST_CREATION = """
UNWIND $ids AS id
MATCH (r:Request {id: id})
RETURN r.id AS id, r.revision AS revision
"""
"""The revision each of the requests `$ids` was created at (a request is never rewritten)."""
