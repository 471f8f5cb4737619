"""`load_snapshot`, the coverage engine's cold read, on both stores: it holds exactly what
`load_network` and `request_events` hold; and on each store, the upgrade that gives an
older database its integer company keys loses nothing.
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from api_tests.conftest import make_store
from api_tests.test_store_contract import (
    BETA,
    CHAIN_LINKS,
    FOCAL,
    MINERALS,
    answer,
    cascade,
    policy,
    random_write,
    seed_chain,
    seed_events,
)
from graph_models.models import Company, Site
from service.store.port import ACK_STATUSES, CascadeStore, Snapshot
from service.store.sqlite import SqliteStore


def as_rows(snapshot: Snapshot, request_id: str) -> tuple[object, ...]:
    """The snapshot in the shapes of `load_network` and `request_events` (an index of
    the ids read alongside must be theirs)."""
    ids = snapshot.ids
    assert snapshot.index in (None, {cid: i for i, cid in enumerate(ids)})
    kinds = dict(zip(ids, snapshot.kinds, strict=True))
    links = sorted(
        (ids[b], ids[s], snapshot.categories[c])
        for b, s, c in zip(snapshot.buyer, snapshot.supplier, snapshot.category, strict=True)
    )
    events = snapshot.events[request_id]
    cascades = sorted(
        ((ids[f], ids[t], int(sent)) for f, t, sent in
         zip(events.cascade_from, events.cascade_to, events.cascade_sent, strict=True)),
        key=lambda row: (row[2], row[0], row[1]),
    )
    acks = sorted(
        ((ids[c], ACK_STATUSES[s], int(at), int(seq)) for c, s, at, seq in
         zip(events.ack_company, events.ack_status, events.ack_at, events.ack_seq, strict=True)),
        key=lambda row: row[3],
    )
    return snapshot.revision, kinds, links, cascades, acks


def expected(store: CascadeStore, request_id: str) -> tuple[object, ...]:
    network, events = store.load_network(), store.request_events(request_id)
    return network.revision, network.kinds, network.links, events.cascades, events.acknowledgements


def test_a_snapshot_holds_the_network_and_the_events_asked_for(store: CascadeStore) -> None:
    seed_chain(store)
    seed_events(store)
    store.create_request(policy("reach-2026", topic="reach", title="REACH information"))
    store.add_cascades([cascade("focal-jp", "acme-tier1", 2, "reach-2026")])
    store.add_acknowledgements([answer("acme-tier1", "declined", 4, "reach-2026")])
    store.upsert_companies([Company(id="lone-contractor", name="Lone", kind="contractor")])
    snapshot = store.load_snapshot([MINERALS, "reach-2026", "no-such-request", MINERALS])
    assert set(snapshot.events) == {MINERALS, "reach-2026", "no-such-request"}
    for request_id in (MINERALS, "reach-2026", "no-such-request"):
        assert as_rows(snapshot, request_id) == expected(store, request_id)
    assert snapshot.revision == store.revision()
    assert store.load_snapshot([]).events == {}


def test_an_empty_store_gives_an_empty_snapshot(store: CascadeStore) -> None:
    snapshot = store.load_snapshot([MINERALS])
    assert (snapshot.ids, snapshot.buyer.size, snapshot.revision) == ([], 0, 0)
    assert as_rows(snapshot, MINERALS) == (0, {}, [], [], [])


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_a_snapshot_follows_deletes_and_re_creations(store: CascadeStore, seed: int) -> None:
    rng = random.Random(seed)
    store.upsert_companies([FOCAL])
    store.create_request(policy())
    store.create_request(policy("reach-2026", topic="reach", title="REACH information"))
    for _ in range(8):
        for _ in range(rng.randint(1, 6)):
            random_write(store, rng)
        snapshot = store.load_snapshot([MINERALS, "reach-2026"])
        for request_id in (MINERALS, "reach-2026"):
            assert as_rows(snapshot, request_id) == expected(store, request_id)


# -- SQLite: integer company keys ----------------------------------------------------------


def written_before_the_keys(path: Path) -> SqliteStore:
    """A database as the version before the company keys left it: chain, events, a
    deleted company, at revision 8."""
    store = SqliteStore(str(path))
    store.init_schema()
    seed_chain(store)
    seed_events(store)
    store.upsert_companies([Company(id="gone-tier3", name="Gone")])
    store.delete_company("gone-tier3")
    store.close()
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE schema_version")  # the old version recorded none
        conn.execute("DROP TABLE company_keys")
        for table, column in [("companies", "key"), ("links", "buyer_key"),
                              ("links", "supplier_key"), ("cascades", "from_key"),
                              ("cascades", "to_key"), ("acknowledgements", "company_key")]:
            conn.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    return SqliteStore(str(path))


def everything(store: CascadeStore) -> tuple[object, ...]:
    return (store.revision(), store.list_companies(), store.list_links(), store.list_requests(),
            store.list_cascades(), store.list_acknowledgements(), store.changes_since(0))


def assert_upgrade_loses_nothing(store: CascadeStore) -> None:
    """`init_schema` (twice) keys an older store: same data, revision and change log, and
    the snapshot right before and after a new company joins."""
    before = everything(store)
    store.init_schema()
    store.init_schema()  # again: nothing left to do
    assert everything(store) == before
    assert as_rows(store.load_snapshot([MINERALS]), MINERALS) == expected(store, MINERALS)
    store.upsert_companies([BETA.model_copy(update={"id": "new-tier2"})])
    store.add_links([CHAIN_LINKS[0].model_copy(update={"supplier_id": "new-tier2"})])
    assert as_rows(store.load_snapshot([MINERALS]), MINERALS) == expected(store, MINERALS)


def test_an_older_database_gets_company_keys_and_loses_nothing(tmp_path: Path) -> None:
    old = written_before_the_keys(tmp_path / "old.db")
    assert_upgrade_loses_nothing(old)  # the old version's reads work on the old tables
    old.close()


def test_rows_an_older_worker_wrote_after_the_upgrade_are_keyed_on_read(
    tmp_path: Path,
) -> None:
    store = SqliteStore(str(tmp_path / "shared.db"))
    store.init_schema()
    seed_chain(store)
    seed_events(store)
    with sqlite3.connect(tmp_path / "shared.db") as conn:  # what the old INSERTs leave
        conn.execute("UPDATE companies SET key = NULL WHERE id = 'kanto-smelter'")
        conn.execute("DELETE FROM company_keys WHERE id = 'kanto-smelter'")
        conn.execute("UPDATE links SET supplier_key = NULL WHERE supplier_id = 'kanto-smelter'")
        conn.execute("UPDATE cascades SET to_key = NULL WHERE to_id = 'kanto-smelter'")
        conn.execute("UPDATE acknowledgements SET company_key = NULL")
    revision = store.revision()
    assert as_rows(store.load_snapshot([MINERALS]), MINERALS) == expected(store, MINERALS)
    assert store.revision() == revision and store.changes_since(revision).companies == {}
    store.close()


def test_answers_an_older_worker_wrote_are_read_by_id_behind_a_keyed_network(
    tmp_path: Path,
) -> None:
    """The network has its keys, an answer lacks its company's key: the snapshot comes
    back with its events still read, and they come by id, whole."""
    store = SqliteStore(str(tmp_path / "shared.db"))
    store.init_schema()
    seed_chain(store)
    seed_events(store)
    with sqlite3.connect(tmp_path / "shared.db") as conn:  # what an old INSERT leaves
        conn.execute("UPDATE acknowledgements SET company_key = NULL "
                     "WHERE company_id = 'beta-tier2'")
    rows = as_rows(store.load_snapshot([MINERALS]), MINERALS)
    assert rows == expected(store, MINERALS)
    assert any(ack[0] == "beta-tier2" for ack in rows[4])
    store.close()


def test_an_error_reading_sqlite_events_is_raised_where_they_are_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The snapshot comes back before its events are read: a failure reading them (a
    locked or unreadable file) is the port's error, raised where they are first used."""
    from service.store.errors import StoreUnavailable
    from service.store.sqlite import snapshot as sqlite_snapshot

    store = SqliteStore(str(tmp_path / "file.db"))
    store.init_schema()
    seed_chain(store)
    seed_events(store)

    def events_refused(*_: object) -> None:
        raise sqlite3.OperationalError("events refused")

    monkeypatch.setattr(sqlite_snapshot, "read_events", events_refused)
    snapshot = store.load_snapshot([MINERALS])
    assert (snapshot.revision, len(snapshot.buyer)) == (store.revision(), len(CHAIN_LINKS))
    with pytest.raises(StoreUnavailable, match="events refused"):
        snapshot.events[MINERALS]
    store.close()


