"""`BulkLoad.load_new` on both stores: a whole network into an empty store reads back as
written, with answers numbered in order; a store holding data is refused; a load that
fails leaves nothing; a worker that followed the change log during the load ends up
with every row of it; and a network file loads whole only into an empty store. Slices
are made small so that the Neo4j load runs many transactions, two at a time."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from api_tests.conftest import make_store
from graph_models.models import Company, SupplyLink, utc_now
from loaders.demo import catalog_requests, dump_network_json
from loaders.synthetic import ModelRows, SyntheticNetwork, generate_network, issue_and_cascade
from service.ingest.service import import_file
from service.store.errors import StoreError
from service.store.neo4j import bulk as neo4j_bulk
from service.store.port import CascadeStore
from service.store.records import ChangeSet
from service.store.sqlite import bulk as sqlite_bulk

ALL = 10**6


@pytest.fixture(autouse=True)
def small_slices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(neo4j_bulk, "ROWS_PER_TX", 37)
    monkeypatch.setattr(sqlite_bulk, "BATCH", 37)


def network(companies: int = 400) -> SyntheticNetwork:
    net = generate_network(companies, seed=5, tiers=5)
    for request in catalog_requests(net.focal_id, 2, prefix="bulk", now=utc_now()):
        issue_and_cascade(net, request, seed=5)
    return net


def test_a_loaded_network_reads_back_as_written(store: CascadeStore) -> None:
    net = network()
    ticks: list[int] = []
    store.load_new(net, progress=ticks.append)
    rows = (len(net.companies) + len(net.links) + len(net.requests) + len(net.cascades)
            + len(net.acknowledgements))
    assert sum(ticks) == rows and len(ticks) > 10
    assert store.list_companies(limit=ALL) == sorted(net.companies, key=lambda c: c.id)
    assert sorted(store.list_links(limit=ALL), key=lambda link: link.key) == sorted(
        net.links, key=lambda link: link.key)
    assert store.list_requests() == sorted(net.requests, key=lambda r: r.id)
    assert {(e.request_id, e.from_id, e.to_id, e.sent_at)
            for e in store.list_cascades(limit=ALL)} == {
        (e.request_id, e.from_id, e.to_id, e.sent_at) for e in net.cascades}
    stored = sorted(store.list_acknowledgements(limit=ALL), key=lambda a: a.seq or 0)
    assert [a.seq for a in stored] == list(range(1, len(net.acknowledgements) + 1))
    assert [a.identity for a in stored] == [a.identity for a in net.acknowledgements]
    assert all(a.recorded_at is not None for a in stored)
    loaded = store.load_network()
    assert len(loaded.links) == len(net.links) and loaded.revision == store.revision() > 0


def test_writes_after_a_load_number_after_it(store: CascadeStore) -> None:
    net = network(60)
    store.load_new(net)
    store.upsert_companies([Company(id="late", name="Late Ltd", kind="manufacturer")])
    answer = net.acknowledgements[0].model_copy(update={"company_id": "late"})
    [(_, stored)] = store.add_acknowledgements([answer])
    assert stored.seq == len(net.acknowledgements) + 1
    store.add_links([SupplyLink(buyer_id=net.focal_id, supplier_id="late", category="parts")])
    assert store.load_network().revision == store.revision()
    assert len(store.load_network().links) == len(net.links) + 1


def test_a_store_holding_data_is_refused_and_keeps_it(store: CascadeStore) -> None:
    store.create_company(Company(id="acme", name="Acme", kind="manufacturer"))
    revision = store.revision()
    with pytest.raises(StoreError, match="needs an empty store"):
        store.load_new(network(60))
    assert [c.id for c in store.list_companies(limit=ALL)] == ["acme"]
    assert store.revision() == revision


def test_a_failed_load_leaves_nothing_behind(store: CascadeStore) -> None:
    net = network()
    broken = replace(net, links=ModelRows(net.links.build,
                                          [*net.links.rows, (net.focal_id, "nobody", "parts")]))
    with pytest.raises(StoreError):
        store.load_new(broken)
    assert store.list_companies(limit=ALL) == []
    assert store.list_links(limit=ALL) == [] and store.list_requests() == []
    assert store.list_cascades(limit=ALL) == [] and store.list_acknowledgements(limit=ALL) == []
    store.load_new(net)  # and the store takes a load again
    assert len(store.list_companies(limit=ALL)) == len(net.companies)


def test_a_repeated_id_undoes_a_neo4j_load(tmp_path: Path) -> None:
    store = make_store("neo4j", tmp_path)  # SQLite writes a repeated row over the first
    try:
        net = network(60)
        repeated = replace(net, companies=ModelRows(
            net.companies.build, [*net.companies.rows, net.companies.rows[-1]]))
        with pytest.raises(StoreError, match="the load was undone"):
            store.load_new(repeated)
        assert store.list_companies(limit=ALL) == []
    finally:
        store.close()


def test_a_worker_following_the_log_during_a_load_gets_all_of_it(store: CascadeStore) -> None:
    net = network()
    before = store.revision()
    seen: list[ChangeSet | None] = []

    def follow(_: int) -> None:  # a worker polling the log while the load runs
        if not seen:
            seen.append(store.changes_since(before, limit=ALL))

    store.load_new(net, progress=follow)
    [during] = seen
    assert during is not None
    after = store.changes_since(during.revision, limit=ALL)
    if after is not None:  # else the worker reads the store afresh: all of it
        assert set(during.companies) | set(after.companies) == {c.id for c in net.companies}
        assert set(during.links) | set(after.links) == {link.key for link in net.links}


def test_a_network_file_loads_whole_into_an_empty_store_only(
    store: CascadeStore, tmp_path: Path
) -> None:
    net = network()
    with (tmp_path / "net.json").open("w", encoding="utf-8") as out:
        dump_network_json(net, out)
    data = (tmp_path / "net.json").read_bytes()

    report = import_file(store=store, kind="network", filename="net.json", data=data,
                         posted_by="cli", whole=True)
    assert report.loaded and any("loaded whole" in note for note in report.notes)
    assert report.sections["links"] == Counter(created=len(net.links))
    answers = store.list_acknowledgements(limit=ALL)
    assert sorted(a.seq or 0 for a in answers) == list(range(1, len(net.acknowledgements) + 1))
    assert {a.posted_by for a in answers} == {"cli"}
    revision = store.revision()

    again = import_file(store=store, kind="network", filename="net.json", data=data,
                        posted_by="cli", whole=True)  # the store holds data: the ports
    assert not any("loaded whole" in note for note in again.notes)
    assert again.sections["links"] == Counter(unchanged=len(net.links))
    assert store.revision() == revision
