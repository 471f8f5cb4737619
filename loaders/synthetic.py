"""A seeded, realistic synthetic supply network for demos, tests and benchmarks.

Shape: a focal company at tier 0 and suppliers over `tiers` tiers whose sizes grow with
depth (x1.7 a tier up to tier 6, level beyond); every supplier has one buyer in the tier
below, so its tier is exactly its layer; extra links from buyers to shared suppliers of the
next tier create diamonds, fewer per buyer the deeper the tier; a few suppliers also buy
from their buyers (cycles). Deep tiers hold smelters and raw-material suppliers, shallow
ones manufacturers, distributors, contractors and service firms. Requests are cascaded tier
by tier with a configurable share of forwards and answers.

Scale: a network keeps compact rows and builds each pydantic model when it is read
(`ModelRows`), and links are drawn as integer pairs, so a million links take seconds and
a few hundred MB; written in batches, only one batch of models exists at a time.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar, overload

from pydantic import BaseModel

from graph_models.models import (
    Acknowledgement,
    AckStatus,
    CascadeEvent,
    Company,
    CompanyKind,
    PolicyRequest,
    SupplyLink,
)

__all__ = ["ModelRows", "SyntheticNetwork", "generate_network", "issue_and_cascade"]

COUNTRIES = ["JP", "CN", "TW", "KR", "VN", "TH", "MY", "DE", "US", "MX", "IN", "ID", "PH"]
CATEGORY_OF_KIND = {
    CompanyKind.manufacturer: "components",
    CompanyKind.distributor: "logistics",
    CompanyKind.smelter: "raw_materials",
    CompanyKind.contractor: "construction",
    CompanyKind.service: "services",
    CompanyKind.other: "components",
}
GROWTH, GROWTH_TIERS = 1.7, 5  # tier sizes grow x1.7 up to tier 6, then stay level
M = TypeVar("M", bound=BaseModel)


class ModelRows(Sequence[M], Generic[M]):
    """A read-only sequence of models kept as tuples and built on access: a frozen pydantic
    model costs ~500 bytes, its row about 70.

    Examples
    --------
    >>> links = ModelRows(_link, [("a", "b", "components")])
    >>> len(links), links[0].supplier_id, [lk.buyer_id for lk in links[:1]]
    (1, 'b', ['a'])
    """

    def __init__(self, build: Callable[[Any], M], rows: list[Any] | None = None) -> None:
        self.build = build
        self.rows: list[Any] = [] if rows is None else rows

    def __len__(self) -> int:
        return len(self.rows)

    @overload
    def __getitem__(self, index: int) -> M: ...
    @overload
    def __getitem__(self, index: slice) -> list[M]: ...
    def __getitem__(self, index: int | slice) -> M | list[M]:
        if isinstance(index, slice):
            return [self.build(row) for row in self.rows[index]]
        return self.build(self.rows[index])

    def __iter__(self) -> Iterator[M]:
        return map(self.build, self.rows)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ModelRows):
            return self.build is other.build and self.rows == other.rows
        return isinstance(other, Sequence) and list(self) == list(other)

    def __repr__(self) -> str:
        return f"ModelRows({len(self.rows)} rows)"


def _company(row: tuple[str, CompanyKind, str, int, int]) -> Company:
    cid, kind, country, code, tier = row
    if tier == 0:
        return Company(id=cid, name="Focal Electronics Group", country=country, kind=kind,
                       tags=["focal"])
    return Company(id=cid, name=f"{kind.value.title()} {cid.upper()}", country=country,
                   kind=kind, identifiers={"supplier_code": f"SC{code:07d}"},
                   tags=[f"tier-{tier}"])


def _link(row: tuple[str, str, str]) -> SupplyLink:
    return SupplyLink(buyer_id=row[0], supplier_id=row[1], category=row[2])


def _cascade(row: tuple[str, str, str, datetime]) -> CascadeEvent:
    return CascadeEvent(request_id=row[0], from_id=row[1], to_id=row[2], sent_at=row[3])


def _acknowledgement(row: tuple[str, str, AckStatus, datetime]) -> Acknowledgement:
    return Acknowledgement(request_id=row[0], company_id=row[1], status=row[2], at=row[3],
                           evidence={"note": "synthetic answer"})


@dataclass
class SyntheticNetwork:
    companies: ModelRows[Company]
    links: ModelRows[SupplyLink]
    tiers: list[list[str]]
    requests: list[PolicyRequest] = field(default_factory=list)
    cascades: ModelRows[CascadeEvent] = field(default_factory=lambda: ModelRows(_cascade))
    acknowledgements: ModelRows[Acknowledgement] = field(
        default_factory=lambda: ModelRows(_acknowledgement))

    @property
    def focal_id(self) -> str:
        return self.tiers[0][0]


def generate_network(
    companies: int = 300, *, seed: int = 7, tiers: int = 6, cycle_share: float = 0.01,
    prefix: str = "s", links: int | None = None,
) -> SyntheticNetwork:
    """A focal company and `companies - 1` suppliers over `tiers` tiers.

    Without `links` the network has its natural density (about 1.45 links a company);
    with it, exactly `links` links: `companies - 1` that hang every supplier off the focal
    company, about `cycle_share * links` from a supplier back to its buyer (cycles), the
    rest to shared suppliers (diamonds). Sizes that cannot fit raise `ValueError`.

    Examples
    --------
    >>> net = generate_network(50, seed=1, tiers=5)
    >>> len(net.companies), len(net.tiers), net.focal_id
    (50, 6, 'focal')
    >>> len(generate_network(1000, seed=1, tiers=12, links=2500).links)
    2500
    """
    if tiers < 1 or companies < tiers + 1:
        raise ValueError(f"{tiers} tiers need at least {tiers + 1} companies")
    if links is not None and links < companies - 1:
        raise ValueError(f"{companies} companies need at least {companies - 1} links")
    rng = random.Random(seed)
    sizes = [1, *_tier_sizes(companies, tiers)]
    rows = [("focal", CompanyKind.manufacturer, "JP", 0, 0)]
    layers: list[list[str]] = [["focal"]]
    for tier, size in enumerate(sizes[1:], start=1):
        layers.append([f"{prefix}{tier}-{i:05d}" for i in range(size)])
        rows += [(cid, _kind_for(tier, tiers, rng), rng.choice(COUNTRIES),
                  rng.randrange(10**7), tier) for cid in layers[-1]]
    ids = [row[0] for row in rows]
    category = [CATEGORY_OF_KIND[row[1]] for row in rows]
    n = len(ids)
    chain = [(ids[code // n], ids[code % n], category[code % n])
             for code in _link_codes(sizes, links, cycle_share, rng)]
    return SyntheticNetwork(ModelRows(_company, rows), ModelRows(_link, chain), layers)


def _tier_sizes(total: int, tiers: int) -> list[int]:
    """Sizes of tiers 1..`tiers` for `total` companies (the focal one included)."""
    weights = [GROWTH ** min(k, GROWTH_TIERS) for k in range(tiers)]
    spare = total - 1 - tiers  # every tier gets one company, the rest goes by weight
    sizes = [1 + int(spare * w / sum(weights)) for w in weights]
    sizes[-1] += total - 1 - sum(sizes)
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


def _fan_out(tier: int) -> int:
    """How many shared suppliers of `tier` a buyer adds at most: fewer the deeper."""
    return max(1, round(6 / tier))


def _link_codes(
    sizes: list[int], links: int | None, cycle_share: float, rng: random.Random
) -> list[int]:
    """Links as sorted codes `buyer * n + supplier` over companies numbered tier by tier."""
    starts = [sum(sizes[:t]) for t in range(len(sizes))]
    n = sum(sizes)
    tree = [(starts[t - 1] + int(rng.random() * sizes[t - 1]), s)
            for t in range(1, len(sizes)) for s in range(starts[t], starts[t] + sizes[t])]
    reversible = tree[sizes[1]:]  # links whose buyer is not the focal company
    natural = [sizes[t - 1] * _fan_out(t) / 2 for t in range(2, len(sizes))]
    free = [sizes[t - 1] * sizes[t] - sizes[t] for t in range(2, len(sizes))]
    back, shared = _budget(links, len(tree), len(reversible), natural, sum(free), cycle_share)
    codes = {b * n + s for b, s in tree}
    codes.update(s * n + b for b, s in rng.sample(reversible, back))
    for t, count in enumerate(_spread(shared, natural, free), start=2):
        _draw_shared(range(starts[t - 1], starts[t]), range(starts[t], starts[t] + sizes[t]),
                     count, codes, n, rng)
    return sorted(codes)


def _budget(
    links: int | None, tree: int, reversible: int, natural: list[float], free: int,
    cycle_share: float,
) -> tuple[int, int]:
    """How many back links (cycles) and shared-supplier links to add to the `tree` links."""
    if links is None:
        shared = min(round(sum(natural)), free)
        return min(round(cycle_share * (tree + shared)), reversible), shared
    if links > tree + reversible + free:
        raise ValueError(f"at most {tree + reversible + free} links fit {tree + 1} companies "
                         f"over {len(natural) + 1} tier(s)")
    back = max(1, round(cycle_share * links)) if cycle_share > 0 else 0
    back = min(back, links - tree, reversible)
    shared = min(links - tree - back, free)
    return links - tree - shared, shared  # a dense request: the surplus becomes cycles


def _spread(total: int, weights: list[float], caps: list[int]) -> list[int]:
    """Split `total` in proportion to `weights`, never above `caps` (sum(caps) >= total)."""
    shares = [0] * len(weights)
    open_ = [i for i, cap in enumerate(caps) if cap > 0]
    while total > 0 and open_:
        weight = sum(weights[i] for i in open_)
        grants = {i: min(caps[i] - shares[i], int(total * weights[i] / weight)) for i in open_}
        if not any(grants.values()):
            grants = {max(open_, key=weights.__getitem__): 1}
        for i, grant in grants.items():
            shares[i] += grant
        total -= sum(grants.values())
        open_ = [i for i in open_ if shares[i] < caps[i]]
    return shares


def _draw_shared(
    buyers: range, suppliers: range, count: int, codes: set[int], n: int, rng: random.Random
) -> None:
    """Add `count` new buyer -> supplier pairs between two adjacent tiers to `codes`."""
    if count <= 0:
        return
    if 2 * count > len(buyers) * len(suppliers) - len(suppliers):  # dense: pick from the rest
        rest = [code for b in buyers for s in suppliers if (code := b * n + s) not in codes]
        codes.update(rng.sample(rest, count))
        return
    target = len(codes) + count
    while len(codes) < target:  # sparse: at most half the pairs are taken, few retries
        codes.add((buyers.start + int(rng.random() * len(buyers))) * n
                  + suppliers.start + int(rng.random() * len(suppliers)))


def issue_and_cascade(
    net: SyntheticNetwork, request: PolicyRequest, *, forward_share: float = 0.8,
    answer_share: float = 0.75, seed: int = 11, as_of: datetime | None = None,
) -> None:
    """Cascade `request` tier by tier, forwarding and answering at random (seeded).

    With `as_of`, nothing later than that instant happens: a request issued recently has
    not travelled far yet, and no answer is dated in the future.
    """
    rng = random.Random(f"{seed}-{request.id}")
    kinds = {row[0]: row[1].value for row in net.companies.rows}
    applies = functools.cache(request.applies_to.applies)  # a few (category, kind) pairs
    suppliers: dict[str, list[str]] = {}
    for buyer, supplier, category in net.links.rows:
        if applies(category, kinds[supplier]):
            suppliers.setdefault(buyer, []).append(supplier)
    reached_at = {net.focal_id: request.issued_at}
    frontier = [net.focal_id]
    net.requests.append(request)
    cascades, answers = net.cascades.rows, net.acknowledgements.rows
    while frontier:
        nxt = []
        for buyer in frontier:
            for supplier in suppliers.get(buyer, []):
                if buyer != net.focal_id and rng.random() > forward_share:
                    continue
                sent = reached_at[buyer] + timedelta(days=rng.uniform(1, 12))
                if as_of is not None and sent > as_of:
                    continue
                cascades.append((request.id, buyer, supplier, sent))
                if supplier not in reached_at:
                    reached_at[supplier] = sent
                    nxt.append(supplier)
                    answers += _answer(request.id, supplier, sent, answer_share, rng, as_of)
        frontier = nxt


def _answer(
    request_id: str, company_id: str, reached: datetime, share: float, rng: random.Random,
    as_of: datetime | None,
) -> list[tuple[str, str, AckStatus, datetime]]:
    """The company's answer, if it gave one (by `as_of`)."""
    if rng.random() > share:
        return []
    roll = rng.random()
    status = AckStatus.accepted if roll < 0.8 else (
        AckStatus.declined if roll < 0.9 else AckStatus.received)
    at = reached + timedelta(days=rng.uniform(0.5, 20))
    return [] if as_of is not None and at > as_of else [(request_id, company_id, status, at)]