def test_events_read_alongside_a_file_store_match_a_private_one(tmp_path: Path) -> None:
    on_file, in_memory = SqliteStore(str(tmp_path / "file.db")), SqliteStore(":memory:")
    for store in (on_file, in_memory):
        store.init_schema()
        seed_chain(store)
        seed_events(store)
    assert as_rows(on_file.load_snapshot([MINERALS]), MINERALS) == \
        as_rows(in_memory.load_snapshot([MINERALS]), MINERALS)
    on_file.close()
    in_memory.close()


def test_many_link_categories_are_coded_too(store: CascadeStore) -> None:
    suppliers = [Company(id=f"sup-{n:03d}", name=f"Supplier {n}") for n in range(80)]
    store.upsert_companies([FOCAL, *suppliers])
    store.add_links([CHAIN_LINKS[0].model_copy(update={"supplier_id": s.id,
                                                       "category": f"category {n}"})
                     for n, s in enumerate(suppliers)])
    store.create_request(policy())
    assert as_rows(store.load_snapshot([MINERALS]), MINERALS) == expected(store, MINERALS)


def with_an_id_with_a_slash(tmp_path: Path) -> SqliteStore:
    """The chain, and a company whose id holds "/" (refused by `CompanyId`) written by
    hand, in Japan."""
    store = SqliteStore(str(tmp_path / "hand.db"))
    store.init_schema()
    seed_chain(store)
    with sqlite3.connect(tmp_path / "hand.db") as conn:
        conn.execute("INSERT INTO company_keys (id) VALUES ('odd/one')")
        conn.execute("INSERT INTO companies (id, name, country, kind, identifiers, tags, "
                     "revision, key) VALUES ('odd/one', 'Odd', 'JP', 'other', '{}', "
                     "'[]', 9, (SELECT key FROM company_keys WHERE id = 'odd/one'))")
    return store


