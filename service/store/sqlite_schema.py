"""How the domain maps onto SQLite tables: the DDL, the SQL statements the store runs, and
the row <-> model codecs. Values only ever travel as `?` parameters.

Timestamps are ISO-8601 UTC text of fixed width (`2026-01-05T09:00:00.000000Z`), so text
order is time order and an index on them sorts chronologically. Identifiers, tags, evidence
and applicability are JSON text. Reads give back aware UTC datetimes.

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
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from graph_models.models import (
    Acknowledgement,
    CascadeEvent,
    Company,
    PolicyRequest,
    SupplyLink,
)

__all__ = [
    "ACK_COLUMNS",
    "ACK_IDENTITY",
    "ACKS_NEWEST_FIRST",
    "CASCADES_IN_SENDING_ORDER",
    "BUMP_REVISION",
    "CLEAR_ALL",
    "FORCE_DELETE_REFERENCES",
    "INSERT_ACK",
    "INSERT_CASCADE",
    "INSERT_REQUEST",
    "LINK_COLUMNS",
    "REFERENCED",
    "SELECT_ACKS",
    "SELECT_CASCADES",
    "SELECT_COMPANIES",
    "SELECT_KINDS",
    "SELECT_LINKS",
    "SELECT_REQUESTS",
    "SELECT_REVISION",
    "UPSERT_COMPANY",
    "UPSERT_LINK",
    "CASCADE_COLUMNS",
    "COMPANY_COLUMNS",
    "REQUEST_COLUMNS",
    "SCHEMA",
    "ack_from_row",
    "ack_row",
    "cascade_from_row",
    "cascade_row",
    "company_from_row",
    "company_row",
    "from_text",
    "request_from_row",
    "request_row",
    "to_text",
    "trusted_links",
]

# Foreign keys keep references honest; the child-side indexes also make the delete checks
# and the "who references this company" queries index lookups instead of scans.
SCHEMA = """
CREATE TABLE IF NOT EXISTS store_meta (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    revision INTEGER NOT NULL
);
INSERT OR IGNORE INTO store_meta (id, revision) VALUES (1, 0);

