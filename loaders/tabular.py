"""Read supplier data files (CSV and JSON) into numbered rows to check and load.

A file holds one kind of record (`companies`, `links`, `cascades`, `acknowledgements`), or,
as a JSON `network` document, several sections at once (those four and `requests`). Rows
keep their number so every problem can name it: in a CSV the line of the row (the header
is row 1, the first record row 2, as a spreadsheet shows it); in JSON the position in its
list, from 1.

Columns (CSV header, or JSON keys):

- companies: ``id``, ``name`` (required), ``country`` (ISO alpha-2), ``kind``, ``tags``
  (``;``-separated in CSV), ``identifiers`` (``scheme=value;scheme=value`` in CSV),
  ``contact_name``, ``contact_email``, ``contact_phone`` (kept among the identifiers),
  ``sites`` (a list of ``{"id", "name", "country", "region", "lat", "lon"}``; in CSV a JSON
  array in the cell), or for one site the CSV columns ``site_id``, ``site_name``,
  ``site_country`` (default: the company's country), ``site_region``, ``site_lat``,
  ``site_lon`` (see docs/loaders.md);
- links: ``buyer_id``, ``supplier_id`` (required), ``category``;
- cascades: ``request_id``, ``from_id``, ``to_id`` (required), ``sent_at``;
- acknowledgements: ``request_id``, ``company_id``, ``status`` (required), ``at``,
  ``document``, ``note`` (kept as evidence), ``evidence`` (a JSON object); in JSON the
  fields the store assigns (``seq``, ``recorded_at``, ``posted_by``) are ignored, so what
  ``GET /v1/acknowledgements`` or ``cascade generate --out`` gives loads back.

Timestamps carry an offset (``2026-03-01T09:00:00Z``). Empty CSV cells count as absent;
other cells are trimmed, but not ids (``id``, ``*_id``): an id with a space at either end
is refused, naming its row and column, as everywhere else.

Examples
--------
>>> rows = read_tabular("links", b"buyer_id,supplier_id\\nfocal,acme\\n", "csv")
>>> rows[0].row, rows[0].fields
(2, {'buyer_id': 'focal', 'supplier_id': 'acme'})
>>> read_tabular("companies", b'[{"id": "acme", "name": "Acme", "tags": "a; b"}]', "json")[0].fields
{'id': 'acme', 'name': 'Acme', 'tags': ['a', 'b']}
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any, Literal

__all__ = [
    "COLUMNS",
    "CONTACT_FIELDS",
    "KINDS",
    "SECTIONS",
    "FileError",
    "SourceRow",
    "format_of",
    "read_network",
    "read_tabular",
]

KINDS = ("companies", "links", "cascades", "acknowledgements")
SECTIONS = ("companies", "links", "requests", "cascades", "acknowledgements")  # write order
CONTACT_FIELDS = ("contact_name", "contact_email", "contact_phone")
SITE_COLUMNS = ("site_id", "site_name", "site_country", "site_region", "site_lat", "site_lon")
COLUMNS: dict[str, tuple[str, ...]] = {
    "companies": ("id", "name", "country", "kind", "tags", "identifiers", *CONTACT_FIELDS,
                  "sites", *SITE_COLUMNS),
    "links": ("buyer_id", "supplier_id", "category"),
    "cascades": ("request_id", "from_id", "to_id", "sent_at"),
    "acknowledgements": ("request_id", "company_id", "status", "at", "document", "note",
                         "evidence"),
}
REQUIRED: dict[str, tuple[str, ...]] = {
    "companies": ("id", "name"),
    "links": ("buyer_id", "supplier_id"),
    "cascades": ("request_id", "from_id", "to_id"),
    "acknowledgements": ("request_id", "company_id", "status"),
}
STORE_ASSIGNED = ("seq", "recorded_at", "posted_by")  # of an acknowledgement, ignored
Format = Literal["csv", "json"]


class FileError(ValueError):
    """The file as a whole cannot be read or loaded as asked (not a problem of one row);
    `field` names the offending argument when it is one (e.g. `request_id`)."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message, self.field = message, field