def test_an_id_with_a_slash_written_by_hand_is_read_too(tmp_path: Path) -> None:
    store = with_an_id_with_a_slash(tmp_path)
    assert as_rows(store.load_snapshot([MINERALS]), MINERALS) == expected(store, MINERALS)
    store.close()


def test_where_a_company_with_a_slash_in_its_id_is_is_read_too(tmp_path: Path) -> None:
    store = with_an_id_with_a_slash(tmp_path)
    countries = store.company_locations().countries
    with sqlite3.connect(tmp_path / "hand.db") as conn:
        rows = dict(conn.execute("SELECT id, country FROM companies").fetchall())
    assert countries["odd/one"] == "JP"
    assert countries == rows
    store.close()


# -- Neo4j: integer company keys -----------------------------------------------------------


WITHOUT_EVENT_KEYS = ("MATCH (e:Cascade) REMOVE e.from_key, e.to_key, e.sent_us",
                      "MATCH (a:Acknowledgement) REMOVE a.company_key, a.at_us",
                      "MATCH (v:SchemaVersion) DELETE v")  # the old version recorded none
COLD_READ_INDEXES = ("link_category", "cascade_cold_read", "ack_cold_read")


def run_cypher(store: CascadeStore, *statements: str) -> None:
    """What a database of the version before the keys (or a worker of it) leaves."""
    with store._driver.session(database=store.database) as session:  # type: ignore[attr-defined]
        for statement in statements:
            session.run(statement).consume()


@pytest.fixture
def neo4j_store(tmp_path: Path) -> Iterator[CascadeStore]:
    """Neo4j's company keys (SQLite's are tested above)."""
    store = make_store("neo4j", tmp_path)
    yield store
    store.close()


def test_an_older_neo4j_database_gets_company_keys_and_loses_nothing(
    neo4j_store: CascadeStore,
) -> None:
    store = neo4j_store
    seed_chain(store)
    seed_events(store)
    store.upsert_companies([Company(id="gone-tier3", name="Gone")])
    store.delete_company("gone-tier3")
    run_cypher(store, "MATCH (c:Company) REMOVE c.key",
               "MATCH (r:StoreRevision) REMOVE r.company_key",
               *WITHOUT_EVENT_KEYS, *(f"DROP INDEX {name}" for name in COLD_READ_INDEXES))
    assert_upgrade_loses_nothing(store)


