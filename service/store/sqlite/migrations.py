"""The SQLite store's migration steps (see `service.store.migrations`), run by
`SqliteStore.init_schema` in one write transaction.

1. tables: every table and the indexes of the graph and the ledger (what is missing);
2. change log: `revision` columns on an older database's tables (existing rows get 0)
   and the log started at the current revision (deletions before left no tombstones);
3. company keys: the integer key columns the cold read uses, filled for every row;
4. company sites: a `sites` column (JSON, empty list) on an older database's companies;
5. incidents: the incidents table.
"""

from __future__ import annotations

import sqlite3

from service.store.migrations import Step, pending
from service.store.sqlite import schema
from service.store.sqlite.access import ACCESS_TABLES
from service.store.sqlite.idempotency import IDEMPOTENCY_TABLES
from service.store.sqlite.incidents import INCIDENT_TABLES
from service.store.sqlite.snapshot import fill_company_keys
from service.store.sqlite.webhooks import WEBHOOK_TABLES

__all__ = ["STEPS", "schema_version", "upgrade"]


def create_tables(conn: sqlite3.Connection) -> None:
    for statement in (*schema.TABLES, *IDEMPOTENCY_TABLES, *ACCESS_TABLES, *WEBHOOK_TABLES,
                      *schema.GRAPH_INDEXES):
        conn.execute(statement)


def start_change_log(conn: sqlite3.Connection) -> None:
    """Add `revision` columns where missing and start the log at the current revision."""
    if not _has_column(conn, "store_meta", "log_from"):
        conn.execute("ALTER TABLE store_meta ADD COLUMN log_from INTEGER NOT NULL DEFAULT 0")
        conn.execute("UPDATE store_meta SET log_from = revision")
    for table in schema.MIGRATED_TABLES:
        if not _has_column(conn, table, "revision"):
            conn.execute(f"ALTER TABLE {table} ADD COLUMN revision INTEGER NOT NULL DEFAULT 0")
    for statement in schema.REVISION_INDEXES:
        conn.execute(statement)


def add_company_sites(conn: sqlite3.Connection) -> None:
    if not _has_column(conn, "companies", "sites"):
        conn.execute("ALTER TABLE companies ADD COLUMN sites TEXT NOT NULL DEFAULT '[]'")


def create_incidents(conn: sqlite3.Connection) -> None:
    for statement in INCIDENT_TABLES:
        conn.execute(statement)


def _has_column(conn: sqlite3.Connection, table: str, column: str) -> bool:
    return any(row[1] == column for row in conn.execute(f"PRAGMA table_info({table})"))


STEPS: tuple[Step[sqlite3.Connection], ...] = (
    Step(1, "tables", create_tables),
    Step(2, "change log", start_change_log),
    Step(3, "company keys", fill_company_keys),
    Step(4, "company sites", add_company_sites),
    Step(5, "incidents", create_incidents),
)


def schema_version(conn: sqlite3.Connection) -> int:
    """The last step this database ran; 0 for one that predates the version table."""
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'schema_version'").fetchone():
        return 0
    row = conn.execute(schema.SELECT_SCHEMA_VERSION).fetchone()
    return 0 if row is None else int(row[0])


def upgrade(conn: sqlite3.Connection, *, until: int | None = None) -> list[int]:
    """Run the steps after the database's version (up to `until`) in the caller's write
    transaction, recording each; the numbers of the steps run."""
    conn.execute(schema.SCHEMA_VERSION_TABLE)
    ran = []
    for step in pending(STEPS, schema_version(conn), until=until):
        step.run(conn)
        conn.execute(schema.SET_SCHEMA_VERSION, (step.number,))
        ran.append(step.number)
    return ran
