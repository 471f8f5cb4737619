"""The demo data set: a focal company, ~300 suppliers over 6 tiers, every catalog policy
issued between 150 and 24 days ago and cascaded with a mix of forwards and answers; and the
writers that put a synthetic network into a store or a JSON file."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import IO, TypeVar

from pydantic import BaseModel

from graph_models.models import Company, PolicyRequest, Site, utc_now
from loaders.synthetic import ModelRows, SyntheticNetwork, generate_network, issue_and_cascade
from service.registry.catalog import POLICIES
from service.store.port import CascadeStore

__all__ = ["DEMO_PLACES", "catalog_requests", "demo_network", "dump_network_json",
           "load_demo_if_empty", "located", "write_network"]

BATCH = 1000
T = TypeVar("T")
Progress = Callable[[int], None]


def catalog_requests(
    issuer_id: str, count: int, *, prefix: str, now: datetime
) -> list[PolicyRequest]:
    """`count` requests of the catalog policies, issued from 150 to 24 days before `now`
    (one alone: 87 days). Past the end of the catalog come revised versions (`-r2`, ...),
    each superseding the previous one.

    Examples
    --------
    >>> from datetime import UTC
    >>> now = datetime(2026, 6, 1, tzinfo=UTC)
    >>> requests = catalog_requests("focal", 9, prefix="x", now=now)
    >>> [(r.id, r.supersedes) for r in requests[2:3] + requests[8:]]
    [('x-minerals-2026', 'x-conflict-minerals-2017'), ('x-bcp-r2', 'x-bcp')]
    >>> [f"{(now - r.issued_at).days} days" for r in requests[::8]]
    ['150 days', '24 days']
    """
    ids: list[str] = []
    requests = []
    for i in range(count):
        entry, revision = POLICIES[i % len(POLICIES)], i // len(POLICIES) + 1
        ids.append(f"{prefix}-{entry.catalog_id}" + (f"-r{revision}" if revision > 1 else ""))
        if revision > 1:
            supersedes: str | None = ids[i - len(POLICIES)]
        else:
            older = f"{prefix}-{entry.supersedes}"
            supersedes = older if entry.supersedes and older in ids else None
        age = 150 - 126 * i / (count - 1) if count > 1 else 87
        requests.append(PolicyRequest(
            id=ids[-1], topic=entry.topic, title=entry.title, issuer_id=issuer_id,
            issued_at=now - timedelta(days=age), version=entry.version,
            due_days=entry.due_days, valid_days=entry.valid_days, mandatory=entry.mandatory,
            applies_to=entry.applies_to, catalog_id=entry.catalog_id,
            description=entry.description, supersedes=supersedes,
        ))
    return requests


# Per country, a few (region, place, lat, lon): demo sites sit around these, so an
# earthquake near Tokyo (JP-13, 35.69 N 139.69 E) hits some of the demo suppliers.
DEMO_PLACES: dict[str, list[tuple[str, str, float, float]]] = {
    "JP": [("JP-13", "Tokyo", 35.69, 139.69), ("JP-14", "Kawasaki", 35.53, 139.70),
           ("JP-23", "Nagoya", 35.18, 136.91), ("JP-27", "Osaka", 34.69, 135.50)],
    "CN": [("CN-SH", "Shanghai", 31.23, 121.47), ("CN-GD", "Shenzhen", 22.54, 114.06)],
    "TW": [("TW-TPE", "Taipei", 25.03, 121.57), ("TW-HSZ", "Hsinchu", 24.80, 120.97)],
    "KR": [("KR-11", "Seoul", 37.57, 126.98)], "VN": [("VN-SG", "Ho Chi Minh City", 10.82, 106.63)],
    "TH": [("TH-10", "Bangkok", 13.76, 100.50)], "MY": [("MY-07", "Penang", 5.41, 100.33)],
    "DE": [("DE-BY", "Munich", 48.14, 11.58)], "US": [("US-CA", "San Jose", 37.34, -121.89)],
    "MX": [("MX-JAL", "Guadalajara", 20.66, -103.35)], "IN": [("IN-KA", "Bengaluru", 12.97, 77.59)],
    "ID": [("ID-JK", "Jakarta", -6.21, 106.85)], "PH": [("PH-00", "Manila", 14.60, 120.98)],
}


def located(company: Company) -> Company:
    """The company with one or two demo sites in its country (deterministic by id)."""
    places = DEMO_PLACES.get(company.country or "")
    if not places or company.sites:
        return company
    code = sum(map(ord, company.id))
    chosen = [places[code % len(places)]]
    if code % 5 == 0 and len(places) > 1:  # every fifth company has a second site
        chosen.append(places[(code + 1) % len(places)])
    sites = [Site(id=f"{company.id}-{n}", name=f"{place} site", country=company.country or "",
                  region=region, lat=round(lat + (code % 17 - 8) * 0.01, 4),
                  lon=round(lon + (code % 13 - 6) * 0.01, 4))
             for n, (region, place, lat, lon) in enumerate(chosen, start=1)]
    return company.model_copy(update={"sites": sites})


def demo_network(companies: int = 320, seed: int = 2026) -> SyntheticNetwork:
    net = generate_network(companies, seed=seed, tiers=6)
    build = net.companies.build
    net.companies = ModelRows(lambda row: located(build(row)), net.companies.rows)
    # Policies issued from 150 to 24 days ago: old ones are overdue, new ones pending.
    for request in catalog_requests(net.focal_id, len(POLICIES), prefix="demo", now=utc_now()):
        issue_and_cascade(net, request, seed=seed)
    return net


def _batches(items: Sequence[T], size: int = BATCH) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def write_network(
    store: CascadeStore, net: SyntheticNetwork, *, progress: Progress | None = None
) -> None:
    """Write a network into an empty store (`BulkLoad.load_new`); `progress(n)` after each
    n records."""
    store.load_new(net, progress=progress)


def dump_network_json(
    net: SyntheticNetwork, out: IO[str], *, progress: Progress | None = None
) -> None:
    """Write one JSON document `{"companies": [...], "links": [...], "requests": [...],
    "cascades": [...], "acknowledgements": [...]}` of the models' JSON form, streamed item
    by item so a million links never sit in memory as one string."""
    tick = progress or (lambda _: None)
    sections: dict[str, Sequence[BaseModel]] = {
        "companies": net.companies, "links": net.links, "requests": net.requests,
        "cascades": net.cascades, "acknowledgements": net.acknowledgements,
    }
    out.write("{")
    for number, (name, items) in enumerate(sections.items()):
        out.write(f'{", " if number else ""}"{name}": [')
        for start, batch in enumerate(_batches(items)):
            out.write((",\n" if start else "") + ",\n".join(m.model_dump_json() for m in batch))
            tick(len(batch))
        out.write("]")
    out.write("}\n")


def load_demo_if_empty(store: CascadeStore) -> bool:
    """Load the demo set on first start (an empty store); True if it loaded."""
    if store.list_companies(limit=1):
        return False
    write_network(store, demo_network())
    return True
