"""Every Cypher statement of the Neo4j adapter, as named constants, one module per part of
the adapter: `schema` (constraints, migrations), `revision` (the write lock and counters),
`graph`, `ledger`, `snapshot` (the coverage engine's reads, the cold read among them),
`changelog`, `idempotency`, `access`, `webhooks`. This package re-exports them all.

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
shape is described in `service.store.neo4j.store`.
"""

from __future__ import annotations

from service.store.neo4j.queries.access import (
    ACCESS_SCHEMA,
    CREATE_API_KEY,
    GET_API_KEY,
    LIST_API_KEYS,
    LIST_AUDIT,
    RECORD_AUDIT,
    REVOKE_API_KEY,
)
from service.store.neo4j.queries.changelog import (
    CHANGE_LOG,
    CHANGED_ACKS,
    CHANGED_CASCADES,
    CHANGED_COMPANIES,
    CHANGED_LINKS,
    CHANGED_REQUESTS,
    CHANGED_TOMBSTONES,
    CHANGES_SINCE,
)
from service.store.neo4j.queries.graph import (
    COMPANY_LINK_KEYS,
    COMPANY_REFERENCES,
    CREATE_COMPANY,
    DELETE_COMPANY,
    DELETE_COMPANY_ACKS,
    DELETE_COMPANY_CASCADES,
    DELETE_LINK,
    EXISTING_COMPANY_IDS,
    EXISTING_LINKS,
    GET_COMPANIES,
    LIST_COMPANIES,
    LIST_LINKS,
    LIST_LINKS_OF_BUYER,
    LIST_LINKS_OF_SUPPLIER,
    UPSERT_COMPANIES,
    UPSERT_LINKS,
)
from service.store.neo4j.queries.idempotency import (
    CLAIM_IDEMPOTENCY_KEY,
    COMPLETE_IDEMPOTENCY_KEY,
    IDEMPOTENCY_SCHEMA,
    LOCK_IDEMPOTENCY_KEY,
    PRUNE_IDEMPOTENCY_KEYS,
    RELEASE_IDEMPOTENCY_KEY,
)
from service.store.neo4j.queries.ledger import (
    ACKS_WITH_IDENTITY,
    ADD_ACKNOWLEDGEMENTS,
    ADD_CASCADES,
    CREATE_REQUEST,
    GET_REQUEST,
    LIST_ACKS,
    LIST_ACKS_OF_COMPANY,
    LIST_ACKS_OF_REQUEST,
    LIST_CASCADES,
    LIST_CASCADES_FROM,
    LIST_CASCADES_OF_REQUEST,
    LIST_CASCADES_TO,
    LIST_REQUESTS,
    STORED_CASCADES,
)
from service.store.neo4j.queries.revision import (
    ADD_TOMBSTONES,
    BUMP_REVISION,
    LOCK_REVISION,
    READ_KEYED_REVISION,
    READ_REVISION,
    SET_ACK_SEQ,
    SET_COMPANY_KEY,
)
from service.store.neo4j.queries.schema import (
    AWAIT_INDEXES,
    COMPANY_KEYS,
    DELETE_ALL_BATCH,
    FILL_ACK_KEYS,
    FILL_CASCADE_KEYS,
    PING,
    READ_SCHEMA_VERSION,
    SCHEMA,
    SET_SCHEMA_VERSION,
    START_LOG,
    UNKEYED_COMPANIES,
)
from service.store.neo4j.queries.snapshot import (
    LAST_LINK_ID,
    LINK_COUNT,
    NETWORK_KINDS,
    NETWORK_LINKS,
    REQUEST_ACK_COUNT,
    REQUEST_ACK_KEYS,
    REQUEST_ACK_ROWS,
    REQUEST_CASCADE_COUNT,
    REQUEST_CASCADE_KEYS,
    REQUEST_CASCADE_ROWS,
)
from service.store.neo4j.queries.webhooks import (
    CLAIM_DELIVERIES,
    CREATE_WEBHOOK,
    DELETE_WEBHOOK,
    DELIVERY_ATTEMPTS,
    ENQUEUE_DELIVERIES,
    FINISH_ATTEMPT,
    GET_WEBHOOK,
    LIST_DELIVERIES,
    LIST_WEBHOOKS,
    WEBHOOK_SCHEMA,
)

__all__ = [
    "ACCESS_SCHEMA",
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
    "CLAIM_DELIVERIES",
    "CLAIM_IDEMPOTENCY_KEY",
    "COMPANY_KEYS",
    "COMPANY_LINK_KEYS",
    "COMPANY_REFERENCES",
    "COMPLETE_IDEMPOTENCY_KEY",
    "CREATE_API_KEY",
    "CREATE_COMPANY",
    "CREATE_REQUEST",
    "CREATE_WEBHOOK",
    "DELETE_ALL_BATCH",
    "DELETE_COMPANY",
    "DELETE_COMPANY_ACKS",
    "DELETE_COMPANY_CASCADES",
    "DELETE_LINK",
    "DELETE_WEBHOOK",
    "DELIVERY_ATTEMPTS",
    "ENQUEUE_DELIVERIES",
    "EXISTING_COMPANY_IDS",
    "EXISTING_LINKS",
    "FILL_ACK_KEYS",
    "FILL_CASCADE_KEYS",
    "FINISH_ATTEMPT",
    "GET_API_KEY",
    "GET_COMPANIES",
    "GET_REQUEST",
    "GET_WEBHOOK",
    "IDEMPOTENCY_SCHEMA",
    "LAST_LINK_ID",
    "LINK_COUNT",
    "LIST_ACKS",
    "LIST_ACKS_OF_COMPANY",
    "LIST_ACKS_OF_REQUEST",
    "LIST_API_KEYS",
    "LIST_AUDIT",
    "LIST_CASCADES",
    "LIST_CASCADES_FROM",
    "LIST_CASCADES_OF_REQUEST",
    "LIST_CASCADES_TO",
    "LIST_COMPANIES",
    "LIST_DELIVERIES",
    "LIST_LINKS",
    "LIST_LINKS_OF_BUYER",
    "LIST_LINKS_OF_SUPPLIER",
    "LIST_REQUESTS",
    "LIST_WEBHOOKS",
    "LOCK_IDEMPOTENCY_KEY",
    "LOCK_REVISION",
    "NETWORK_KINDS",
    "NETWORK_LINKS",
    "PING",
    "PRUNE_IDEMPOTENCY_KEYS",
    "READ_KEYED_REVISION",
    "READ_REVISION",
    "READ_SCHEMA_VERSION",
    "RECORD_AUDIT",
    "RELEASE_IDEMPOTENCY_KEY",
    "REQUEST_ACK_COUNT",
    "REQUEST_ACK_KEYS",
    "REQUEST_ACK_ROWS",
    "REQUEST_CASCADE_COUNT",
    "REQUEST_CASCADE_KEYS",
    "REQUEST_CASCADE_ROWS",
    "REVOKE_API_KEY",
    "SCHEMA",
    "SET_ACK_SEQ",
    "SET_COMPANY_KEY",
    "SET_SCHEMA_VERSION",
    "START_LOG",
    "STORED_CASCADES",
    "UNKEYED_COMPANIES",
    "UPSERT_COMPANIES",
    "UPSERT_LINKS",
    "WEBHOOK_SCHEMA",
]
