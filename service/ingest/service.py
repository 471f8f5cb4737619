"""File imports (`POST /v1/imports`, `cascade load`): read a file, check it whole, write it.

Kinds: `companies`, `links`, `cascades`, `acknowledgements` (CSV or JSON, told by the file
name), `network` (one JSON document with those sections and `requests`), `cmrt` (an RMI
CMRT / EMRT workbook answering a conflict-minerals request). See `loaders.tabular`,
`loaders.cmrt_import` and `loaders.importer` for the columns and the rules.

An answer's evidence is bounded like a posted one (`max_evidence_bytes`), except the
declaration a CMRT / EMRT import builds itself, whole smelter list included: it has its
own bound (`max_declaration_bytes`), sized for the template's 10,000 smelter rows.
"""

from __future__ import annotations

from typing import Any, Literal

from loaders.cmrt import read_cmrt
from loaders.cmrt_import import cmrt_rows
from loaders.importer import ImportReport, Progress, RowProblem, import_rows
from loaders.tabular import KINDS, FileError, SourceRow, format_of, read_network, read_tabular
from service.http.errors import InvalidField, ServiceError, problem_response
from service.ingest.schemas import ImportCounts, ImportProblem, ImportRead
from service.ledger.schemas import DEFAULT_MAX_DECLARATION_BYTES, DEFAULT_MAX_EVIDENCE_BYTES
from service.store.port import CascadeStore, TransactionTooLarge

__all__ = ["IMPORT_KINDS", "ImportKind", "LoadTooLarge", "import_file", "import_read",
           "refused_response", "too_large"]

ImportKind = Literal["companies", "links", "cascades", "acknowledgements", "network", "cmrt"]
IMPORT_KINDS: tuple[str, ...] = (*KINDS, "network", "cmrt")
MAX_LISTED = 1000  # refused rows listed in one answer


class LoadTooLarge(ServiceError):
    status, slug, title = 413, "load-too-large", "Too large to load in one transaction"


def import_file(
    *,
    store: CascadeStore,
    kind: str,
    filename: str,
    data: bytes,
    skip_invalid: bool = False,
    request_id: str | None = None,
    company_id: str | None = None,
    posted_by: str | None = None,
    progress: Progress | None = None,
    max_evidence_bytes: int = DEFAULT_MAX_EVIDENCE_BYTES,
    max_declaration_bytes: int = DEFAULT_MAX_DECLARATION_BYTES,
    whole: bool = False,
) -> ImportReport:
    """Load one file; `InvalidField` (422) when it cannot be read or loaded as asked.
    Refused rows do not raise: the report lists them (and `loaded` is False unless
    `skip_invalid`). `whole`: see `loaders.importer.import_rows`."""
    try:
        rows, problems, notes = _rows(store, kind, filename, data, request_id, company_id)
    except FileError as exc:
        raise InvalidField(exc.message, field=exc.field or "file") from None
    evidence_bound = max_declaration_bytes if kind == "cmrt" else max_evidence_bytes
    try:
        return import_rows(store, kind, rows, skip_invalid=skip_invalid, posted_by=posted_by,
                           progress=progress, notes=notes, problems=problems,
                           max_evidence_bytes=evidence_bound, whole=whole)
    except TransactionTooLarge as exc:
        raise too_large(len(rows), exc) from None


def too_large(rows: int, exc: TransactionTooLarge) -> LoadTooLarge:
    """A load is one transaction (all or nothing); the database refused one this large."""
    return LoadTooLarge(f"{rows:,} rows are more than one store transaction holds here, so "
                        "nothing was loaded: split the file, or give Neo4j more transaction "
                        f"memory (db.memory.transaction.max). {exc}", field="file")


def _rows(
    store: CascadeStore, kind: str, filename: str, data: bytes, request_id: str | None,
    company_id: str | None,
) -> tuple[list[SourceRow], list[RowProblem], list[str]]:
    if kind == "cmrt":
        if not request_id:
            raise FileError("a CMRT / EMRT import answers a request: give its id",
                            field="request_id")
        return cmrt_rows(store, read_cmrt(data), request_id=request_id,
                         company_id=company_id, document=filename)
    if kind == "network":
        if format_of(filename) != "json":
            raise FileError("a network document is a .json file")
        return read_network(data), [], []
    if kind not in KINDS:
        raise FileError(f"unknown kind {kind!r} (one of {', '.join(IMPORT_KINDS)})",
                        field="kind")
    return read_tabular(kind, data, format_of(filename)), [], []


def _problem(problem: RowProblem) -> ImportProblem:
    return ImportProblem(section=problem.section, row=problem.row, field=problem.field,
                         message=problem.message)


def import_read(report: ImportReport) -> ImportRead:
    """The HTTP answer of a load that went through."""
    return ImportRead(
        kind=report.kind, loaded=report.loaded, rows=report.rows,
        sections={name: ImportCounts(**counts) for name, counts in report.sections.items()},
        skipped=[_problem(p) for p in report.problems[:MAX_LISTED]],
        notes=report.notes,
    )


def refused_response(report: ImportReport) -> Any:
    """422 problem+json listing the refused rows of a file that loaded nothing; each
    error names `section[row].field` and carries `section` and `row`."""
    listed = report.problems[:MAX_LISTED]
    errors = [{"field": f"{p.section}[{p.row}]" + (f".{p.field}" if p.field else ""),
               "message": p.message, "section": p.section, "row": p.row} for p in listed]
    more = len(report.problems) - len(listed)
    detail = (f"{len(report.problems)} rows refused; nothing was loaded"
              + (f" (the first {len(listed)} listed)" if more else ""))
    return problem_response(422, "invalid-file", "Invalid file", detail, errors)
