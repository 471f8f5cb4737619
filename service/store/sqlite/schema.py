"""The SQLite store's tables: the DDL of every table and index, what `clear_all` runs,
and the version table that records how far `migrations` brought a database.

Change log: every table of records has an indexed `revision` column, the revision of the
write that last changed the row, and deletions leave a row in `tombstones` (one per deleted
key, stamped with the latest deletion). `store_meta.log_from` is the revision the log starts
at: 0 for a database created with it, the revision at upgrade for an older one.
"""

from __future__ import annotations

__all__ = [
    "CLEAR_ALL",
    "GRAPH_INDEXES",
    "MIGRATED_TABLES",
    "REVISION_INDEXES",
    "SCHEMA_VERSION_TABLE",
    "SELECT_SCHEMA_VERSION",
    "SET_SCHEMA_VERSION",
    "TABLES",
]

SCHEMA_VERSION_TABLE = """CREATE TABLE IF NOT EXISTS schema_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
)"""
"""One row: the number of the last migration step the database has run (none: 0)."""
SELECT_SCHEMA_VERSION = "SELECT version FROM schema_version"
SET_SCHEMA_VERSION = (
    "INSERT INTO schema_version (id, version) VALUES (1, ?) "
    "ON CONFLICT (id) DO UPDATE SET version = excluded.version"
)

# Foreign keys keep references honest; the child-side indexes also make the delete checks
# and the "who references this company" queries index lookups instead of scans. Every
# record table carries `revision` (see the module docstring); its index comes in
# REVISION_INDEXES, after `migrations` added the column to tables of an older database.
TABLES = (
    """CREATE TABLE IF NOT EXISTS store_meta (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        revision INTEGER NOT NULL,
        log_from INTEGER NOT NULL DEFAULT 0
    )""",
    "INSERT OR IGNORE INTO store_meta (id, revision) VALUES (1, 0)",
    """CREATE TABLE IF NOT EXISTS companies (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        country TEXT,
        kind TEXT NOT NULL,
        identifiers TEXT NOT NULL,
        tags TEXT NOT NULL,
        sites TEXT NOT NULL DEFAULT '[]',
        revision INTEGER NOT NULL DEFAULT 0,
        key INTEGER
    ) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS links (
        buyer_id TEXT NOT NULL REFERENCES companies (id),
        supplier_id TEXT NOT NULL REFERENCES companies (id),
        category TEXT NOT NULL,
        revision INTEGER NOT NULL DEFAULT 0,
        buyer_key INTEGER,
        supplier_key INTEGER,
        PRIMARY KEY (buyer_id, supplier_id),
        CHECK (buyer_id <> supplier_id)
    ) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS requests (
        id TEXT PRIMARY KEY,
        topic TEXT NOT NULL,
        title TEXT NOT NULL,
        version TEXT NOT NULL,
        issuer_id TEXT NOT NULL REFERENCES companies (id),
        issued_at TEXT NOT NULL,
        due_days INTEGER NOT NULL,
        valid_days INTEGER,
        mandatory INTEGER NOT NULL,
        applies_to TEXT NOT NULL,
        supersedes TEXT,
        catalog_id TEXT,
        description TEXT,
        revision INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS cascades (
        request_id TEXT NOT NULL REFERENCES requests (id),
        from_id TEXT NOT NULL REFERENCES companies (id),
        to_id TEXT NOT NULL REFERENCES companies (id),
        sent_at TEXT NOT NULL,
        revision INTEGER NOT NULL DEFAULT 0,
        from_key INTEGER,
        to_key INTEGER,
        PRIMARY KEY (request_id, from_id, to_id)
    ) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS acknowledgements (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        request_id TEXT NOT NULL REFERENCES requests (id),
        company_id TEXT NOT NULL REFERENCES companies (id),
        status TEXT NOT NULL,
        at TEXT NOT NULL,
        evidence TEXT,
        recorded_at TEXT NOT NULL,
        posted_by TEXT,
        revision INTEGER NOT NULL DEFAULT 0,
        company_key INTEGER
    )""",
    # Every company id ever stored gets an integer key that never changes (rows are never
    # deleted); links, cascades and answers carry the keys of the companies they name
    # (`*_key` columns), so the coverage engine's cold read is integers only.
    """CREATE TABLE IF NOT EXISTS company_keys (
        key INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE
    )""",
    # entity 'company' (id), 'link' (id = buyer, id2 = supplier) or 'events' (id = a
    # request that lost cascade events or answers to a force delete).
    """CREATE TABLE IF NOT EXISTS tombstones (
        entity TEXT NOT NULL,
        id TEXT NOT NULL,
        id2 TEXT NOT NULL DEFAULT '',
        revision INTEGER NOT NULL,
        PRIMARY KEY (entity, id, id2)
    ) WITHOUT ROWID""",
)
MIGRATED_TABLES = ("companies", "links", "requests", "cascades", "acknowledgements")
"""Tables an older database lacks `revision` in (`init_schema` adds it, default 0)."""

GRAPH_INDEXES = (
    "CREATE INDEX IF NOT EXISTS companies_by_kind ON companies (kind, id)",
    "CREATE INDEX IF NOT EXISTS companies_by_country ON companies (country, id)",
    "CREATE INDEX IF NOT EXISTS links_by_supplier ON links (supplier_id, buyer_id)",
    "CREATE INDEX IF NOT EXISTS requests_by_issuer ON requests (issuer_id)",
    "CREATE INDEX IF NOT EXISTS cascades_by_from ON cascades (from_id)",
    "CREATE INDEX IF NOT EXISTS cascades_by_to ON cascades (to_id)",
    "CREATE UNIQUE INDEX IF NOT EXISTS acks_identity "
    "ON acknowledgements (request_id, company_id, status, at)",
    "CREATE INDEX IF NOT EXISTS acks_by_company ON acknowledgements (company_id, at, seq)",
    "CREATE INDEX IF NOT EXISTS acks_by_time ON acknowledgements (at, seq)",
)
"""Indexes for reference lookups and history reads."""
REVISION_INDEXES = tuple(
    f"CREATE INDEX IF NOT EXISTS {table}_by_revision ON {table} (revision)"
    for table in (*MIGRATED_TABLES, "tombstones")
)
"""The change log's indexes (after `migrations` added `revision` to an older database)."""
CLEAR_ALL = (
    "DELETE FROM acknowledgements",
    "DELETE FROM cascades",
    "DELETE FROM requests",
    "DELETE FROM links",
    "DELETE FROM companies",
    "DELETE FROM tombstones",
    "DELETE FROM company_keys",
    "DELETE FROM sqlite_sequence WHERE name = 'acknowledgements'",
    "UPDATE store_meta SET revision = 0, log_from = 0",
)

