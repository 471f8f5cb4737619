"""The built-in request catalog: the focal company's guideline as issuable requests.

Facts from `shared/CATALOG.md` (supplier CSR guideline rev. 5 and the 2026 responsible
mineral procurement policy); descriptions are ours. Defaults (due and validity days) are
suggestions a focal company can override when it issues a request.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from graph_models.models import Applicability

__all__ = ["CATALOG", "CatalogEntry", "catalog_entry"]

MATERIALS = Applicability(categories=["components", "raw_materials"])
ALL_LINKS = Applicability()


class CatalogEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    catalog_id: str
    topic: str
    title: str
    description: str
    applies_to: Applicability = ALL_LINKS
    mandatory: bool = True
    version: str = "1"
    due_days: int = 60
    valid_days: int | None = 365
    supersedes: str | None = None
    part: str = "policy"
    iso26000: str | None = None


POLICIES = [
    CatalogEntry(
        catalog_id="bcp", topic="business_continuity", title="Business continuity planning",
        description="Keep a business-continuity plan for your sites and tell us promptly when "
        "a disruption threatens supply; ask your own suppliers to do the same.",
    ),
    CatalogEntry(
        catalog_id="conflict-minerals-2017", topic="conflict_minerals",
        title="Conflict minerals (2017)",
        description="Do not use minerals whose sourcing finances armed groups in the DRC or "
        "its neighbouring countries.",
        applies_to=MATERIALS, version="2017",
    ),
    CatalogEntry(
        catalog_id="minerals-2026", topic="conflict_minerals",
        title="Responsible mineral procurement policy 2026",
        description="Covers tin, tantalum, tungsten, gold, cobalt and mica under OECD due "
        "diligence: agree to the policy, set your own responsible-minerals policy, put "
        "mechanisms in place that keep high-risk minerals out of products, confirm that "
        "products exclude them, and cooperate with CMRT/EMRT surveys.",
        applies_to=MATERIALS, supersedes="conflict-minerals-2017", version="2026",
    ),
    CatalogEntry(
        catalog_id="reach", topic="reach", title="REACH chemical information",
        description="Pass information on chemical substances in your products along the "
        "chain in both directions, as EU REACH requires.",
        applies_to=MATERIALS,
    ),
    CatalogEntry(
        catalog_id="climate", topic="climate_change", title="Climate change disclosure",
        description="Disclose your CO2 emission data and your business-continuity plan.",
    ),
    CatalogEntry(
        catalog_id="construction-ohs", topic="construction_safety",
        title="Safety in hazardous construction work",
        description="Protect workers on hazardous construction work (training, safety "
        "equipment, site supervision) and pass the same duty to your subcontractors.",
        applies_to=Applicability(categories=["construction"]),
    ),
    CatalogEntry(
        catalog_id="modern-slavery", topic="modern_slavery",
        title="Modern slavery and human trafficking",
        description="Run a management system that prevents modern slavery and human "
        "trafficking in your operations and ask your suppliers for the same.",
    ),
    CatalogEntry(
        catalog_id="csr-guideline", topic="csr_guideline", title="Supplier CSR guideline",
        description="Act on every Part-1 item of the supplier CSR guideline (governance, "
        "human rights and labour, safety, quality, information security, environment, "
        "fair trading) and cascade it upstream.",
        part="guideline", version="rev5",
    ),
]

# Part-1 action items: (id, label, ISO 26000 clause, essential?)
ACTION_ITEMS: list[tuple[str, str, str | None, bool]] = [
    ("I-1", "Promote CSR activities", "6.2", True),
    ("I-2", "Effective whistle-blowing system", "6.3/6.6", True),
    ("I-3", "Contribute to society and community", "6.8", True),
    ("II-1", "Prohibit forced labour", "6.3", True),
    ("II-2", "Prohibit inhumane treatment", "6.3", True),
    ("II-3", "Prohibit child labour", "6.3", True),
    ("II-4", "Prohibit discrimination", "6.3", True),
    ("II-5", "Pay appropriate wages", "6.4", True),
    ("II-6", "Control working hours", "6.4", True),
    ("II-7", "Respect freedom of association", "6.3", True),
    ("II-8", "Consider minorities", "6.3", True),
    ("II-9", "Protect foreign employees", "6.3", True),
    ("III-1", "Safety of equipment", "6.4", True),
    ("III-2", "Safe workplace", "6.4", True),
    ("III-3", "Workplace hygiene", "6.4", True),
    ("III-4", "Occupational injury and illness", "6.4", True),
    ("III-5", "Disasters and accidents", "6.4", True),
    ("III-6", "Physically demanding work", "6.4", True),
    ("III-7", "Safety and hygiene in company facilities", "6.4", True),
    ("III-8", "Health programmes for employees", "6.4", True),
    ("IV-1", "Ensure product safety", "6.7", True),
    ("IV-2", "Quality management system", "6.7", True),
    ("V-1", "Secure networks against threats", "6.7", True),
    ("V-2", "Prevent leakage of personal information", "6.7", True),
    ("V-3", "Prevent leakage of confidential information", "6.7", True),
    ("VI-1", "Environmental management system and permits", "6.5", True),
    ("VI-2", "Control pollutants used in manufacturing", "6.5", True),
    ("VI-3", "Product environmental assessment", "6.5", False),
    ("VI-4", "Climate change", "6.5", False),
    ("VI-5", "Global environmental conservation", "6.5", False),
    ("VI-6", "Green purchasing", "6.5", False),
    ("VI-7", "Disclose environmental information", "6.5", False),
    ("VI-8", "Biodiversity", "6.5", False),
    ("VI-9", "Control pollutants contained in products", "6.5", True),
    ("VI-10", "Design for resource and energy conservation", "6.5", False),
    ("VI-11", "Design for long life", "6.5", False),
    ("VI-12", "Use recycled parts and materials", "6.5", False),
    ("VI-13", "Use recyclable materials", "6.5", False),
    ("VI-14", "Label plastic types", "6.5", False),
    ("VII-1", "Prohibit corruption and bribery", "6.6", True),
    ("VII-2", "Prohibit abuse of a superior position", "6.6", True),
    ("VII-3", "Prohibit offering or receiving inappropriate benefits", "6.6", True),
    ("VII-4", "Do not impede free competition", "6.6", True),
    ("VII-5", "Accurate information on products and services", "6.7", True),
    ("VII-6", "Respect intellectual property", "6.6", True),
    ("VII-7", "Appropriate export procedures", "6.6", True),
    ("VII-8", "Disclose appropriate company information", None, True),
]


def _action_item(item_id: str, label: str, clause: str | None, essential: bool) -> CatalogEntry:
    kind = "an essential" if essential else "a recommended"
    return CatalogEntry(
        catalog_id=f"csr-{item_id}", topic="csr_guideline", title=f"{item_id} {label}",
        description=f"{label}: {kind} item of the supplier CSR guideline, to act on and "
        "cascade upstream.",
        mandatory=essential, part="action_item", iso26000=clause,
    )


CATALOG: list[CatalogEntry] = POLICIES + [_action_item(*item) for item in ACTION_ITEMS]
_BY_ID = {entry.catalog_id: entry for entry in CATALOG}


def catalog_entry(catalog_id: str) -> CatalogEntry | None:
    return _BY_ID.get(catalog_id)
