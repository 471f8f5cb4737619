"""`cascade load ...` and `cascade export ...`: files in, follow-up lists out.

Registered on the main `cascade` app by `service.cli.main`; shares `shell`."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from loaders.importer import ImportReport, import_rows
from loaders.tabular import FileError, SourceRow
from service.cli import shell
from service.http.errors import ServiceError
from service.store.port import CascadeStore, TransactionTooLarge

load_app = typer.Typer(help="Load files into the store: CSV, JSON, CMRT/EMRT, Willems.",
                       no_args_is_help=True)
export_app = typer.Typer(help="Export follow-up lists.", no_args_is_help=True)

SkipOption = Annotated[bool, typer.Option(
    "--skip-invalid", help="Load the valid rows and report the refused ones as skipped")]
SHOWN_PROBLEMS = 50


def _load(
    kind: str, path: Path, store: str | None, skip_invalid: bool, *, whole: bool = False,
    **extra: str | None,
) -> None:
    """Load one file with a progress bar, print the summary; exit 1 when nothing loaded."""
    from service.ingest.service import import_file

    if not path.is_file():
        shell.refuse(f"{path}: no such file")
    data = path.read_bytes()
    settings = shell.settings_for(store)
    active = shell.open_store(settings)
    start = time.perf_counter()
    try:
        with shell.cycle_collector_paused(), shell.progress() as bar:
            task = bar.add_task(f"loading {path.name}", total=None)
            report = import_file(store=active, kind=kind, filename=path.name, data=data,
                                 skip_invalid=skip_invalid, posted_by="cli",
                                 progress=shell.write_ticker(bar, task),
                                 max_evidence_bytes=settings.max_evidence_bytes,
                                 max_declaration_bytes=settings.max_declaration_bytes,
                                 whole=whole, **extra)
            bar.update(task, total=bar.tasks[task].completed or 1,
                       completed=bar.tasks[task].completed or 1)
    except ServiceError as exc:
        shell.refuse(f"{path.name}: {exc.detail}")
    finally:
        active.close()
    _print_report(report, time.perf_counter() - start)


def _print_report(report: ImportReport, seconds: float) -> None:
    """The summary: outcomes per section, refused rows (the first 50), notes."""
    for problem in report.problems[:SHOWN_PROBLEMS]:
        shell.console.print(f"[red]{problem}[/red]", soft_wrap=True, highlight=False)
    if len(report.problems) > SHOWN_PROBLEMS:
        shell.console.print(f"[red]... and {len(report.problems) - SHOWN_PROBLEMS} more[/red]")
    table = Table(title=f"{report.kind}: {report.rows:,} rows in {seconds:.1f} s")
    for column in ("section", "created", "updated", "unchanged", "skipped"):
        table.add_column(column, justify="left" if column == "section" else "right")
    for section, counts in report.sections.items():
        table.add_row(section, *(f"{counts[c]:,}" for c in
                                 ("created", "updated", "unchanged", "skipped")))
    shell.console.print(table)
    for note in report.notes:
        shell.console.print(note, soft_wrap=True, highlight=False)
    if not report.loaded:
        raise typer.Exit(code=1)


def _tabular(kind: str) -> None:
    def command(
        file: Annotated[Path, typer.Argument(help="A .csv or .json file")],
        store: shell.StoreOption = None,
        skip_invalid: SkipOption = False,
    ) -> None:
        _load(kind, file, store, skip_invalid)

    command.__doc__ = (f"Load {kind} from a CSV or JSON file (nothing is loaded when a row "
                       "is refused, unless --skip-invalid).")
    load_app.command(kind)(command)


for _kind in ("companies", "links", "cascades", "acknowledgements"):
    _tabular(_kind)


@load_app.command("network")
def load_network(
    file: Annotated[Path, typer.Argument(help="A JSON document of sections")],
    store: shell.StoreOption = None,
    skip_invalid: SkipOption = False,
) -> None:
    """Load one JSON document with companies, links, requests, cascades and
    acknowledgements (as `cascade generate --out` writes); into an empty store, whole as
    new rows, without webhook events (as `cascade generate` writes)."""
    _load("network", file, store, skip_invalid, whole=True)


@load_app.command("cmrt")
def load_cmrt(
    file: Annotated[Path, typer.Argument(help="A CMRT 6.x or EMRT 1.x/2.x .xlsx workbook")],
    request: Annotated[str, typer.Option("--request", help="The request it answers")],
    company: Annotated[str | None, typer.Option(
        "--company", help="The reporting company (default: matched by the declared name)")]
    = None,
    store: shell.StoreOption = None,
    skip_invalid: SkipOption = False,
) -> None:
    """Record a CMRT / EMRT declaration as the company's answer to a conflict-minerals
    request, and its smelters as raw-material suppliers."""
    _load("cmrt", file, store, skip_invalid, request_id=request, company_id=company)


@load_app.command("willems")
def load_willems(
    directory: Annotated[Path, typer.Argument(help="The willems2008 data directory")],
    chain: Annotated[str | None, typer.Option(help="One chain (01 to 38); default all")]
    = None,
    store: shell.StoreOption = None,
) -> None:
    """Load the Willems (2008) real supply chains: chain NN as focal company willems-NN
    buying from its demand stages, each stage a company willems-NN:<stage>."""
    from loaders.willems import read_willems, willems_rows

    try:
        rows = willems_rows(read_willems(directory, chain))
    except FileError as exc:
        shell.refuse(exc.message)
    active = shell.open_store(shell.settings_for(store))
    start = time.perf_counter()
    try:
        report = _with_progress(active, rows, f"loading {directory.name}")
    finally:
        active.close()
    _print_report(report, time.perf_counter() - start)


def _with_progress(store: CascadeStore, rows: list[SourceRow], description: str) -> ImportReport:
    from service.ingest.service import too_large

    try:
        with shell.progress() as bar:
            task = bar.add_task(description, total=len(rows))
            return import_rows(store, "willems", rows, progress=lambda n: bar.advance(task, n))
    except TransactionTooLarge as exc:
        shell.refuse(too_large(len(rows), exc).detail)


@export_app.command("gaps")
def export_gaps(
    request_id: str,
    format: Annotated[str, typer.Option("--format", help="csv or xlsx")] = "csv",
    out: Annotated[Path | None, typer.Option(
        help="Where to write (default: REQUEST_ID-gaps.csv / .xlsx here)")] = None,
    as_of: Annotated[str | None, typer.Option(help="ISO 8601 instant with offset")] = None,
    store: shell.StoreOption = None,
) -> None:
    """Write a request's gaps (and, in xlsx, its overdue and declined companies)."""
    from pydantic import TypeAdapter, ValidationError

    from graph_models.models import UtcDateTime
    from service.coverage import exports
    from service.coverage.snapshot import CoverageSnapshot

    if format not in ("csv", "xlsx"):
        shell.refuse("--format must be csv or xlsx")
    try:
        when = TypeAdapter(UtcDateTime).validate_python(as_of) if as_of else None
    except ValidationError as exc:
        shell.refuse(f"--as-of: {exc.errors()[0]['msg']}")
    target = out or Path(f"{request_id}-gaps.{format}")
    active = shell.open_store(shell.settings_for(store))
    try:
        report = exports.follow_up(coverage=CoverageSnapshot(active), store=active,
                                   request_id=request_id, as_of=when)
    except ServiceError as exc:
        shell.refuse(exc.detail)
    finally:
        active.close()
    target.write_bytes(exports.gaps_csv(report) if format == "csv" else exports.gaps_xlsx(report))
    shell.console.print(f"{len(report.gaps):,} gaps, {len(report.late):,} overdue or declined "
                      f"companies written to {target}")


# cascade export cmrt / emrt: the minerals roll-up in a blank RMI template
from service.cli import minerals as _minerals  # noqa: E402

_minerals.register(export_app)
