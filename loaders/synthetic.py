"""A seeded, realistic synthetic supply network for demos, tests and benchmarks.

Shape: a focal company at tier 0 and suppliers over `tiers` tiers whose sizes grow with
depth; fan-out shrinks with depth; shared suppliers create diamonds; a few suppliers also
buy from their buyers (cycles). Deep tiers hold smelters and raw-material suppliers,
shallow ones manufacturers, distributors, contractors and service firms. Requests are
issued from the built-in catalog and cascaded tier by tier with a configurable share of
forwards and answers.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from graph_models.models import (
    Acknowledgement,
    AckStatus,
    CascadeEvent,
    Company,
    CompanyKind,
    PolicyRequest,
    SupplyLink,
)

__all__ = ["SyntheticNetwork", "generate_network", "issue_and_cascade"]

COUNTRIES = ["JP", "CN", "TW", "KR", "VN", "TH", "MY", "DE", "US", "MX", "IN", "ID", "PH"]
CATEGORY_OF_KIND = {
    CompanyKind.manufacturer: "components",
    CompanyKind.distributor: "logistics",
    CompanyKind.smelter: "raw_materials",
    CompanyKind.contractor: "construction",
    CompanyKind.service: "services",
    CompanyKind.other: "components",
}


@dataclass
class SyntheticNetwork:
    companies: list[Company]
    links: list[SupplyLink]
    tiers: list[list[str]]
    requests: list[PolicyRequest] = field(default_factory=list)
    cascades: list[CascadeEvent] = field(default_factory=list)
    acknowledgements: list[Acknowledgement] = field(default_factory=list)

    @property
    def focal_id(self) -> str:
        return self.tiers[0][0]


def _tier_sizes(total: int, tiers: int) -> list[int]:
    weights = [1.7**k for k in range(tiers)]
    sizes = [max(1, int((total - 1) * w / sum(weights))) for w in weights]
    sizes[-1] += (total - 1) - sum(sizes)
    return sizes


def _kind_for(tier: int, depth: int, rng: random.Random) -> CompanyKind:
    if tier >= depth - 1 and rng.random() < 0.5:
        return CompanyKind.smelter
    roll = rng.random()
    if tier <= 2 and roll < 0.12:
        return CompanyKind.contractor
    if roll < 0.22:
        return CompanyKind.distributor
    if roll < 0.28:
        return CompanyKind.service
    return CompanyKind.manufacturer


def _company(cid: str, tier: int, depth: int, rng: random.Random) -> Company:
    kind = _kind_for(tier, depth, rng)
    return Company(
        id=cid,
        name=f"{kind.value.title()} {cid.upper()}",
        country=rng.choice(COUNTRIES),
        kind=kind,
        identifiers={"supplier_code": f"SC{rng.randrange(10**7):07d}"},
        tags=[f"tier-{tier}"],
    )


def _tier_links(
    buyers: list[str], suppliers: list[str], kinds: dict[str, CompanyKind], tier: int,
    rng: random.Random,
) -> Iterator[SupplyLink]:
    """Every supplier gets one buyer; buyers get extra shared suppliers (diamonds)."""
    seen: set[tuple[str, str]] = set()
    fan_out = max(1, round(6 / tier))
    for s in suppliers:
        seen.add((rng.choice(buyers), s))
    for b in buyers:
        for s in rng.sample(suppliers, min(len(suppliers), rng.randint(0, fan_out))):
            seen.add((b, s))
    for b, s in sorted(seen):
        yield SupplyLink(buyer_id=b, supplier_id=s, category=CATEGORY_OF_KIND[kinds[s]])


def generate_network(
    companies: int = 300, *, seed: int = 7, tiers: int = 6, cycle_share: float = 0.01,
    prefix: str = "s", links: int | None = None,
) -> SyntheticNetwork:
    """A focal company and `companies - 1` suppliers over `tiers` tiers; with `links`,
    extra shared suppliers are added until about that many links exist.

    Examples
    --------
    >>> net = generate_network(50, seed=1, tiers=5)
    >>> len(net.companies), len(net.tiers), net.focal_id
    (50, 6, 'focal')
    """
    rng = random.Random(seed)
    focal = Company(id="focal", name="Focal Electronics Group", country="JP",
                    kind=CompanyKind.manufacturer, tags=["focal"])
    layers: list[list[str]] = [[focal.id]]
    people = [focal]
    for tier, size in enumerate(_tier_sizes(companies, tiers), start=1):
        layer = [f"{prefix}{tier}-{i:05d}" for i in range(size)]
        people += [_company(cid, tier, tiers, rng) for cid in layer]
        layers.append(layer)
    kinds = {c.id: c.kind for c in people}
    chain: list[SupplyLink] = []
    for tier in range(1, len(layers)):
        chain += _tier_links(layers[tier - 1], layers[tier], kinds, tier, rng)
    chain += _shared_links(layers, kinds, (links or 0) - len(chain), chain, rng)
    chain += _back_links(chain, kinds, cycle_share, rng)
    return SyntheticNetwork(people, chain, layers)


def _shared_links(
    layers: list[list[str]], kinds: dict[str, CompanyKind], count: int,
    existing: list[SupplyLink], rng: random.Random,
) -> list[SupplyLink]:
    """`count` more links between adjacent tiers (below tier 1), spread by tier size."""
    seen = {lk.key for lk in existing}
    deep = range(2, len(layers))
    weights = [len(layers[t]) for t in deep]
    added: list[SupplyLink] = []
    for _ in range(max(0, count) * 2):  # bounded: duplicates are skipped, not retried forever
        if len(added) >= count:
            break
        tier = rng.choices(deep, weights)[0]
        pair = (rng.choice(layers[tier - 1]), rng.choice(layers[tier]))
        if pair not in seen:
            seen.add(pair)
            added.append(SupplyLink(buyer_id=pair[0], supplier_id=pair[1],
                                    category=CATEGORY_OF_KIND[kinds[pair[1]]]))
    return added


def _back_links(
    links: list[SupplyLink], kinds: dict[str, CompanyKind], share: float, rng: random.Random
) -> list[SupplyLink]:
    """A supplier that also buys from its buyer: the cycles real data has."""
    picked = [lk for lk in links if lk.buyer_id != "focal" and rng.random() < share]
    return [
        SupplyLink(buyer_id=lk.supplier_id, supplier_id=lk.buyer_id,
                   category=CATEGORY_OF_KIND[kinds[lk.buyer_id]])
        for lk in picked
    ]


def issue_and_cascade(
    net: SyntheticNetwork, request: PolicyRequest, *, forward_share: float = 0.8,
    answer_share: float = 0.75, seed: int = 11,
) -> None:
    """Cascade `request` tier by tier, forwarding and answering at random (seeded)."""
    rng = random.Random(f"{seed}-{request.id}")
    suppliers: dict[str, list[SupplyLink]] = {}
    for lk in net.links:
        suppliers.setdefault(lk.buyer_id, []).append(lk)
    kinds = {c.id: c.kind.value for c in net.companies}
    reached_at = {net.focal_id: request.issued_at}
    frontier = [net.focal_id]
    net.requests.append(request)
    while frontier:
        nxt = []
        for buyer in frontier:
            for lk in suppliers.get(buyer, []):
                if not request.applies_to.applies(lk.category, kinds[lk.supplier_id]):
                    continue
                if buyer != net.focal_id and rng.random() > forward_share:
                    continue
                sent = reached_at[buyer] + timedelta(days=rng.uniform(1, 12))
                net.cascades.append(CascadeEvent(request_id=request.id, from_id=buyer,
                                                 to_id=lk.supplier_id, sent_at=sent))
                if lk.supplier_id not in reached_at:
                    reached_at[lk.supplier_id] = sent
                    nxt.append(lk.supplier_id)
                    _answer(net, request, lk.supplier_id, sent, answer_share, rng)
        frontier = nxt


def _answer(
    net: SyntheticNetwork, request: PolicyRequest, company_id: str, reached: datetime,
    share: float, rng: random.Random,
) -> None:
    if rng.random() > share:
        return
    roll = rng.random()
    status = AckStatus.accepted if roll < 0.8 else (
        AckStatus.declined if roll < 0.9 else AckStatus.received)
    net.acknowledgements.append(Acknowledgement(
        request_id=request.id, company_id=company_id, status=status,
        at=reached + timedelta(days=rng.uniform(0.5, 20)),
        evidence={"note": "synthetic answer"},
    ))

