"""Cypher of the incidents part of the Neo4j store (`neo4j_incidents`).

`(:Incident {id, body_json})`, unique `id`: the incident as JSON, like the request's
applicability. Company locations are the `country` and `sites_json` properties of
`:Company`.
"""

from __future__ import annotations

__all__ = [
    "COMPANY_LOCATIONS",
    "COMPANY_LOCATIONS_OF",
    "CREATE_INCIDENT",
    "GET_INCIDENT",
    "INCIDENT_SCHEMA",
    "LIST_INCIDENTS",
    "REPLACE_INCIDENT",
    "REQUEST_CREATION",
    "UNKEYED_LOCATIONS",
]

INCIDENT_SCHEMA = (
    "CREATE CONSTRAINT incident_id IF NOT EXISTS FOR (i:Incident) REQUIRE i.id IS UNIQUE",
)

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

_LOCATION_COLUMNS = """
RETURN collect(c.id) AS ids, collect(coalesce(c.country, '')) AS countries,
       collect(CASE WHEN c.sites_json <> '[]' THEN [c.id, c.sites_json] END) AS sited
"""

COMPANY_LOCATIONS = """
MATCH (c:Company) USING INDEX c:Company(key)
WHERE $from <= c.key < $to""" + _LOCATION_COLUMNS
"""The companies with keys in [`$from`, `$to`) as parallel lists in ONE record (as the
cold read's NETWORK_KINDS): their ids, their own countries ('' for none) and [id, sites
JSON] of those with sites."""

UNKEYED_LOCATIONS = """
MATCH (c:Company) WHERE c.key IS NULL""" + _LOCATION_COLUMNS
"""COMPANY_LOCATIONS of the companies without a key yet."""

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