def test_a_neo4j_database_with_company_keys_only_gets_event_keys(
    neo4j_store: CascadeStore,
) -> None:
    store = neo4j_store  # as the version before the event keys left it
    seed_chain(store)
    seed_events(store)
    run_cypher(store, *WITHOUT_EVENT_KEYS)
    assert_upgrade_loses_nothing(store)


def test_companies_an_older_worker_wrote_are_keyed_on_read(neo4j_store: CascadeStore) -> None:
    store = neo4j_store
    seed_chain(store)
    seed_events(store)
    run_cypher(store, "MATCH (c:Company {id: 'kanto-smelter'}) REMOVE c.key",
               "MATCH (e:Cascade {to_id: 'kanto-smelter'}) REMOVE e.to_key",
               "MATCH (a:Acknowledgement {company_id: 'kanto-smelter'}) REMOVE a.company_key")
    revision = store.revision()
    assert as_rows(store.load_snapshot([MINERALS]), MINERALS) == expected(store, MINERALS)
    run_cypher(store, "MATCH (c:Company {id: 'acme-tier1'}) REMOVE c.key")
    links = [(link.buyer_id, link.supplier_id, link.category) for link in store.list_links()]
    assert store.load_network().links == links  # acme-tier1's links too, in order
    assert store.revision() == revision and store.changes_since(revision).companies == {}


def test_where_companies_an_older_worker_wrote_are_is_read_too(
    neo4j_store: CascadeStore,
) -> None:
    """Companies without a key, or written before `sited` (so missing from the location
    index), are read from their records."""
    store = neo4j_store
    seed_chain(store)
    store.upsert_companies([Company(id="sited-tier2", name="Sited", country="DE", sites=[
        Site(id="b", name="Plant B", country="JP", region="JP-14", lat=35.5, lon=139.7),
        Site(id="a", name="Plant A", country="DE")]), Company(id="older-tier3", name="Older",
        sites=[Site(id="c", name="Plant C", country="FR")])])
    run_cypher(store, "MATCH (c:Company) WHERE c.id IN ['sited-tier2', 'acme-tier1'] "
                      "REMOVE c.key",
               "MATCH (c:Company {id: 'older-tier3'}) REMOVE c.sited, c.country")
    found = store.company_locations()
    companies = store.list_companies(limit=1000)
    assert found.countries == {c.id: c.country for c in companies}
    assert found.sites == {c.id: c.sites for c in companies if c.sites}
    assert {"sited-tier2", "older-tier3"} <= found.sites.keys()
    assert "acme-tier1" in found.countries


def test_events_an_older_worker_wrote_after_the_upgrade_are_keyed_on_read(
    neo4j_store: CascadeStore,
) -> None:
    store = neo4j_store
    seed_chain(store)
    seed_events(store)  # then an older worker's events and answers: no keys, no µs
    run_cypher(store, "MATCH (e:Cascade {from_id: 'acme-tier1'}) REMOVE e.from_key, e.sent_us",
               "MATCH (a:Acknowledgement {company_id: 'beta-tier2'}) REMOVE a.at_us")
    revision = store.revision()
    assert as_rows(store.load_snapshot([MINERALS]), MINERALS) == expected(store, MINERALS)
    assert store.revision() == revision and store.changes_since(revision).cascades == {}


