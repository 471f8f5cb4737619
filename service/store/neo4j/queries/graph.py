"""The supplier graph: companies and supply links (`neo4j.graph`)."""

from __future__ import annotations

__all__ = [
    "ADD_COMPANIES",
    "ADD_LINKS",
    "COMPANY_LINK_KEYS",
    "COMPANY_REFERENCES",
    "CREATE_COMPANY",
    "DELETE_COMPANY",
    "DELETE_COMPANY_ACKS",
    "DELETE_COMPANY_CASCADES",
    "DELETE_LINK",
    "EXISTING_COMPANY_IDS",
    "EXISTING_LINKS",
    "GET_COMPANIES",
    "LIST_COMPANIES",
    "LIST_LINKS",
    "LIST_LINKS_OF_BUYER",
    "LIST_LINKS_OF_SUPPLIER",
    "RECATEGORISE_LINKS",
    "UPDATE_COMPANIES",
]

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
    c.sites_json = $row.sites_json, c.sited = $row.sited, c.revision = $revision
"""
"""Create one company with the next company `$key` (the caller checked that the id is
free, under the revision lock)."""

_COMPANY_SET = """
SET c.name = row.name, c.country = row.country, c.kind = row.kind,
    c.identifiers_json = row.identifiers_json, c.tags = row.tags,
    c.sites_json = row.sites_json, c.sited = row.sited, c.revision = $revision
RETURN count(c) AS written
"""

ADD_COMPANIES = """
UNWIND $rows AS row
CREATE (c:Company {id: row.id, key: row.key})""" + _COMPANY_SET
"""Create new companies (the caller found their ids free, under the revision lock), each
with its row's `key`, the next company key (handed out under the revision lock)."""

UPDATE_COMPANIES = """
UNWIND $rows AS row
MATCH (c:Company {id: row.id})""" + _COMPANY_SET
"""Overwrite stored companies by id."""

LIST_COMPANIES = f"""
MATCH (c:Company)
WHERE c.id > $after
  AND ($kind IS NULL OR c.kind = $kind)
  AND ($country IS NULL OR c.country = $country)
  AND ($q IS NULL OR toLower(c.id) CONTAINS $q OR toLower(c.name) CONTAINS $q)
  AND ($ids IS NULL OR c.id IN $ids)
RETURN {_COMPANY_FIELDS}
ORDER BY c.id
LIMIT $limit
"""
"""A page of companies ordered by id after `$after` ('' = from the start), filtered by kind,
country, a lower-cased substring `$q` of id or name and a list `$ids` (null = no filter)."""

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


_BOTH_ENDS = """
MATCH (b:Company {id: pair[0]})
MATCH (s:Company {id: pair[1]})
CALL (b, s) { MATCH (b)-[l:SUPPLIED_BY]->(s) RETURN l }"""

EXISTING_LINKS = f"""
UNWIND $pairs AS pair{_BOTH_ENDS}
RETURN b.id AS buyer_id, s.id AS supplier_id, l.category AS category
"""
"""The links among `$pairs` ([buyer, supplier] lists) that exist, with their category.
Both ends are sought by index, then the link between them (the subquery makes it an
`Expand(Into)`): a plan made while there were few links would otherwise walk every link
of each supplier (thousands for a supplier to many buyers: a second per batch at 10k
links, measured)."""

ADD_LINKS = """
UNWIND $rows AS row
MATCH (b:Company {id: row.buyer_id})
MATCH (s:Company {id: row.supplier_id})
CREATE (b)-[l:SUPPLIED_BY {category: row.category, revision: $revision}]->(s)
RETURN count(l) AS written
"""
"""Create new links buyer -[:SUPPLIED_BY]-> supplier between existing companies (the
caller found none between them, under the revision lock: a relationship has no unique
constraint, so CREATE relies on that); returns how many rows found both ends."""

RECATEGORISE_LINKS = f"""
UNWIND [row IN $rows | [row.buyer_id, row.supplier_id, row.category]] AS pair{_BOTH_ENDS}
SET l.category = pair[2], l.revision = $revision
RETURN count(l) AS written
"""
"""Give stored links their row's category."""

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
