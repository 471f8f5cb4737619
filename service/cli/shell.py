"""What every `cascade` command shares: the console, the store option, opening a store,
refusing with one line."""

from __future__ import annotations

import gc
import getpass
import logging
import os
import socket
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from service.config.settings import Settings
from service.store import build_store
from service.store.port import AuditEntry, CascadeStore, StoreMissing, StoreUnavailable

if TYPE_CHECKING:
    pass

console = Console()


StoreOption = Annotated[
    str | None,
    typer.Option("--store", help="sqlite:///PATH or neo4j://HOST:7687 (env CASCADE_STORE)"),
]


def settings_for(store: str | None, **overrides: object) -> Settings:
    """The settings (environment, then `--store`), or exit 2 with one line per problem."""
    values = {"store": store} if store else {}
    try:
        return Settings(**values, **overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        for error in exc.errors():
            where = "".join(f"{p}: " for p in error["loc"])
            message = str(error["msg"]).removeprefix("Value error, ")
            console.print(f"[red]configuration: {where}{message}[/red]", soft_wrap=True)
        raise typer.Exit(code=2) from None


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


def open_store(settings: Settings, *, create: bool = False) -> CascadeStore:
    """Connect (with the adapter's short retry) and make sure the schema exists, or exit 2
    with one clear line. Without `create` a SQLite file must exist already: a mistyped
    path must not become a new, empty store that answers "no such request"."""
    if settings.store_kind == "sqlite":
        _sqlite_file(settings, create=create)
    quiet_driver()
    try:
        store = build_store(settings)
        store.init_schema()
        return store
    except StoreMissing as exc:  # as a SQLite file that does not exist (`_sqlite_file`)
        refuse_config(_first_line(exc))
    except StoreUnavailable as exc:
        refuse_config(f"cannot reach the store {settings.store}: {_first_line(exc)}")
    except (sqlite3.Error, OSError, ValueError) as exc:
        refuse_config(f"cannot open the store {settings.store}: {_first_line(exc)}")
    except Exception as exc:  # the driver's own (auth, configuration): one line, no trace
        if type(exc).__module__.split(".")[0] != "neo4j":
            raise
        refuse_config(f"cannot open the store {settings.store}: {_first_line(exc)}")


def _sqlite_file(settings: Settings, *, create: bool) -> None:
    path = Path(settings.sqlite_path)
    if settings.sqlite_path == ":memory:" or path.is_file():
        return
    if not create:
        refuse_config(f"no store at {settings.store} ({path.resolve()} does not exist): "
                      "create it with `cascade init-schema --store URL`, or start with "
                      "`cascade serve --demo`")
    path.parent.mkdir(parents=True, exist_ok=True)


def quiet_driver() -> None:
    """The Neo4j driver logs every retry of an unreachable server; the shell prints one
    line instead."""
    for name in ("neo4j", "service.store"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]


def refuse_config(message: str) -> NoReturn:
    console.print(f"[red]{message}[/red]", soft_wrap=True)
    raise typer.Exit(code=2)


@contextmanager
def cycle_collector_paused() -> Iterator[None]:
    """Pause Python's automatic cycle collection while a command builds millions of
    objects that live until it ends: each full collection walks them all again (measured
    at 1M links: 30 s of the 84 s a network file took to load into SQLite, 12 s of the
    49 s `cascade generate` took). The command's `write_ticker` collects as it writes, which
    frees the cycles its writes leave (the Neo4j driver's) without walking the rest."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
            gc.collect()


def write_ticker(bar: Progress, task: TaskID) -> Callable[[int], None]:
    """`progress(n)` for a write: advance `task` by n rows, then collect the objects made
    since the last tick (the survivors are promoted, so they are not walked again): cheap,
    and what keeps memory flat under `cycle_collector_paused`."""

    def tick(rows: int) -> None:
        bar.advance(task, rows)
        gc.collect(0)

    return tick


def progress() -> Progress:
    return Progress(SpinnerColumn(), TextColumn("{task.description:<22}"), BarColumn(),
                    MofNCompleteColumn(), TimeElapsedColumn(), console=console)


def refuse(message: str) -> NoReturn:
    console.print(f"[red]{message}[/red]", soft_wrap=True)
    raise typer.Exit(code=1)



def port_free_or_exit(host: str, port: int) -> None:
    """Exit 2 with one line when `host:port` cannot be listened on (checked before a
    demo key is issued: a start that then fails must leave nothing behind)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((host, port))
        except OSError as exc:
            refuse_config(f"cannot listen on {host}:{port}: {exc.strerror or exc}")


DEMO_KEY_NAME = "demo admin (cascade serve)"


def demo_admin_key(store: CascadeStore) -> str:
    """A new demo admin key; the earlier ones are revoked, so at most one is active."""
    from graph_models.models import to_epoch_us, utc_now
    from service.access.keys import Role, issue_key

    now = to_epoch_us(utc_now())
    for key in store.list_api_keys():
        if key.name == DEMO_KEY_NAME and key.revoked_at_us is None:
            store.revoke_api_key(key.id, at_us=now)
    _, text = issue_key(store, role=Role.admin, name=DEMO_KEY_NAME)
    audit(store, "serve --demo (new demo admin key)", 201)
    return text