CREATE TABLE IF NOT EXISTS companies (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    country TEXT,
    kind TEXT NOT NULL,
    identifiers TEXT NOT NULL,
    tags TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS companies_by_kind ON companies (kind, id);
CREATE INDEX IF NOT EXISTS companies_by_country ON companies (country, id);

CREATE TABLE IF NOT EXISTS links (
    buyer_id TEXT NOT NULL REFERENCES companies (id),
    supplier_id TEXT NOT NULL REFERENCES companies (id),
    category TEXT NOT NULL,
    PRIMARY KEY (buyer_id, supplier_id),
    CHECK (buyer_id <> supplier_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS links_by_supplier ON links (supplier_id, buyer_id);

CREATE TABLE IF NOT EXISTS requests (
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
    description TEXT
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS requests_by_issuer ON requests (issuer_id);

CREATE TABLE IF NOT EXISTS cascades (
    request_id TEXT NOT NULL REFERENCES requests (id),
    from_id TEXT NOT NULL REFERENCES companies (id),
    to_id TEXT NOT NULL REFERENCES companies (id),
    sent_at TEXT NOT NULL,
    PRIMARY KEY (request_id, from_id, to_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS cascades_by_from ON cascades (from_id);
CREATE INDEX IF NOT EXISTS cascades_by_to ON cascades (to_id);

CREATE TABLE IF NOT EXISTS acknowledgements (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id TEXT NOT NULL REFERENCES requests (id),
    company_id TEXT NOT NULL REFERENCES companies (id),
    status TEXT NOT NULL,
    at TEXT NOT NULL,
    evidence TEXT,
    recorded_at TEXT NOT NULL,
    posted_by TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS acks_identity
    ON acknowledgements (request_id, company_id, status, at);
CREATE INDEX IF NOT EXISTS acks_by_company ON acknowledgements (company_id, at, seq);
CREATE INDEX IF NOT EXISTS acks_by_time ON acknowledgements (at, seq);
"""

COMPANY_COLUMNS = "id, name, country, kind, identifiers, tags"
REQUEST_COLUMNS = (
    "id, topic, title, version, issuer_id, issued_at, due_days, valid_days, mandatory, "
    "applies_to, supersedes, catalog_id, description"
)
CASCADE_COLUMNS = "request_id, from_id, to_id, sent_at"
ACK_COLUMNS = "seq, request_id, company_id, status, at, evidence, recorded_at, posted_by"
ACK_IDENTITY = "request_id, company_id, status, at"  # what makes two answers the same one
LINK_COLUMNS = "buyer_id, supplier_id, category"

UPSERT_COMPANY = (
    f"INSERT INTO companies ({COMPANY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (id) DO UPDATE SET name = excluded.name, country = excluded.country, "
    "kind = excluded.kind, identifiers = excluded.identifiers, tags = excluded.tags"
)
UPSERT_LINK = (
    f"INSERT INTO links ({LINK_COLUMNS}) VALUES (?, ?, ?) "
    "ON CONFLICT (buyer_id, supplier_id) DO UPDATE SET category = excluded.category"
)
INSERT_REQUEST = f"INSERT INTO requests ({REQUEST_COLUMNS}) VALUES ({', '.join('?' * 13)})"
INSERT_CASCADE = f"INSERT INTO cascades ({CASCADE_COLUMNS}) VALUES (?, ?, ?, ?)"
INSERT_ACK = (
    f"INSERT INTO acknowledgements ({ACK_IDENTITY}, evidence, recorded_at, posted_by) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)
BUMP_REVISION = "UPDATE store_meta SET revision = revision + 1"

SELECT_COMPANIES = f"SELECT {COMPANY_COLUMNS} FROM companies"
SELECT_LINKS = f"SELECT {LINK_COLUMNS} FROM links"
SELECT_REQUESTS = f"SELECT {REQUEST_COLUMNS} FROM requests"
SELECT_CASCADES = f"SELECT {CASCADE_COLUMNS} FROM cascades"
SELECT_ACKS = f"SELECT {ACK_COLUMNS} FROM acknowledgements"
SELECT_KINDS = "SELECT id, kind FROM companies"
# Order of history reads: newest first; a tie on `at` goes to the later recorded.
ACKS_NEWEST_FIRST = "at DESC, seq DESC"
CASCADES_IN_SENDING_ORDER = "sent_at, request_id, from_id, to_id"
SELECT_REVISION = "SELECT revision FROM store_meta"

# A company is "in use" while any of these reference it (the issuer check comes first).
REFERENCED = """
SELECT EXISTS (SELECT 1 FROM links WHERE buyer_id = ?1)
    OR EXISTS (SELECT 1 FROM links WHERE supplier_id = ?1)
    OR EXISTS (SELECT 1 FROM cascades WHERE from_id = ?1)
    OR EXISTS (SELECT 1 FROM cascades WHERE to_id = ?1)
    OR EXISTS (SELECT 1 FROM acknowledgements WHERE company_id = ?1)
"""
# Children before the parent, so the foreign keys hold at every step.
FORCE_DELETE_REFERENCES = (
    "DELETE FROM acknowledgements WHERE company_id = ?1",
    "DELETE FROM cascades WHERE from_id = ?1 OR to_id = ?1",
    "DELETE FROM links WHERE buyer_id = ?1 OR supplier_id = ?1",
)
CLEAR_ALL = (
    "DELETE FROM acknowledgements",
    "DELETE FROM cascades",
    "DELETE FROM requests",
    "DELETE FROM links",
    "DELETE FROM companies",
    "DELETE FROM sqlite_sequence WHERE name = 'acknowledgements'",
    "UPDATE store_meta SET revision = 0",
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
    )


def company_from_row(row: tuple[Any, ...]) -> Company:
    cid, name, country, kind, identifiers, tags = row
    return Company(
        id=cid,
        name=name,
        country=country,
        kind=kind,
        identifiers=json.loads(identifiers),
        tags=json.loads(tags),
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


_LINK_FIELDS = frozenset(SupplyLink.model_fields)


def trusted_links(rows: Iterable[tuple[str, str, str]]) -> list[SupplyLink]:
    """Links from stored (buyer, supplier, category) rows, without validating them again.

    Every stored row was validated on its way in. Skipping validation halves the time
    `load_network` spends on 300k links; each object gets exactly the attributes pydantic's
    `model_construct` would set, without its per-field Python loop.
    """
    new, put = object.__new__, object.__setattr__
    links: list[SupplyLink] = []
    for buyer_id, supplier_id, category in rows:
        link = new(SupplyLink)
        put(
            link,
            "__dict__",
            {"buyer_id": buyer_id, "supplier_id": supplier_id, "category": category},
        )
        put(link, "__pydantic_fields_set__", _LINK_FIELDS)
        put(link, "__pydantic_extra__", None)
        put(link, "__pydantic_private__", None)
        links.append(link)
    return links
