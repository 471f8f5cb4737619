"""How the domain maps onto SQLite tables: the DDL, the SQL statements the store runs, and
the row <-> model codecs. Values only ever travel as `?` parameters.

Timestamps are ISO-8601 UTC text of fixed width (`2026-01-05T09:00:00.000000Z`), so text
order is time order and an index on them sorts chronologically. Identifiers, tags, evidence
and applicability are JSON text. Model reads give back aware UTC datetimes; the columnar
reads of the coverage engine convert in SQL to epoch microseconds (`epoch_us_sql`).

Change log: every table of records has an indexed `revision` column, the revision of the
write that last changed the row, and deletions leave a row in `tombstones` (one per deleted
key, stamped with the latest deletion). `store_meta.log_from` is the revision the log starts
at: 0 for a database created with it, the revision at upgrade for an older one.

Examples
--------
>>> from datetime import UTC, datetime
>>> to_text(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
'2026-01-05T09:00:00.000000Z'
>>> from_text('2026-01-05T09:00:00.000000Z')
datetime.datetime(2026, 1, 5, 9, 0, tzinfo=datetime.timezone.utc)
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from typing import Any

from graph_models.models import (
    Acknowledgement,
    CascadeEvent,
    Company,
    PolicyRequest,
)

__all__ = [
    "ACKS_NEWEST_FIRST",
    "ACK_COLUMNS",
    "ACK_IDENTITY",
    "ADD_COMPANY_KEY",
    "BUMP_REVISION",
    "CASCADES_IN_SENDING_ORDER",
    "CASCADE_COLUMNS",
    "CHANGED_ACKS",
    "CHANGED_CASCADES",
    "CHANGED_COMPANIES",
    "CHANGED_LINKS",
    "CHANGED_REQUESTS",
    "CHANGED_TOMBSTONES",
    "CHANGE_LOG",
    "CLEAR_ALL",
    "COMPANY_COLUMNS",
    "COMPANY_TOMBSTONE",
    "FORCE_DELETE",
    "INDEXES",
    "INSERT_ACK",
    "INSERT_CASCADE",
    "INSERT_REQUEST",
    "LAST_ACK_SEQ",
    "LINK_COLUMNS",
    "LINK_TOMBSTONE",
    "MIGRATED_TABLES",
    "NETWORK_KINDS",
    "NETWORK_LINKS",
    "REFERENCED",
    "REQUEST_ACK_ROWS",
    "REQUEST_CASCADE_ROWS",
    "REQUEST_COLUMNS",
    "SELECT_ACKS",
    "SELECT_CASCADES",
    "SELECT_COMPANIES",
    "SELECT_LINKS",
    "SELECT_LOG",
    "SELECT_REQUESTS",
    "SELECT_REVISION",
    "TABLES",
    "UPSERT_COMPANY",
    "UPSERT_LINK",
    "ack_from_row",
    "ack_row",
    "cascade_from_row",
    "cascade_row",
    "company_from_row",
    "company_row",
    "epoch_us_sql",
    "from_text",
    "request_from_row",
    "request_row",
    "to_text",
]


def epoch_us_sql(column: str) -> str:
    """SQL for the fixed-width UTC text in `column` as integer epoch microseconds.

    Whole seconds from the first 19 characters (the date functions would round the
    fraction), plus the 6 fraction digits: exact for every year 0001-9999. `unixepoch`
    (SQLite 3.38+) is a third faster than `strftime('%s')`, the portable fallback.
    """
    if sqlite3.sqlite_version_info >= (3, 38):
        seconds = f"unixepoch(substr({column}, 1, 19))"
    else:
        seconds = f"CAST(strftime('%s', substr({column}, 1, 19)) AS INTEGER)"
    return f"({seconds} * 1000000 + CAST(substr({column}, 21, 6) AS INTEGER))"


# Foreign keys keep references honest; the child-side indexes also make the delete checks
# and the "who references this company" queries index lookups instead of scans. Every
# record table carries `revision` (see the module docstring); its index comes in INDEXES,
# after `init_schema` has added the column to tables of an older database.
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

INDEXES = (
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
    *(
        f"CREATE INDEX IF NOT EXISTS {table}_by_revision ON {table} (revision)"
        for table in (*MIGRATED_TABLES, "tombstones")
    ),
)

COMPANY_COLUMNS = "id, name, country, kind, identifiers, tags, sites"
REQUEST_COLUMNS = (
    "id, topic, title, version, issuer_id, issued_at, due_days, valid_days, mandatory, "
    "applies_to, supersedes, catalog_id, description"
)
CASCADE_COLUMNS = "request_id, from_id, to_id, sent_at"
ACK_COLUMNS = "seq, request_id, company_id, status, at, evidence, recorded_at, posted_by"
ACK_IDENTITY = "request_id, company_id, status, at"  # what makes two answers the same one
LINK_COLUMNS = "buyer_id, supplier_id, category"

# Writes take the row's columns followed by the revision the write commits as.
_KEY_OF = "(SELECT key FROM company_keys WHERE id = ?{})".format
ADD_COMPANY_KEY = "INSERT OR IGNORE INTO company_keys (id) VALUES (?)"  # before the upsert
UPSERT_COMPANY = (
    f"INSERT INTO companies ({COMPANY_COLUMNS}, revision, key) "
    f"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, {_KEY_OF(1)}) "
    "ON CONFLICT (id) DO UPDATE SET name = excluded.name, country = excluded.country, "
    "kind = excluded.kind, identifiers = excluded.identifiers, tags = excluded.tags, "
    "sites = excluded.sites, revision = excluded.revision"
)
UPSERT_LINK = (
    f"INSERT INTO links ({LINK_COLUMNS}, revision, buyer_key, supplier_key) "
    f"VALUES (?1, ?2, ?3, ?4, {_KEY_OF(1)}, {_KEY_OF(2)}) "
    "ON CONFLICT (buyer_id, supplier_id) DO UPDATE SET category = excluded.category, "
    "revision = excluded.revision"
)
INSERT_REQUEST = (
    f"INSERT INTO requests ({REQUEST_COLUMNS}, revision) VALUES ({', '.join('?' * 14)})"
)
INSERT_CASCADE = (
    f"INSERT INTO cascades ({CASCADE_COLUMNS}, revision, from_key, to_key) "
    f"VALUES (?1, ?2, ?3, ?4, ?5, {_KEY_OF(2)}, {_KEY_OF(3)})"
)
# seq is given: the store hands it out under the write lock, in batch order.
INSERT_ACK = (
    f"INSERT INTO acknowledgements ({ACK_IDENTITY}, evidence, recorded_at, posted_by, "
    f"seq, revision, company_key) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, {_KEY_OF(2)})"
)
# The last seq handed out (AUTOINCREMENT never reuses one, even after a delete).
LAST_ACK_SEQ = """
SELECT max(
    coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'acknowledgements'), 0),
    coalesce((SELECT max(seq) FROM acknowledgements), 0)
)"""
BUMP_REVISION = "UPDATE store_meta SET revision = revision + 1"

SELECT_COMPANIES = f"SELECT {COMPANY_COLUMNS} FROM companies"
SELECT_LINKS = f"SELECT {LINK_COLUMNS} FROM links"
SELECT_REQUESTS = f"SELECT {REQUEST_COLUMNS} FROM requests"
SELECT_CASCADES = f"SELECT {CASCADE_COLUMNS} FROM cascades"
SELECT_ACKS = f"SELECT {ACK_COLUMNS} FROM acknowledgements"
# Order of history reads: newest first; a tie on `at` goes to the later recorded.
ACKS_NEWEST_FIRST = "at DESC, seq DESC"
CASCADES_IN_SENDING_ORDER = "sent_at, request_id, from_id, to_id"
SELECT_REVISION = "SELECT revision FROM store_meta"
SELECT_LOG = "SELECT revision, log_from FROM store_meta"

# -- columnar reads for the coverage engine ---------------------------------------------
NETWORK_KINDS = "SELECT id, kind FROM companies"
NETWORK_LINKS = f"{SELECT_LINKS} ORDER BY buyer_id, supplier_id"  # primary key order
REQUEST_CASCADE_ROWS = (
    f"SELECT from_id, to_id, {epoch_us_sql('sent_at')} FROM cascades "
    "WHERE request_id = ? ORDER BY sent_at, from_id, to_id"
)
# acks_identity holds every column read here (and seq, the rowid): an index-only read.
REQUEST_ACK_ROWS = (
    f"SELECT company_id, status, {epoch_us_sql('at')}, seq FROM acknowledgements "
    "WHERE request_id = ? ORDER BY seq"
)

# -- the change log: rows stamped after revision :since, at most :limit of each ---------
# INDEXED BY: without statistics the planner guesses `revision > ?` keeps a quarter of the
# rows and scans acknowledgements whole (by seq) instead; a poll must cost what changed.
CHANGED_COMPANIES = (
    "SELECT id, kind, revision FROM companies INDEXED BY companies_by_revision "
    "WHERE revision > :since LIMIT :limit"
)
CHANGED_LINKS = (
    "SELECT buyer_id, supplier_id, category, revision FROM links INDEXED BY links_by_revision "
    "WHERE revision > :since LIMIT :limit"
)
CHANGED_REQUESTS = (
    "SELECT id FROM requests INDEXED BY requests_by_revision WHERE revision > :since LIMIT :limit"
)
CHANGED_CASCADES = f"""
SELECT request_id, from_id, to_id, {epoch_us_sql("sent_at")} FROM (
    SELECT * FROM cascades INDEXED BY cascades_by_revision
    WHERE revision > :since LIMIT :limit
) ORDER BY sent_at, from_id, to_id"""
CHANGED_ACKS = f"""
SELECT request_id, company_id, status, {epoch_us_sql("at")}, seq FROM (
    SELECT * FROM acknowledgements INDEXED BY acknowledgements_by_revision
    WHERE revision > :since LIMIT :limit
) ORDER BY seq"""
CHANGED_TOMBSTONES = (
    "SELECT entity, id, id2, revision FROM tombstones INDEXED BY tombstones_by_revision "
    "WHERE revision > :since LIMIT :limit"
)
CHANGE_LOG = (
    CHANGED_COMPANIES,
    CHANGED_LINKS,
    CHANGED_REQUESTS,
    CHANGED_CASCADES,
    CHANGED_ACKS,
    CHANGED_TOMBSTONES,
)
"""The change-log queries in the order `port.assemble_changes` takes their rows."""

# A company is "in use" while any of these reference it (the issuer check comes first).
REFERENCED = """
SELECT EXISTS (SELECT 1 FROM links WHERE buyer_id = ?1)
    OR EXISTS (SELECT 1 FROM links WHERE supplier_id = ?1)
    OR EXISTS (SELECT 1 FROM cascades WHERE from_id = ?1)
    OR EXISTS (SELECT 1 FROM cascades WHERE to_id = ?1)
    OR EXISTS (SELECT 1 FROM acknowledgements WHERE company_id = ?1)
