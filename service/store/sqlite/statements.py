"""The SQL the SQLite store runs, per concern: graph writes and reads, the ledger, the
columnar reads of the coverage engine and the change log. Values only ever travel as `?`
parameters; the codecs between rows and models are in `codecs`."""

from __future__ import annotations

from service.store.sqlite.codecs import REQUEST_FIELDS, epoch_us_sql

__all__ = [
    "ACKS_AFTER",
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
    "COMPANY_COLUMNS",
    "COMPANY_TOMBSTONE",
    "FORCE_DELETE",
    "INSERT_ACK",
    "INSERT_REQUEST",
    "LAST_ACK_SEQ",
    "LINK_COLUMNS",
    "LINK_TOMBSTONE",
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
    "UPSERT_CASCADE",
    "UPSERT_COMPANY",
    "UPSERT_LINK",
]

COMPANY_COLUMNS = "id, name, country, kind, identifiers, tags, sites"
REQUEST_COLUMNS = ", ".join(REQUEST_FIELDS)
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
# An update is an earlier forward of a held link (the store planned it: `earliest_sent`).
UPSERT_CASCADE = (
    f"INSERT INTO cascades ({CASCADE_COLUMNS}, revision, from_key, to_key) "
    f"VALUES (?1, ?2, ?3, ?4, ?5, {_KEY_OF(2)}, {_KEY_OF(3)}) "
    "ON CONFLICT (request_id, from_id, to_id) DO UPDATE SET sent_at = excluded.sent_at, "
    "revision = excluded.revision"
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
ACKS_AFTER = "(at < ? OR (at = ? AND seq < ?))"  # after (at, seq) in that order: a next page
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
