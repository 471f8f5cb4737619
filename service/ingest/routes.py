"""/v1/imports: load a file (CSV, JSON, or a CMRT / EMRT workbook) sent as a multipart upload."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, UploadFile

from loaders.importer import ImportReport
from service.composition.deps import StoreDep
from service.http.openapi import PROBLEM
from service.ingest import service as imports
from service.ingest.schemas import ImportRead
from service.ingest.service import ImportKind
from service.integrations.idempotency import IdempotencyDep

router = APIRouter(tags=["imports"])

ERRORS_IMPORT: dict[int | str, dict[str, Any]] = {
    409: {"description": "The Idempotency-Key in flight", **PROBLEM},
    413: {"description": "File too large", **PROBLEM},
    422: {"description": "An unreadable file, a bad reference, or refused rows (each named "
                         "by section and row); nothing was loaded", **PROBLEM},
}


@router.post("/v1/imports", response_model=ImportRead, responses=ERRORS_IMPORT)
def import_file(
    store: StoreDep,
    once: IdempotencyDep,
    file: UploadFile,
    kind: Annotated[ImportKind, Form(description="What the file holds")],
    skip_invalid: Annotated[bool, Form(
        description="Load the valid rows and report the refused ones as skipped")] = False,
    request_id: Annotated[str | None, Form(description="cmrt: the request it answers")] = None,
    company_id: Annotated[str | None, Form(
        description="cmrt: the reporting company (default: matched by name)")] = None,
) -> Any:
    """Check the whole file, then load it: a file with a refused row loads nothing unless
    `skip_invalid`. CSV or JSON is told by the file name (.csv, .json)."""
    data = file.file.read()  # once: on Neo4j the unit of work may run again

    def effect() -> tuple[int, ImportRead]:
        report = imports.import_file(
            store=store, kind=kind, filename=file.filename or "upload", data=data,
            skip_invalid=skip_invalid, request_id=request_id, company_id=company_id,
            posted_by=once.posted_by, max_evidence_bytes=once.settings.max_evidence_bytes,
            max_declaration_bytes=once.settings.max_declaration_bytes,
        )
        if not report.loaded:
            raise _Refused(report)
        return 200, imports.import_read(report)

    try:
        return once.respond(effect)
    except _Refused as refused:
        return imports.refused_response(refused.report)


class _Refused(Exception):
    """A file that loaded nothing: answered 422, and its Idempotency-Key left free."""

    def __init__(self, report: ImportReport) -> None:
        super().__init__("refused rows")
        self.report = report