"""
_TOMBSTONE = (
    "INSERT INTO tombstones (entity, id, id2, revision) {rows} "
    "ON CONFLICT (entity, id, id2) DO UPDATE SET revision = excluded.revision"
)
LINK_TOMBSTONE = _TOMBSTONE.format(rows="VALUES ('link', ?, ?, ?)")
# Force delete of :company at :revision: tombstones first (they read what goes), then the
# children before the parent, so the foreign keys hold at every step.
FORCE_DELETE = (
    _TOMBSTONE.format(
        rows="SELECT 'events', request_id, '', :revision FROM acknowledgements "
        "WHERE company_id = :company UNION SELECT 'events', request_id, '', :revision "
        "FROM cascades WHERE from_id = :company OR to_id = :company"
    ),
    _TOMBSTONE.format(
        rows="SELECT 'link', buyer_id, supplier_id, :revision FROM links "
        "WHERE buyer_id = :company OR supplier_id = :company"
    ),
    "DELETE FROM acknowledgements WHERE company_id = :company",
    "DELETE FROM cascades WHERE from_id = :company OR to_id = :company",
    "DELETE FROM links WHERE buyer_id = :company OR supplier_id = :company",
)
COMPANY_TOMBSTONE = _TOMBSTONE.format(rows="VALUES ('company', :company, '', :revision)")
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


def to_text(value: datetime) -> str:
    """Fixed-width UTC text; isoformat pads the year, so the text sorts like the instant."""
    naive = value.astimezone(UTC).replace(tzinfo=None)
    return naive.isoformat(timespec="microseconds") + "Z"


def from_text(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def _json(value: Any) -> str:
    # Sorted keys: two equal dicts encode to equal text, so "unchanged" is a text compare.
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def company_row(company: Company) -> tuple[Any, ...]:
    return (
        company.id,
        company.name,
        company.country,
        str(company.kind),
        _json(company.identifiers),
        _json(company.tags),
        _json([site.model_dump(mode="json", exclude_none=True) for site in company.sites]),
    )


def company_from_row(row: tuple[Any, ...]) -> Company:
    cid, name, country, kind, identifiers, tags, sites = row
    return Company(
        id=cid,
        name=name,
        country=country,
        kind=kind,
        identifiers=json.loads(identifiers),
        tags=json.loads(tags),
        sites=json.loads(sites),
    )


def request_row(request: PolicyRequest) -> tuple[Any, ...]:
    return (
        request.id,
        request.topic,
        request.title,
        request.version,
        request.issuer_id,
        to_text(request.issued_at),
        request.due_days,
        request.valid_days,
        int(request.mandatory),
        _json(request.applies_to.model_dump(mode="json")),
        request.supersedes,
        request.catalog_id,
        request.description,
    )


def request_from_row(row: tuple[Any, ...]) -> PolicyRequest:
    names = [name.strip() for name in REQUEST_COLUMNS.split(",")]
    fields = dict(zip(names, row, strict=True))
    fields["issued_at"] = from_text(fields["issued_at"])
    fields["mandatory"] = bool(fields["mandatory"])
    fields["applies_to"] = json.loads(fields["applies_to"])
    return PolicyRequest.model_validate(fields)


def cascade_row(event: CascadeEvent) -> tuple[Any, ...]:
    return (event.request_id, event.from_id, event.to_id, to_text(event.sent_at))


def cascade_from_row(row: tuple[Any, ...]) -> CascadeEvent:
    request_id, from_id, to_id, sent_at = row
    return CascadeEvent(
        request_id=request_id, from_id=from_id, to_id=to_id, sent_at=from_text(sent_at)
    )


def ack_row(ack: Acknowledgement, recorded_at: datetime) -> tuple[Any, ...]:
    """The insert row (without `seq`, which the table assigns in recording order)."""
    evidence = None if ack.evidence is None else _json(ack.evidence)
    return (
        ack.request_id,
        ack.company_id,
        str(ack.status),
        to_text(ack.at),
        evidence,
        to_text(recorded_at),
        ack.posted_by,
    )


def ack_from_row(row: tuple[Any, ...]) -> Acknowledgement:
    seq, request_id, company_id, status, at, evidence, recorded_at, posted_by = row
    return Acknowledgement(
        seq=seq,
        request_id=request_id,
        company_id=company_id,
        status=status,
        at=from_text(at),
        evidence=None if evidence is None else json.loads(evidence),
        recorded_at=from_text(recorded_at),
        posted_by=posted_by,
    )
