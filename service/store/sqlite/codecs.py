"""Rows <-> models for the SQLite store, and its time format.

Timestamps are ISO-8601 UTC text of fixed width (`2026-01-05T09:00:00.000000Z`), so text
order is time order and an index on them sorts chronologically. Identifiers, tags, evidence
and applicability are JSON text. Model reads give back aware UTC datetimes; the columnar
reads of the coverage engine convert in SQL to epoch microseconds (`epoch_us_sql`).

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
    "REQUEST_FIELDS",
    "split_joined",
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

REQUEST_FIELDS = (
    "id", "topic", "title", "version", "issuer_id", "issued_at", "due_days", "valid_days",
    "mandatory", "applies_to", "supersedes", "catalog_id", "description",
)
"""The request columns in table order (`statements.REQUEST_COLUMNS`)."""


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
    fields = dict(zip(REQUEST_FIELDS, row, strict=True))
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


def split_joined(texts: list[str], count: int) -> list[list[str]] | None:
    """Texts that `group_concat(column, '/')` built (a whole column in one step, with the
    GIL released), split back into `count` values each; None when one does not split so
    (a value holding "/", written by hand: read those rows one by one instead).

    >>> split_joined(["a/b", "JP/"], 2), split_joined(["a/b/c", "JP/"], 2)
    ([['a', 'b'], ['JP', '']], None)
    """
    columns = [text.split("/") if count else [] for text in texts]
    return columns if all(len(column) == count for column in columns) else None
