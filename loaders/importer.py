"""Check a whole file's rows, then write them through the store port: nothing half-loaded.

Rows are checked section by section in write order (companies, links, requests, cascades,
acknowledgements) with the batch endpoints' own checks (`service.batches`), where ids
defined by valid rows earlier in the same file count as existing. Rows repeating an
earlier row of the file are refused. A file with any refused row writes nothing, unless
`skip_invalid`: then the valid rows are written and the refused ones reported as skipped.

Writes go in store batches of 1,000, all inside one store transaction
(`CascadeStore.atomic`) whatever the file's size, so a failure half-way leaves the store as
it was. On Neo4j that transaction is held in the server's memory, capped by
`db.memory.transaction.max`: a load too large for it is refused whole
(`TransactionTooLarge`), nothing written. Asked to load `whole` (`cascade load network`),
rows bound for an empty store go through `BulkLoad.load_new` instead: as new rows, in
parallel transactions on Neo4j, undone if it fails, and without webhook events.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import TypeAdapter, ValidationError

from graph_models.models import PolicyRequest
from loaders.tabular import SECTIONS, SourceRow
from service.ledger import batches
from service.ledger.batches import Pending
from service.ledger.schemas import DEFAULT_MAX_EVIDENCE_BYTES
from service.store.errors import NotEmpty
from service.store.port import CascadeStore, WriteOutcome

__all__ = ["ImportReport", "Progress", "RowProblem", "check_rows", "import_rows", "load_whole",
           "write_plan"]

STORE_BATCH = batches.STORE_BATCH
Progress = Callable[[int], None]


@dataclass(frozen=True)
class RowProblem:
    """Why one row of a file was refused."""

    section: str
    row: int
    field: str | None
    message: str

    def __str__(self) -> str:
        where = f" ({self.field})" if self.field else ""
        return f"{self.section} row {self.row}: {self.message}{where}"


@dataclass
class ImportReport:
    """What a load did: per section the write outcomes (`created`, `updated`,
    `unchanged`) and `skipped` rows; the refused rows; notes for the reader."""

    kind: str
    loaded: bool
    rows: int
    sections: dict[str, Counter[str]]
    problems: list[RowProblem]
    notes: list[str] = field(default_factory=list)


@dataclass
class _Plan:
    valid: dict[str, list[tuple[int, Any]]]  # section -> (row number, domain object)
    problems: list[RowProblem]


def import_rows(
    store: CascadeStore,
    kind: str,
    rows: Sequence[SourceRow],
    *,
    skip_invalid: bool = False,
    posted_by: str | None = None,
    progress: Progress | None = None,
    notes: Iterable[str] = (),
    problems: Iterable[RowProblem] = (),
    max_evidence_bytes: int = DEFAULT_MAX_EVIDENCE_BYTES,
    whole: bool = False,
) -> ImportReport:
    """Check every row, then write the valid ones (all of them, or none when some row
    was refused and `skip_invalid` is off). `problems` are rows refused while reading
    (a sheet's rows that made no record). `progress(n)` after each n rows written. An
    answer's evidence is refused beyond `max_evidence_bytes`. `whole`: into an empty
    store, write the rows as one new network (see the module docstring)."""
    plan = check_rows(store, rows, posted_by=posted_by, max_evidence_bytes=max_evidence_bytes)
    plan.problems[:0] = problems
    sections: dict[str, Counter[str]] = {s: Counter() for s in SECTIONS
                                         if any(r.section == s for r in rows)}
    report = ImportReport(kind, False, len(rows), sections, plan.problems, list(notes))
    if plan.problems and not skip_invalid:
        report.notes.append("nothing was loaded: fix the rows listed, or skip invalid rows "
                            "to load the valid ones only")
        return report
    for problem in plan.problems:
        sections.setdefault(problem.section, Counter())["skipped"] += 1
    written = load_whole(store, plan, progress) if whole else None
    if written is None:
        written = write_plan(store, plan, progress=progress)
    else:
        report.notes.append("loaded whole into an empty store: no webhook event was sent "
                            "for its answers")
    for section, counts in written.items():
        sections[section].update(counts)
    report.loaded = True
    return report


# -- checking -------------------------------------------------------------------------------


def check_rows(
    store: CascadeStore, rows: Sequence[SourceRow], *, posted_by: str | None = None,
    max_evidence_bytes: int = DEFAULT_MAX_EVIDENCE_BYTES,
) -> _Plan:
    """Every row checked; the valid ones as domain objects, per section."""
    plan = _Plan({}, [])
    pending = Pending()
    for section in SECTIONS:
        chosen = _unrepeated([r for r in rows if r.section == section], plan.problems)
        refused, valid = _check_section(store, section, chosen, pending, posted_by,
                                        max_evidence_bytes)
        plan.problems.extend(RowProblem(section, chosen[i].row, f, m) for i, f, m in refused)
        plan.valid[section] = [(chosen[i].row, obj) for i, obj in valid]
        pending = _extended(pending, section, [obj for _, obj in valid])
    plan.problems.sort(key=lambda p: (SECTIONS.index(p.section), p.row))
    return plan


def _unrepeated(rows: list[SourceRow], problems: list[RowProblem]) -> list[SourceRow]:
    """Rows readable and not repeating an earlier row of the file (those are refused)."""
    first: dict[tuple[str, ...], int] = {}
    kept = []
    for row in rows:
        if row.problem is not None:
            problems.append(RowProblem(row.section, row.row, *row.problem))
            continue
        key = _KEYS[row.section](row.fields)
        if key is None:  # a key field is missing: the checks will say so
            kept.append(row)
            continue
        if key in first:
            problems.append(RowProblem(row.section, row.row, None,
                                       f"duplicate of row {first[key]}"))
            continue
        first[key] = row.row
        kept.append(row)
    return kept


def _key(*names: str) -> Callable[[dict[str, Any]], tuple[str, ...] | None]:
    """What makes two rows of a section the same record (None if a part is missing);
    an answer's `at` may be left out (it is then the time of loading)."""

    def key(fields: dict[str, Any]) -> tuple[str, ...] | None:
        if any(fields.get(name) is None for name in names if name != "at"):
            return None
        return tuple(str(fields.get(name)) for name in names)

    return key


_KEYS = {
    "companies": _key("id"),
    "links": _key("buyer_id", "supplier_id"),
    "requests": _key("id"),
    "cascades": _key("request_id", "from_id", "to_id"),
    "acknowledgements": _key("request_id", "company_id", "status", "at"),
}
Refusal = tuple[int, str | None, str]  # (index among the rows checked, field, message)


def _check_section(
    store: CascadeStore, section: str, rows: list[SourceRow], pending: Pending,
    posted_by: str | None, max_evidence_bytes: int,
) -> tuple[list[Refusal], list[tuple[int, Any]]]:
    """(refusals, valid (index, domain object)) of one section's rows."""
    if not rows:
        return [], []
    items = [r.fields for r in rows]
    if section == "requests":
        return _check_requests(store, items, pending)
    if section == "acknowledgements":
        checked = batches.check_acknowledgements(
            store=store, items=items, posted_by=posted_by, pending=pending,
            max_evidence_bytes=max_evidence_bytes)
    else:
        checked = _CHECKS[section](store=store, items=items, pending=pending)
    refused = [(r.index, r.problem.get("field"), str(r.problem.get("detail", "invalid")))
               for r in checked.results if r.problem is not None]
    return refused, list(checked.valid)


_CHECKS: dict[str, Callable[..., batches.Checked[Any]]] = {
    "companies": batches.check_companies,
    "links": batches.check_links,
    "cascades": batches.check_cascades,
}


def _extended(pending: Pending, section: str, objects: list[Any]) -> Pending:
    """`pending` with what a section's valid rows will write."""
    if section == "companies":
        return Pending(pending.companies | {c.id for c in objects}, pending.links,
                       pending.requests)
    if section == "links":
        return Pending(pending.companies, pending.links | {lk.key for lk in objects},
                       pending.requests)
    if section == "requests":
        return Pending(pending.companies, pending.links,
                       pending.requests | {r.id for r in objects})
    return pending


def _check_requests(
    store: CascadeStore, items: list[dict[str, Any]], pending: Pending
) -> tuple[list[Refusal], list[tuple[int, Any]]]:
    """Requests as written in full (`cascade generate --out` writes them so): issuer and
    superseded request known; an id already stored must hold the same request."""
    adapter = TypeAdapter(PolicyRequest)
    refused: list[Refusal] = []
    valid: list[tuple[int, Any]] = []
    for index, item in enumerate(items):
        try:
            request = adapter.validate_python(item)
        except ValidationError as exc:
            first = exc.errors()[0]
            refused.append((index, ".".join(str(p) for p in first["loc"]) or None,
                            first["msg"]))
            continue
        problem = _request_problem(store, request, pending, {r.id for _, r in valid})
        if problem is None:
            valid.append((index, request))
        else:
            refused.append((index, *problem))
    return refused, valid


def _request_problem(
    store: CascadeStore, request: PolicyRequest, pending: Pending, earlier: set[str]
) -> tuple[str, str] | None:
    """(field, message) of what is wrong with a request of the file, or None."""
    issuer = request.issuer_id
    if issuer not in pending.companies and not store.existing_company_ids([issuer]):
        return "issuer_id", f"unknown company {issuer!r}"
    older = request.supersedes
    if older is not None and older not in earlier and store.get_request(older) is None:
        return "supersedes", f"unknown request {older!r}"
    stored = store.get_request(request.id)
    if stored is not None and stored != request:
        return "id", f"request {request.id!r} already exists with other content"
    return None


# -- writing --------------------------------------------------------------------------------


def write_plan(
    store: CascadeStore, plan: _Plan, *, progress: Progress | None = None
) -> dict[str, Counter[str]]:
    """Write every valid row in store batches, all in one unit of work; outcome counts
    per section."""
    tick = progress or (lambda _: None)

    def work() -> dict[str, Counter[str]]:  # may run again on Neo4j: count afresh
        return {section: _write_section(store, section, [o for _, o in valid], tick)
                for section, valid in plan.valid.items() if valid}

    return store.atomic(work)


@dataclass(frozen=True)
class _Network:
    """A plan's valid objects as the sections `BulkLoad.load_new` takes."""

    companies: list[Any]
    links: list[Any]
    requests: list[Any]
    cascades: list[Any]
    acknowledgements: list[Any]


def load_whole(store: CascadeStore, plan: _Plan, progress: Progress | None
               ) -> dict[str, Counter[str]] | None:
    """Every valid row of `plan` written as new (`load_new`); None, with nothing
    written, when the store holds data."""
    objects = {section: [o for _, o in plan.valid.get(section, [])] for section in SECTIONS}
    if not any(objects.values()):
        return {}
    try:
        store.load_new(_Network(**objects), progress=progress)
    except NotEmpty:
        return None
    return {section: Counter(created=len(rows)) for section, rows in objects.items() if rows}


def _write_section(
    store: CascadeStore, section: str, objects: list[Any], tick: Progress
) -> Counter[str]:
    counts: Counter[str] = Counter()
    write = _WRITERS[section]
    for start in range(0, len(objects), STORE_BATCH):
        chunk = objects[start : start + STORE_BATCH]
        counts.update(outcome.value for outcome in write(store, chunk))
        tick(len(chunk))
    return counts


def _create_requests(store: CascadeStore, requests: list[PolicyRequest]) -> list[WriteOutcome]:
    outcomes = []
    for request in requests:
        if store.get_request(request.id) is None:
            store.create_request(request)
            outcomes.append(WriteOutcome.created)
        else:
            outcomes.append(WriteOutcome.unchanged)
    return outcomes


_WRITERS: dict[str, Callable[[CascadeStore, list[Any]], list[WriteOutcome]]] = {
    "companies": lambda store, chunk: store.upsert_companies(chunk),
    "links": lambda store, chunk: store.add_links(chunk),
    "requests": _create_requests,
    "cascades": lambda store, chunk: store.add_cascades(chunk),
    "acknowledgements": batches.add_acknowledgements,
}
