"""The Neo4j adapter: `Neo4jStore` implements every role port; its Cypher is in `queries`."""

from service.store.neo4j.store import Neo4jStore

__all__ = ["Neo4jStore"]
