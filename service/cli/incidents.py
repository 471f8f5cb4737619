"""`cascade incident ...`: an incident's exposure for a root company, in the terminal."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from service.cli import shell
from service.incidents.schemas import ExposureRead

incident_app = typer.Typer(help="Incidents: exposure of a root company.", no_args_is_help=True)


@incident_app.command("exposure")
def exposure(
    incident_id: str,
    root: Annotated[str, typer.Option("--root", help="The root company")],
    categories: Annotated[str | None, typer.Option(
        help="Only links of these categories, comma-separated")] = None,
    store: shell.StoreOption = None,
) -> None:
    """Print the exposed companies per tier and per direct supplier."""
    from service.coverage.snapshot import CoverageSnapshot
    from service.http.errors import ServiceError
    from service.incidents import service as incidents
    from service.incidents.atlas import IncidentAtlas

    active = shell.open_store(shell.settings_for(store))
    try:
        atlas = IncidentAtlas(active, CoverageSnapshot(active))
        listed = [c.strip() for c in categories.split(",") if c.strip()] if categories else None
        found = incidents.exposure(atlas=atlas, incident_id=incident_id, root=root,
                                   categories=listed, as_of=None)
    except ServiceError as exc:
        shell.refuse(exc.detail)
    finally:
        active.close()
    for table in exposure_tables(found):
        shell.console.print(table)
    shell.console.print(f"exposed {found.exposed}  paths {found.paths.exposed}/"
                        f"{found.paths.total} through the area  BCP request "
                        f"{found.bcp.request_id or '-'} {found.bcp.states}")


def exposure_tables(found: ExposureRead) -> list[Table]:
    tiers = Table(title=f"incident {found.incident_id}: exposed companies of {found.root}")
    tiers.add_column("tier", justify="right")
    tiers.add_column("exposed", justify="right")
    for row in found.tiers:
        tiers.add_row(str(row.tier), str(row.exposed))
    tier1 = Table(title="through the direct suppliers")
    for column in ("supplier", "exposed upstream", "nearest tier"):
        tier1.add_column(column, justify="left" if column == "supplier" else "right")
    for s in found.tier1:
        tier1.add_row(s.company_id, str(s.exposed_upstream), str(s.min_tier))
    return [tiers, tier1]
