"""`cascade export cmrt|emrt`: a company's rolled-up declaration in a blank RMI template the
user supplies. Registered on the export app by `service.cli.main`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from graph_models.models import utc_now
from loaders.tabular import FileError
from service.cli import shell
from service.http.errors import ServiceError

__all__ = ["register"]

CONTACTS = ("contact_name", "contact_email", "contact_phone")


def _export(template: str, request_id: str, company_id: str, blank: Path, out: Path,
            store: str | None) -> None:
    from service.minerals import rollup
    from service.minerals.files import (
        latest_files,
        require_company,
        require_minerals_request,
        supply_of,
    )
    from service.minerals.template import fill_template

    active = shell.open_store(shell.settings_for(store))
    try:
        request = require_minerals_request(active, request_id)
        supply = supply_of(active.load_network(), request)
        require_company(supply, company_id)
        files = latest_files(active, request_id)
        company = active.get_company(company_id)
        assert company is not None  # require_company found it
        rolled = next((d for d in rollup.declaration_of(files, supply, company_id)
                       if d.template == template), None)
        if rolled is None:
            shell.refuse(f"no relevant supplier of {company_id!r} filed an {template}")
        in_scope = {m.casefold() for m in rolled.metals}
        smelters = [s for s in rollup.consolidated_smelters(files, supply, company_id)
                    if s.metal.casefold() in in_scope]
        fields = {"name": company.name, "scope": "A. Company", "unique_id": company.id}
        fields |= {k: company.identifiers[k] for k in CONTACTS if k in company.identifiers}
        data = fill_template(blank.read_bytes(), rolled=rolled, company=fields,
                             smelters=smelters, effective=utc_now().date())
    except (ServiceError, FileError) as exc:
        shell.refuse(exc.detail if isinstance(exc, ServiceError) else exc.message)
    finally:
        active.close()
    out.write_bytes(data)
    shell.console.print(f"{template} of {company_id!r}: {len(rolled.sources)} supplier files, "
                        f"{len(smelters)} smelters, written to {out}")


RequestOption = Annotated[str, typer.Option("--request", help="The minerals request")]
CompanyOption = Annotated[str, typer.Option("--company", help="The company declaring")]
BlankOption = Annotated[Path, typer.Option("--template", exists=True, dir_okay=False,
                                           help="A blank RMI template (.xlsx) to fill")]
OutOption = Annotated[Path, typer.Option("--out", help="Where to write the filled file")]


def register(export_app: typer.Typer) -> None:
    @export_app.command("cmrt")
    def export_cmrt(request: RequestOption, company: CompanyOption, template: BlankOption,
                    out: OutOption, store: shell.StoreOption = None) -> None:
        """Fill a blank CMRT with the company's declaration rolled up from its cascade."""
        _export("CMRT", request, company, template, out, store)

    @export_app.command("emrt")
    def export_emrt(request: RequestOption, company: CompanyOption, template: BlankOption,
                    out: OutOption, store: shell.StoreOption = None) -> None:
        """Fill a blank EMRT with the company's declaration rolled up from its cascade."""
        _export("EMRT", request, company, template, out, store)
