"""The Willems (2008) real multi-echelon supply chains as companies and supply links.

Source: S. P. Willems, "Data Set: Real-World Multiechelon Supply Chains Used for Inventory
Optimization", M&SOM 10(1):19-23, 2008 (38 chains; see `PROVENANCE.md` beside the data).
The data directory holds `willems_stages.csv` (chain, stageName, stageClassification, ...)
and `willems_arcs.csv` (chain, from, to), arcs pointing downstream (Part -> Manuf ->
Trans/Dist -> Retail); without them, the original `xml/NN.xml` files are read.

Mapping (one company per stage, one supply link per arc):

- chain NN becomes a focal company ``willems-NN`` that buys from each of the chain's demand
  stages (stages with no downstream arc);
- stage S of chain NN becomes company ``willems-NN:S``;
- arc ``from -> to`` becomes the link buyer ``to`` -> supplier ``from`` (the downstream
  stage buys from the upstream one);
- a stage's class gives its kind, and the category of every link to it as a supplier:
  Part (and its variant spelling Parts) and Manuf are manufacturers supplying
  ``components``; Trans is a ``service`` supplying ``logistics``; Dist and Retail are
  distributors supplying ``logistics``.

Examples
--------
>>> chain_id("1"), chain_id("07")
('01', '07')
>>> stage_company_id("01", "Part_0002")
'willems-01:Part_0002'
"""

from __future__ import annotations

import csv
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from graph_models.models import Company, CompanyKind, SupplyLink
from loaders.tabular import FileError, SourceRow

__all__ = ["STAGE_CLASSES", "WillemsChain", "chain_id", "read_willems", "stage_company_id",
           "willems_rows"]

STAGE_CLASSES: dict[str, tuple[CompanyKind, str]] = {
    "Part": (CompanyKind.manufacturer, "components"),
    "Parts": (CompanyKind.manufacturer, "components"),
    "Manuf": (CompanyKind.manufacturer, "components"),
    "Trans": (CompanyKind.service, "logistics"),
    "Dist": (CompanyKind.distributor, "logistics"),
    "Retail": (CompanyKind.distributor, "logistics"),
}
SOURCE_TAG = "willems2008"


@dataclass
class WillemsChain:
    """One chain as read: stages (name -> (class, source row)) and arcs (from, to, row)."""

    chain: str
    stages: dict[str, tuple[str, int]]
    arcs: list[tuple[str, str, int]]


def chain_id(text: str) -> str:
    """The two-digit chain number the data uses."""
    if not text.strip().isdigit():
        raise FileError(f"chain {text!r} is not a number (01 to 38)")
    return f"{int(text):02d}"


def focal_company_id(chain: str) -> str:
    return f"willems-{chain}"


def stage_company_id(chain: str, stage: str) -> str:
    return f"willems-{chain}:{stage}"


def read_willems(directory: Path, chain: str | None = None) -> list[WillemsChain]:
    """The chains in `directory` (all, or the one numbered `chain`), in chain order."""
    if not directory.is_dir():
        raise FileError(f"{directory} is not a directory")
    if (directory / "willems_stages.csv").is_file():
        chains = _read_csv(directory)
    else:
        chains = _read_xml(directory)
    if not chains:
        raise FileError(f"{directory} holds no Willems chain (willems_stages.csv, "
                        "willems_arcs.csv or xml/NN.xml)")
    if chain is None:
        return chains
    wanted = chain_id(chain)
    found = [c for c in chains if c.chain == wanted]
    if not found:
        raise FileError(f"no chain {wanted} in {directory} "
                        f"(chains {chains[0].chain} to {chains[-1].chain})")
    return found


def _read_csv(directory: Path) -> list[WillemsChain]:
    arcs_file = directory / "willems_arcs.csv"
    if not arcs_file.is_file():
        raise FileError(f"{arcs_file} is missing")
    chains: dict[str, WillemsChain] = {}
    with (directory / "willems_stages.csv").open(encoding="utf-8", newline="") as file:
        reader = csv.DictReader(file)
        for record in reader:
            held = chains.setdefault(record["chain"], WillemsChain(record["chain"], {}, []))
            held.stages[record["stageName"]] = (record["stageClassification"], reader.line_num)
    with arcs_file.open(encoding="utf-8", newline="") as file:
        reader = csv.DictReader(file)
        for record in reader:
            held = chains.setdefault(record["chain"], WillemsChain(record["chain"], {}, []))
            held.arcs.append((record["from"], record["to"], reader.line_num))
    return [chains[key] for key in sorted(chains)]


def _read_xml(directory: Path) -> list[WillemsChain]:
    folder = directory / "xml" if (directory / "xml").is_dir() else directory
    return [_xml_chain(path) for path in sorted(folder.glob("[0-9][0-9].xml"))]


def _xml_chain(path: Path) -> WillemsChain:
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise FileError(f"{path.name}: {exc}") from None
    chain = WillemsChain(path.stem, {}, [])
    for number, stage in enumerate(root.iter("stage"), start=1):
        chain.stages[stage.get("stageName", "")] = (stage.get("stageClassification", ""), number)
    for number, arc in enumerate(root.iter("arc"), start=1):
        chain.arcs.append((arc.get("from", ""), arc.get("to", ""), number))
    return chain


def willems_rows(chains: list[WillemsChain]) -> list[SourceRow]:
    """Company and link rows of the chains, numbered by their row in the source files."""
    rows: list[SourceRow] = []
    for chain in chains:
        rows.extend(_chain_rows(chain))
    return rows


def _chain_rows(chain: WillemsChain) -> list[SourceRow]:
    focal = focal_company_id(chain.chain)
    rows = [_row("companies", 0, Company(id=focal, name=f"Willems chain {chain.chain}",
                                         tags=[SOURCE_TAG, "focal"]))]
    for stage, (kind_class, number) in chain.stages.items():
        rows.append(_stage_row(chain.chain, stage, kind_class, number))
    buyers_of: defaultdict[str, int] = defaultdict(int)
    for supplier, buyer, number in chain.arcs:
        buyers_of[supplier] += 1
        category = _category(chain, supplier)
        rows.append(_row("links", number, SupplyLink(
            buyer_id=stage_company_id(chain.chain, buyer),
            supplier_id=stage_company_id(chain.chain, supplier), category=category)))
    for stage, (_, number) in chain.stages.items():
        if not buyers_of[stage]:  # a demand stage: the focal company buys from it
            rows.append(_row("links", number, SupplyLink(
                buyer_id=focal, supplier_id=stage_company_id(chain.chain, stage),
                category=_category(chain, stage))))
    return rows


def _stage_row(chain: str, stage: str, stage_class: str, number: int) -> SourceRow:
    if stage_class not in STAGE_CLASSES:
        return SourceRow("companies", number, {},
                         ("stageClassification", f"unknown stage class {stage_class!r}"))
    kind, _ = STAGE_CLASSES[stage_class]
    return _row("companies", number, Company(
        id=stage_company_id(chain, stage), name=f"{stage} (Willems chain {chain})", kind=kind,
        identifiers={"willems_chain": chain, "willems_stage": stage},
        tags=[SOURCE_TAG, f"stage:{stage_class}"]))


def _category(chain: WillemsChain, supplier: str) -> str:
    stage_class, _ = chain.stages.get(supplier, ("", 0))
    return STAGE_CLASSES.get(stage_class, (CompanyKind.other, "components"))[1]


def _row(section: str, number: int, model: Company | SupplyLink) -> SourceRow:
    return SourceRow(section, number, model.model_dump(mode="json"))