@dataclass(frozen=True)
class SourceRow:
    """One record of a file: its section, its row number, its fields as read, and the
    problem found while reading it (None when it reads well)."""

    section: str
    row: int
    fields: dict[str, Any]
    problem: tuple[str | None, str] | None = None  # (field, message)


def format_of(filename: str) -> Format:
    """The format a file name announces.

    >>> format_of("suppliers.CSV"), format_of("net.json")
    ('csv', 'json')
    """
    suffix = PurePath(filename).suffix.lower()
    if suffix in (".csv", ".json"):
        return "csv" if suffix == ".csv" else "json"
    raise FileError(f"cannot tell the format of {filename!r}: use a .csv or .json file")


def read_tabular(kind: str, data: bytes, fmt: Format) -> list[SourceRow]:
    """The rows of a file holding one kind of record."""
    if kind not in KINDS:
        raise FileError(f"unknown kind {kind!r} (one of {', '.join(KINDS)})")
    if fmt == "csv":
        return _read_csv(kind, _text(data))
    document = _json(data)
    if isinstance(document, dict):
        items = document.get(kind, document.get("items"))
        if items is None:
            raise FileError(f"a JSON object must hold a {kind!r} (or 'items') list")
        document = items
    return _json_rows(kind, document)


def read_network(data: bytes) -> list[SourceRow]:
    """The rows of a JSON network document: an object with any of the sections
    `companies`, `links`, `requests`, `cascades`, `acknowledgements`."""
    document = _json(data)
    if not isinstance(document, dict):
        raise FileError("a network document is a JSON object of sections")
    unknown = sorted(set(document) - set(SECTIONS))
    if unknown:
        raise FileError(f"unknown section {unknown[0]!r} (sections: {', '.join(SECTIONS)})")
    return [row for section in SECTIONS if section in document
            for row in _json_rows(section, document[section])]


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileError(f"the file is not UTF-8 text (byte {exc.start})") from None


def _json(data: bytes) -> Any:
    try:
        return json.loads(_text(data))
    except json.JSONDecodeError as exc:
        raise FileError(f"not valid JSON: {exc.msg} at line {exc.lineno}") from None
    except RecursionError:  # the decoder's stack, not ours: a file nested thousands deep
        raise FileError("JSON nested too deeply (a data file is a few levels deep)") from None


def _read_csv(kind: str, text: str) -> list[SourceRow]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    _check_header(kind, reader.fieldnames)
    rows = []
    try:
        for record in reader:
            rows.append(_row(kind, reader.line_num, _cells(record)))
    except csv.Error as exc:
        raise FileError(f"line {reader.line_num}: {exc}") from None
    return rows


def _check_header(kind: str, header: Iterable[str] | None) -> None:
    columns = [c.strip() for c in header or []]
    if not columns:
        raise FileError("the file is empty: the first line must name the columns")
    unknown = [c for c in columns if c not in COLUMNS[kind]]
    if unknown:
        raise FileError(f"unknown column {unknown[0]!r} for {kind} "
                        f"(columns: {', '.join(COLUMNS[kind])})")
    missing = [c for c in REQUIRED[kind] if c not in columns]
    if missing:
        raise FileError(f"missing column {missing[0]!r} for {kind}")


def _cells(record: dict[str | None, Any]) -> dict[str | None, Any]:
    """Named, non-empty cells, stripped, but for ids: an id with a space at either end is
    refused by the model naming its row and column, as in a JSON file or a request body
    (trimming here alone would make `" acme"` one company in a CSV and refused elsewhere).
    Cells beyond the header make a problem later."""
    cells: dict[str | None, Any] = {}
    for name, value in record.items():
        if name is None:  # more cells than columns
            cells[None] = value
        elif value is not None and value.strip():
            column = name.strip()
            cells[column] = value if _is_id(column) else value.strip()
    return cells


def _is_id(column: str) -> bool:
    return column == "id" or column.endswith("_id")


