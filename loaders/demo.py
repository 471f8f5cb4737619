"""The demo data set: a focal company, ~300 suppliers over 6 tiers, every catalog policy
issued between 150 and 24 days ago and cascaded with a mix of forwards and answers."""

from __future__ import annotations

from datetime import timedelta

from graph_models.models import PolicyRequest, utc_now
from loaders.synthetic import SyntheticNetwork, generate_network, issue_and_cascade
from service.catalog import POLICIES
from service.store.port import CascadeStore

__all__ = ["demo_network", "load_demo_if_empty", "write_network"]

BATCH = 1000


def demo_network(companies: int = 320, seed: int = 2026) -> SyntheticNetwork:
    net = generate_network(companies, seed=seed, tiers=6)
    now = utc_now()
    for age, entry in enumerate(POLICIES):
        # Policies issued from 150 to 24 days ago: old ones are overdue, new ones pending.
        request = PolicyRequest(
            id=f"demo-{entry.catalog_id}", topic=entry.topic, title=entry.title,
            issuer_id=net.focal_id, issued_at=now - timedelta(days=150 - 18 * age),
            version=entry.version, due_days=entry.due_days, valid_days=entry.valid_days,
            mandatory=entry.mandatory,
            applies_to=entry.applies_to, catalog_id=entry.catalog_id,
            description=entry.description,
            supersedes="demo-conflict-minerals-2017" if entry.supersedes else None,
        )
        issue_and_cascade(net, request, seed=seed)
    return net


def _batches(items: list, size: int = BATCH):  # type: ignore[no-untyped-def]
    for start in range(0, len(items), size):
        yield items[start : start + size]


def write_network(store: CascadeStore, net: SyntheticNetwork) -> None:
    """Write a network through the port, in batches."""
    for chunk in _batches(net.companies):
        store.upsert_companies(chunk)
    for chunk in _batches(net.links):
        store.add_links(chunk)
    for request in net.requests:
        if store.get_request(request.id) is None:
            store.create_request(request)
    for chunk in _batches(net.cascades):
        store.add_cascades(chunk)
    for chunk in _batches(net.acknowledgements):
        store.add_acknowledgements(chunk)


def load_demo_if_empty(store: CascadeStore) -> bool:
    """Load the demo set on first start (an empty store); True if it loaded."""
    if store.list_companies(limit=1):
        return False
    write_network(store, demo_network())
    return True
