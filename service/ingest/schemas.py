"""HTTP payloads (`XCreate` / `XUpdate` / `XRead`). Domain models are reused where the
shape is the same; unknown fields are refused everywhere."""

from __future__ import annotations

from service.http.schemas import Payload


class ImportProblem(Payload):
    """A row of an imported file that was refused (and not loaded)."""

    section: str  # companies, links, requests, cascades, acknowledgements, or a sheet
    row: int  # CSV: the file's line (header = 1); JSON: position in its list, from 1
    field: str | None = None
    message: str


class ImportCounts(Payload):
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0


class ImportRead(Payload):
    """What an import loaded: outcomes per section, the rows skipped, notes."""

    kind: str
    loaded: bool
    rows: int
    sections: dict[str, ImportCounts]
    skipped: list[ImportProblem]
    notes: list[str]