def _json_rows(section: str, items: Any) -> list[SourceRow]:
    if not isinstance(items, list):
        raise FileError(f"{section} must be a JSON list of objects")
    rows = []
    for number, item in enumerate(items, start=1):
        if isinstance(item, dict):
            rows.append(_row(section, number, dict(item)))
        else:
            rows.append(SourceRow(section, number, {}, (None, "expected a JSON object")))
    return rows


def _row(section: str, number: int, fields: dict[Any, Any]) -> SourceRow:
    """A row with its fields shaped for the models (a problem instead if they cannot be)."""
    if None in fields:
        return SourceRow(section, number, {}, (None, "more cells than the header has columns"))
    try:
        shaped = _SHAPERS.get(section, lambda f: f)(fields)
    except _CellError as exc:
        return SourceRow(section, number, fields, (exc.field, exc.message))
    return SourceRow(section, number, shaped)


class _CellError(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


def _company_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """Tags and identifiers from their CSV spelling; contact columns into identifiers."""
    shaped = dict(fields)
    if isinstance(shaped.get("tags"), str):
        shaped["tags"] = [t.strip() for t in shaped["tags"].split(";") if t.strip()]
    if isinstance(shaped.get("identifiers"), str):
        shaped["identifiers"] = _pairs(shaped["identifiers"])
    contacts = {k: shaped.pop(k) for k in CONTACT_FIELDS if k in shaped}
    if contacts:
        identifiers = shaped.get("identifiers", {})
        if not isinstance(identifiers, dict):
            raise _CellError("identifiers", "identifiers must be an object")
        shaped["identifiers"] = {**identifiers, **{k: str(v) for k, v in contacts.items()}}
    _sites(shaped)
    return shaped


def _sites(shaped: dict[str, Any]) -> None:
    """`sites` from its CSV spelling (a JSON array), or one site from the `site_*` columns."""
    if isinstance(shaped.get("sites"), str):
        try:
            shaped["sites"] = json.loads(shaped["sites"])
        except ValueError:
            raise _CellError("sites", "sites must be a JSON array of sites") from None
    one = {column[5:]: shaped.pop(column) for column in SITE_COLUMNS if column in shaped}
    if one:
        if "sites" in shaped:
            raise _CellError("sites", "give sites or the site_* columns, not both")
        for axis in ("lat", "lon"):  # a CSV cell is text; a site's coordinate is a number
            if isinstance(one.get(axis), str):
                try:
                    one[axis] = float(one[axis])
                except ValueError:
                    raise _CellError(f"site_{axis}", f"{one[axis]!r} is not a number") from None
        one.setdefault("country", shaped.get("country"))
        one.setdefault("name", one.get("id"))
        shaped["sites"] = [one]


def _pairs(text: str) -> dict[str, str]:
    """`duns=123;lei=ABC` as a dict."""
    pairs = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        scheme, sep, value = part.partition("=")
        if not sep or not scheme.strip() or not value.strip():
            raise _CellError("identifiers", f"{part!r} is not scheme=value")
        pairs[scheme.strip()] = value.strip()
    return pairs


def _acknowledgement_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """`document` and `note` columns, and an `evidence` JSON cell, as one evidence object;
    what the store assigns when it records an answer (as `GET` shows it) is dropped."""
    shaped = {k: v for k, v in fields.items() if k not in STORE_ASSIGNED}
    evidence = shaped.pop("evidence", None)
    if isinstance(evidence, str):
        try:
            evidence = json.loads(evidence)
        except json.JSONDecodeError:
            raise _CellError("evidence", "evidence must be a JSON object") from None
    if evidence is not None and not isinstance(evidence, dict):
        raise _CellError("evidence", "evidence must be a JSON object")
    extra = {k: shaped.pop(k) for k in ("document", "note") if k in shaped}
    if evidence is not None or extra:
        shaped["evidence"] = {**(evidence or {}), **extra}
    return shaped


_SHAPERS = {"companies": _company_fields, "acknowledgements": _acknowledgement_fields}
