"""`cascade`: run the service, set up the schema, read coverage from the terminal."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from graph_models.models import NodeState
from service.schemas import CoverageRead
from service.settings import Settings
from service.store import build_store
from service.store.port import CascadeStore, StoreUnavailable

app = typer.Typer(help="Supply-chain cascade graph service.", no_args_is_help=True)
console = Console()

StoreOption = Annotated[
    str | None,
    typer.Option("--store", help="sqlite:///PATH or neo4j://HOST:7687 (env CASCADE_STORE)"),
]


def _settings(store: str | None, **overrides: object) -> Settings:
    values = {"store": store} if store else {}
    return Settings(**values, **overrides)  # type: ignore[arg-type]


def _open_store(settings: Settings) -> CascadeStore:
    """Connect (with the adapter's short retry) and make sure the schema exists, or exit
    with one clear line."""
    try:
        store = build_store(settings)
        store.init_schema()
        return store
    except StoreUnavailable as exc:
        console.print(f"[red]cannot reach the store {settings.store}: {exc}[/red]")
        raise typer.Exit(code=2) from None


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    store: StoreOption = None,
    demo: Annotated[bool, typer.Option(help="Load the demo network on first start")] = False,
    workers: Annotated[int, typer.Option(help="Worker processes")] = 1,
) -> None:
    """Run the REST service."""
    import uvicorn

    settings = _settings(store, demo=demo or Settings().demo)
    _open_store(settings).close()  # fail fast with a clear message, not a traceback
    console.print(f"cascade service on http://{host}:{port} (store {settings.store}); "
                  f"API docs at http://{host}:{port}/docs")
    from service.app import create_app

    uvicorn.run(create_app(settings), host=host, port=port, workers=workers)


@app.command("init-schema")
def init_schema(store: StoreOption = None) -> None:
    """Create tables / constraints (idempotent)."""
    settings = _settings(store)
    _open_store(settings).close()
    console.print(f"schema ready on {settings.store}")


@app.command()
def coverage(
    request_id: str,
    store: StoreOption = None,
    as_of: Annotated[str | None, typer.Option(help="ISO 8601 instant with offset")] = None,
) -> None:
    """Print the coverage tier table of a request."""
    from pydantic import TypeAdapter, ValidationError

    from graph_models.models import UtcDateTime
    from service.coverage import CoverageService
    from service.errors import ServiceError

    try:
        when = TypeAdapter(UtcDateTime).validate_python(as_of) if as_of else None
    except ValidationError as exc:
        console.print(f"[red]--as-of: {exc.errors()[0]['msg']}[/red]")
        raise typer.Exit(code=2) from None
    active = _open_store(_settings(store))
    try:
        report = CoverageService(active).coverage(request_id=request_id, as_of=when)
    except ServiceError as exc:
        console.print(f"[red]{exc.detail}[/red]")
        raise typer.Exit(code=1) from None
    finally:
        active.close()
    console.print(_tier_table(report))
    console.print(
        f"coverage {report.coverage_ratio:.1%}  gaps {report.gaps}  paths "
        f"{report.paths.covered}/{report.paths.total} covered (revision {report.revision})"
    )


def _tier_table(report: CoverageRead) -> Table:
    states = [s.value for s in NodeState]
    table = Table(title=f"coverage of {report.request_id} as of {report.as_of:%Y-%m-%d %H:%M}Z")
    for column in ["tier", "companies", *states]:
        table.add_column(column, justify="right")
    for row in report.tiers:
        table.add_row(*(str(row.get(c, 0)) for c in ["tier", "companies", *states]))
    return table


@app.command()
def catalog() -> None:
    """List the built-in request catalog."""
    from service.catalog import CATALOG

    table = Table(title="built-in request catalog")
    for column in ("catalog id", "topic", "title", "applies to", "mandatory"):
        table.add_column(column)
    for entry in CATALOG:
        scope = ", ".join(entry.applies_to.categories or ["all links"])
        table.add_row(entry.catalog_id, entry.topic, entry.title, scope,
                      "yes" if entry.mandatory else "no")
    console.print(table)


@app.command("dev-neo4j")
def dev_neo4j(
    port: Annotated[int, typer.Option(help="Bolt port")] = 7687,
    data: Annotated[Path, typer.Option(help="Data directory")] = Path(".neo4j-data"),
    password: Annotated[str | None, typer.Option(help="Enable auth with this password")] = None,
) -> None:
    """Run a local Neo4j 5.26 (embedded, Bolt on PORT) in the foreground."""
    from service import dev_neo4j as launcher

    sys.exit(launcher.run_foreground(port, data, password))


if __name__ == "__main__":
    app()
