"""`cascade`: run the service, set up the schema, read coverage from the terminal."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import (
    Progress,
)
from rich.table import Table

from graph_models.models import NodeState
from service.cli import shell
from service.cli.files import export_app, load_app
from service.cli.incidents import incident_app
from service.coverage.schemas import CoverageRead
from service.store.port import CascadeStore

if TYPE_CHECKING:
    from loaders.synthetic import SyntheticNetwork

app = typer.Typer(help="Supply-chain cascade graph service.", no_args_is_help=True)











@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    store: shell.StoreOption = None,
    demo: Annotated[bool, typer.Option(help="Load the demo network on first start")] = False,
    workers: Annotated[int, typer.Option(help="Worker processes")] = 1,
) -> None:
    """Run the REST service."""
    import uvicorn

    settings = shell.settings_for(store)
    if demo:
        settings = settings.model_copy(update={"demo": True})
    shell.port_free_or_exit(host, port)  # before a key is issued or anything printed
    # fail fast with a clear message, not a traceback; only the demo creates its store
    opened = shell.open_store(settings, create=settings.demo)
    if settings.demo:  # once, here: several workers must not race to load it
        from loaders.demo import load_demo_if_empty

        load_demo_if_empty(opened)
        admin_key = shell.demo_admin_key(opened)
        shell.console.print("demo admin key (send as 'Authorization: Bearer <key>'):")
        shell.console.print(admin_key, soft_wrap=True, highlight=False)
        shell.console.print(f"dashboard (signs this tab in): http://{host}:{port}/ui/#key={admin_key}",
                            soft_wrap=True, highlight=False)
    opened.close()
    shell.console.print(f"cascade service on http://{host}:{port} (store {settings.store}); "
                  f"API docs at http://{host}:{port}/docs")
    # Workers are separate processes: they build the app from the environment.
    os.environ["CASCADE_STORE"] = settings.store
    os.environ["CASCADE_DEMO"] = "false"
    uvicorn.run("service.app:create_app", factory=True, host=host, port=port, workers=workers,
                timeout_graceful_shutdown=settings.shutdown_grace_s,
                server_header=False)  # no banner naming the server and its version


keys_app = typer.Typer(help="API keys: create, list, revoke.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option(help="admin, procurement, integration or viewer")],
    company: Annotated[str | None, typer.Option(help="the company of an integration key")] = None,
    name: Annotated[str, typer.Option(help="what the key is for")] = "",
    expires: Annotated[float | None, typer.Option(help="days until it expires")] = None,
    store: shell.StoreOption = None,
) -> None:
    """Create a key and print it as the last line (it is shown only this once)."""
    from service.access.keys import Role, issue_key

    if role not in Role.__members__:
        shell.refuse(f"--role must be one of {', '.join(Role)}")
    active = shell.open_store(shell.settings_for(store))
    try:
        if company is not None and not active.existing_company_ids([company]):
            shell.refuse(f"--company: unknown company {company!r}")
        key, text = issue_key(active, role=Role(role), company_id=company, name=name,
                              expires_days=expires)
        shell.audit(active, f"keys create {key.id}", 201)
    except ValueError as exc:
        shell.refuse(str(exc))
    finally:
        active.close()
    shell.console.print(f"created key {key.id} ({key.role}"
                  f"{' of ' + key.company_id if key.company_id else ''}); store it now:")
    print(text)


@keys_app.command("list")
def keys_list(store: shell.StoreOption = None) -> None:
    """List keys (never their secrets)."""
    from graph_models.models import from_epoch_us

    active = shell.open_store(shell.settings_for(store))
    try:
        keys = active.list_api_keys()
    finally:
        active.close()
    table = Table(title="API keys")
    for column in ["id", "role", "company", "name", "created", "expires", "revoked"]:
        table.add_column(column)

    def when(us: int | None) -> str:
        return "" if us is None else f"{from_epoch_us(us):%Y-%m-%d %H:%M}Z"

    for key in keys:
        table.add_row(key.id, key.role, key.company_id or "", key.name,
                      when(key.created_at_us), when(key.expires_at_us), when(key.revoked_at_us))
    shell.console.print(table)


@keys_app.command("revoke")
def keys_revoke(key_id: str, store: shell.StoreOption = None) -> None:
    """Revoke a key (running workers refuse it within CASCADE_AUTH_CACHE_S)."""
    from graph_models.models import to_epoch_us, utc_now

    active = shell.open_store(shell.settings_for(store))
    try:
        found = active.revoke_api_key(key_id, at_us=to_epoch_us(utc_now()))
        shell.audit(active, f"keys revoke {key_id}", 200 if found else 404)
    finally:
        active.close()
    if not found:
        shell.refuse(f"no key {key_id!r}")
    shell.console.print(f"revoked {key_id}")


@app.command("init-schema")
def init_schema(store: shell.StoreOption = None) -> None:
    """Create tables / constraints (idempotent)."""
    settings = shell.settings_for(store)
    shell.open_store(settings, create=True).close()
    shell.console.print(f"schema ready on {settings.store}")


@app.command()
def coverage(
    request_id: str,
    store: shell.StoreOption = None,
    as_of: Annotated[str | None, typer.Option(help="ISO 8601 instant with offset")] = None,
    viewer: Annotated[str | None, typer.Option(
        "--as", help="A company's cascade view: the request as if it had issued it")] = None,
) -> None:
    """Print the coverage tier table of a request (or of a company's cascade view)."""
    from pydantic import TypeAdapter, ValidationError

    from graph_models.models import UtcDateTime
    from service.coverage.answers import coverage_read
    from service.coverage.snapshot import CoverageSnapshot
    from service.http.errors import ServiceError

    try:
        when = TypeAdapter(UtcDateTime).validate_python(as_of) if as_of else None
    except ValidationError as exc:
        shell.console.print(f"[red]--as-of: {exc.errors()[0]['msg']}[/red]")
        raise typer.Exit(code=2) from None
    active = shell.open_store(shell.settings_for(store))
    try:
        snapshot = CoverageSnapshot(active)
        reading = (snapshot.read(request_id, when) if viewer is None
                   else snapshot.read_view(request_id, viewer, when))
        report = coverage_read(reading, as_of=when)
    except ServiceError as exc:
        shell.console.print(f"[red]{exc.detail}[/red]")
        raise typer.Exit(code=1) from None
    finally:
        active.close()
    shell.console.print(_tier_table(report))
    shell.console.print(
        f"coverage {report.coverage_ratio:.1%}  gaps {report.gaps}  paths "
        f"{report.paths.covered}/{report.paths.total} covered (revision {report.revision})"
    )


def _tier_table(report: CoverageRead) -> Table:
    states = [s.value for s in NodeState]
    table = Table(title=f"coverage of {report.request_id} from {report.root_id} as of "
                        f"{report.as_of:%Y-%m-%d %H:%M}Z")
    for column in ["tier", "companies", *states]:
        table.add_column(column, justify="right")
    for row in report.tiers:
        table.add_row(*(str(row.get(c, 0)) for c in ["tier", "companies", *states]))
    return table


@app.command()
def catalog() -> None:
    """List the built-in request catalog."""
    from service.registry.catalog import CATALOG

    table = Table(title="built-in request catalog")
    for column in ("catalog id", "topic", "title", "applies to", "mandatory"):
        table.add_column(column)
    for entry in CATALOG:
        scope = ", ".join(entry.applies_to.categories or ["all links"])
        table.add_row(entry.catalog_id, entry.topic, entry.title, scope,
                      "yes" if entry.mandatory else "no")
    shell.console.print(table)







def _open_target(url: str | None, out: Path | None, replace: bool) -> CascadeStore | None:
    """The empty store to write to (None with --out), or exit with one clear line."""
    if out is not None:
        if url:
            shell.console.print("[red]--out writes a file instead of a store: drop --store[/red]")
            raise typer.Exit(code=2)
        if out.exists() and not replace:
            shell.refuse(f"{out} exists; pass --replace to overwrite it")
        return None
    settings = shell.settings_for(url)
    active = shell.open_store(settings, create=True)  # it fills a new store (README)
    if active.list_companies(limit=1) and not replace:
        active.close()
        shell.refuse(f"the store {settings.store} already holds companies; "
                "pass --replace to clear it first")
    return active


def _build_network(
    bar: Progress, *, companies: int, seed: int, links: int | None, tiers: int, requests: int,
    forward_share: float, answer_share: float,
) -> SyntheticNetwork:
    from graph_models.models import utc_now
    from loaders.demo import catalog_requests
    from loaders.synthetic import generate_network, issue_and_cascade

    task = bar.add_task("generating network", total=None)
    try:
        net = generate_network(companies, seed=seed, tiers=tiers, links=links)
    except ValueError as exc:  # sizes that do not fit: a usage error
        shell.console.print(f"[red]{exc}[/red]", soft_wrap=True)
        raise typer.Exit(code=2) from None
    bar.update(task, total=1, completed=1)
    now = utc_now()
    task = bar.add_task("cascading requests", total=requests)
    for request in catalog_requests(net.focal_id, requests, prefix="gen", now=now):
        issue_and_cascade(net, request, forward_share=forward_share, answer_share=answer_share,
                          seed=seed, as_of=now)
        bar.advance(task)
    return net


def _write(bar: Progress, net: SyntheticNetwork, store: CascadeStore | None, out: Path | None,
           replace: bool) -> None:
    from loaders.demo import dump_network_json, write_network

    total = (len(net.companies) + len(net.links) + len(net.requests) + len(net.cascades)
             + len(net.acknowledgements))
    task = bar.add_task(f"writing {out or 'store'}", total=total)
    tick = shell.write_ticker(bar, task)
    if out is not None:
        with out.open("w", encoding="utf-8") as file:
            dump_network_json(net, file, progress=tick)
    elif store is not None:
        if replace:
            store.clear_all()
        write_network(store, net, progress=tick)
        shell.audit(store, f"generate {len(net.companies)} companies, {len(net.links)} links"
                      f"{' (replacing the store)' if replace else ''}", 201)


def _summary(net: SyntheticNetwork, seconds: float, target: str) -> Table:
    table = Table.grid(padding=(0, 2))
    rows = {"companies": len(net.companies), "links": len(net.links),
            "tiers": len(net.tiers) - 1, "requests": len(net.requests),
            "cascades": len(net.cascades), "answers": len(net.acknowledgements)}
    for name, value in rows.items():
        table.add_row(name, f"{value:,}")
    table.add_row("time", f"{seconds:.1f} s")
    table.add_row("written to", target)
    return table


@app.command()
def generate(
    companies: Annotated[int, typer.Option(min=2, help="Companies, the focal one included")],
    seed: Annotated[int, typer.Option(help="The same seed gives the same network")],
    links: Annotated[int | None, typer.Option(
        min=1, help="Links to create (default: natural density, ~1.45 per company)")] = None,
    tiers: Annotated[int, typer.Option(min=1, help="Supplier tiers")] = 8,
    requests: Annotated[int, typer.Option(
        min=0, help="Catalog policies to issue and cascade (past 8: revised versions)")] = 1,
    forward_share: Annotated[float, typer.Option(
        min=0, max=1, help="Chance a reached supplier forwards to each supplier")] = 0.8,
    answer_share: Annotated[float, typer.Option(
        min=0, max=1, help="Chance a reached supplier answers")] = 0.75,
    store: shell.StoreOption = None,
    out: Annotated[Path | None, typer.Option(
        help="Write one JSON document here instead of a store")] = None,
    replace: Annotated[bool, typer.Option(
        help="Clear a store that holds data (or overwrite --out)")] = False,
) -> None:
    """Generate a seeded synthetic network, cascade catalog requests over it, and write it
    to the store (refusing a non-empty one without --replace) or to a JSON file."""
    start = time.perf_counter()
    target = _open_target(store, out, replace)
    try:
        with shell.cycle_collector_paused(), shell.progress() as bar:
            net = _build_network(bar, companies=companies, seed=seed, links=links, tiers=tiers,
                                 requests=requests, forward_share=forward_share,
                                 answer_share=answer_share)
            _write(bar, net, target, out, replace)
    finally:
        if target is not None:
            target.close()
    where = str(out) if out is not None else shell.settings_for(store).store
    shell.console.print(_summary(net, time.perf_counter() - start, where))


@app.command("dev-neo4j")
def dev_neo4j(
    port: Annotated[int, typer.Option(help="Bolt port")] = 7687,
    data: Annotated[Path, typer.Option(help="Data directory")] = Path(".neo4j-data"),
    password: Annotated[str | None, typer.Option(help="Enable auth with this password")] = None,
) -> None:
    """Run a local Neo4j 5.26 (embedded, Bolt on PORT) in the foreground."""
    from service.cli import dev_neo4j as launcher

    sys.exit(launcher.run_foreground(port, data, password))


app.add_typer(load_app, name="load")
app.add_typer(export_app, name="export")
app.add_typer(incident_app, name="incident")

if __name__ == "__main__":  # python -m service.cli.main
    app()