def test_a_key_fill_hit_by_a_deadlock_is_run_again_and_completes(
    neo4j_store: CascadeStore, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two workers starting together on a database to upgrade fill the same events and
    may deadlock; the fill commits its own batches (the driver does not retry it), so the
    store runs it again instead of failing to start."""
    from neo4j.exceptions import Neo4jError

    from service.store.neo4j import queries as cypher

    store = neo4j_store
    seed_chain(store)
    seed_events(store)
    run_cypher(store, *WITHOUT_EVENT_KEYS)
    fills = []
    open_session = store._session  # type: ignore[attr-defined]

    def session_with_one_deadlock():  # type: ignore[no-untyped-def]
        session = open_session()
        run = session.run

        def deadlocking_once(query, *args, **kwargs):  # type: ignore[no-untyped-def]
            if query == cypher.FILL_CASCADE_KEYS:
                fills.append(query)
                if len(fills) == 1:
                    raise Neo4jError._hydrate_neo4j(
                        code="Neo.TransientError.Transaction.DeadlockDetected",
                        message="another worker holds these events")
            return run(query, *args, **kwargs)

        session.run = deadlocking_once
        return session

    monkeypatch.setattr(store, "_session", session_with_one_deadlock)
    store.init_schema()
    assert len(fills) == 2
    with store._driver.session(database=store.database) as session:  # type: ignore[attr-defined]
        unkeyed = session.run("MATCH (e:Cascade) WHERE e.from_key IS NULL OR e.sent_us IS NULL "
                              "RETURN count(e) AS events").single(strict=True)["events"]
    assert unkeyed == 0  # keyed by the start itself, not left to the first read


# -- Neo4j: the network read in two transactions at once, the events in the background ------


@pytest.fixture
def seeded_neo4j(neo4j_store: CascadeStore) -> CascadeStore:
    seed_chain(neo4j_store)
    seed_events(neo4j_store)
    return neo4j_store


def test_a_transient_error_in_the_two_transaction_read_falls_back_to_one(
    seeded_neo4j: CascadeStore, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from neo4j.exceptions import SessionExpired

    from service.store.neo4j import snapshot as neo4j_snapshot

    failures = []

    def links_lost(tx: object, *pages: object) -> None:
        failures.append(tx)
        raise SessionExpired("the links' connection dropped")

    monkeypatch.setattr(neo4j_snapshot, "link_columns", links_lost)
    snapshot = seeded_neo4j.load_snapshot([MINERALS])
    assert as_rows(snapshot, MINERALS) == expected(seeded_neo4j, MINERALS)
    # both halves of the links failed; the fallback is one managed transaction
    assert len(failures) == 2


def test_an_error_reading_the_events_is_raised_where_they_are_used(
    seeded_neo4j: CascadeStore, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from service.store.neo4j import snapshot as neo4j_snapshot

    def events_refused(tx: object, *args: object) -> None:
        raise RuntimeError("events refused")

    monkeypatch.setattr(neo4j_snapshot, "keyed_events_tx", events_refused)
    snapshot = seeded_neo4j.load_snapshot([MINERALS])
    assert (snapshot.revision, len(snapshot.buyer)) == (seeded_neo4j.revision(), len(CHAIN_LINKS))
    with pytest.raises(RuntimeError, match="events refused"):
        snapshot.events[MINERALS]


def test_events_read_over_many_key_pages_are_all_there(
    seeded_neo4j: CascadeStore, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each page's query is sent before the previous page is converted: with pages of two
    company keys, every request's events still come whole and to the right request."""
    from service.store.neo4j import snapshot as neo4j_snapshot

    seeded_neo4j.create_request(policy("reach-2026", topic="reach", title="REACH information"))
    seeded_neo4j.add_cascades([cascade("focal-jp", "acme-tier1", 2, "reach-2026")])
    seeded_neo4j.add_acknowledgements([answer("acme-tier1", "declined", 4, "reach-2026")])
    monkeypatch.setattr(neo4j_snapshot, "KEYS_PAGE", 2)
    wanted = [MINERALS, "no-such-request", "reach-2026"]
    snapshot = seeded_neo4j.load_snapshot(wanted)
    for request_id in wanted:
        assert as_rows(snapshot, request_id) == expected(seeded_neo4j, request_id)


def test_companies_read_over_many_key_pages_are_all_there(
    seeded_neo4j: CascadeStore, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Companies are read a page of keys at a time (all of them at once passed the
    server's transaction memory at 3.3M): with pages of two keys and a deleted company
    leaving a hole in the keys, the snapshot and the network by id hold every company and
    every link."""
    from service.store.neo4j import changelog

    seeded_neo4j.upsert_companies([Company(id="gone-tier3", name="Gone"),
                                   Company(id="late-tier3", name="Late", kind="smelter")])
    seeded_neo4j.delete_company("gone-tier3")
    monkeypatch.setattr(changelog, "COMPANIES_PAGE", 2)
    snapshot = seeded_neo4j.load_snapshot([MINERALS])
    assert as_rows(snapshot, MINERALS) == expected(seeded_neo4j, MINERALS)
    chain = {company for link in CHAIN_LINKS for company in (link.buyer_id, link.supplier_id)}
    assert {"late-tier3", *chain} <= set(snapshot.ids)
    assert "gone-tier3" not in snapshot.ids
