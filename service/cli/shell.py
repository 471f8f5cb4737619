"""What every `cascade` command shares: the console, the store option, opening a store,
refusing with one line."""

from __future__ import annotations

import getpass
import os
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from service.config.settings import Settings
from service.store import build_store
from service.store.port import AuditEntry, CascadeStore, StoreUnavailable

if TYPE_CHECKING:
    pass

console = Console()


StoreOption = Annotated[
    str | None,
    typer.Option("--store", help="sqlite:///PATH or neo4j://HOST:7687 (env CASCADE_STORE)"),
]


def settings_for(store: str | None, **overrides: object) -> Settings:
    values = {"store": store} if store else {}
    return Settings(**values, **overrides)  # type: ignore[arg-type]


def audit(store: CascadeStore, command: str, status: int) -> None:
    """Writes from the shell join the API's audit trail, under `cli:<login>` instead of a
    key id, with the status the same call over HTTP would answer."""
    from graph_models.models import to_epoch_us, utc_now

    store.record_audit(AuditEntry(at_us=to_epoch_us(utc_now()), key_id=f"cli:{login()}",
                                  method="CLI", path=f"cascade {command}", status=status))


def login() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name (a container without a passwd entry)
        return str(os.getuid())


def open_store(settings: Settings) -> CascadeStore:
    """Connect (with the adapter's short retry) and make sure the schema exists, or exit
    with one clear line."""
    try:
        store = build_store(settings)
        store.init_schema()
        return store
    except StoreUnavailable as exc:
        console.print(f"[red]cannot reach the store {settings.store}: {exc}[/red]")
        raise typer.Exit(code=2) from None


def progress() -> Progress:
    return Progress(SpinnerColumn(), TextColumn("{task.description:<22}"), BarColumn(),
                    MofNCompleteColumn(), TimeElapsedColumn(), console=console)


def refuse(message: str) -> NoReturn:
    console.print(f"[red]{message}[/red]", soft_wrap=True)
    raise typer.Exit(code=1)

