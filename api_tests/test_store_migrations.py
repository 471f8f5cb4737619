"""Schema versions: each migration step upgrades a database of the version before it, on
both stores, records its number, and does nothing when run again; `init_schema` runs only
the steps a database has not run."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api_tests.conftest import make_store
from api_tests.test_store_contract import (
    MINERALS,
    OLD_SQLITE_SCHEMA,
    changes,
    is_empty,
    seed_chain,
    seed_events,
)
from api_tests.test_store_snapshot import as_rows, expected, written_before_the_keys
from graph_models.models import Company, Site
from service.store.neo4j import migrations as neo4j_migrations
from service.store.port import CascadeStore, StoreUnavailable
from service.store.sqlite import SqliteStore
from service.store.sqlite import migrations as sqlite_migrations

# -- SQLite ------------------------------------------------------------------------------


def sqlite_upgrade(path: Path, until: int) -> list[int]:
    with sqlite3.connect(path, isolation_level=None) as conn:
        conn.execute("BEGIN IMMEDIATE")
        ran = sqlite_migrations.upgrade(conn, until=until)
        conn.execute("COMMIT")
    return ran


def test_a_new_sqlite_database_runs_every_step_once(tmp_path: Path) -> None:
    store = SqliteStore(str(tmp_path / "new.db"))
    assert store.schema_version() == 0
    store.init_schema()
    assert store.schema_version() == len(sqlite_migrations.STEPS) == 5
    assert sqlite_upgrade(tmp_path / "new.db", until=5) == []  # nothing left to run
    store.close()


def test_sqlite_step_1_creates_the_tables(tmp_path: Path) -> None:
    assert sqlite_upgrade(tmp_path / "empty.db", until=1) == [1]
    store = SqliteStore(str(tmp_path / "empty.db"))
    assert store.schema_version() == 1
    assert store.list_companies() == [] and store.list_api_keys() == []
    store.close()


def test_sqlite_step_2_starts_the_change_log_of_an_older_database(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(OLD_SQLITE_SCHEMA)  # revision 4, no log, no version
    assert sqlite_upgrade(path, until=1) == [1]
    store = SqliteStore(str(path))
    with pytest.raises(StoreUnavailable):  # no log yet: no revision columns
        store.changes_since(4)
    assert sqlite_upgrade(path, until=2) == [2]
    assert store.schema_version() == 2
    assert store.changes_since(3) is None  # the log starts at the upgrade
    assert is_empty(changes(store, 4))
    assert store.load_network().links == [("focal-jp", "acme-tier1", "components")]
    store.close()


def test_sqlite_step_3_keys_the_companies_of_an_older_database(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = written_before_the_keys(path)
    revision = old.revision()
    old.close()
    assert sqlite_upgrade(path, until=2) == [1, 2]  # tables there: nothing else changes
    with sqlite3.connect(path) as conn:
        assert "key" not in {row[1] for row in conn.execute("PRAGMA table_info(companies)")}
    assert sqlite_upgrade(path, until=3) == [3]
    with sqlite3.connect(path) as conn:
        unkeyed = conn.execute("SELECT count(*) FROM acknowledgements WHERE company_key IS NULL"
                               " OR company_key NOT IN (SELECT key FROM company_keys)")
        assert unkeyed.fetchone()[0] == 0
    store = SqliteStore(str(path))
    assert store.schema_version() == 3 and store.revision() == revision  # keys: no data
    assert as_rows(store.load_snapshot([MINERALS]), MINERALS) == expected(store, MINERALS)
    store.close()


def test_sqlite_step_4_gives_the_companies_of_an_older_database_sites(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(OLD_SQLITE_SCHEMA)  # a database from before sites
    assert sqlite_upgrade(path, until=3) == [1, 2, 3]
    with sqlite3.connect(path) as conn:
        revision = conn.execute("SELECT revision FROM store_meta").fetchone()[0]
        assert "sites" not in {row[1] for row in conn.execute("PRAGMA table_info(companies)")}
    assert sqlite_upgrade(path, until=4) == [4]
    store = SqliteStore(str(path))
    companies = store.list_companies()
    assert companies and all(company.sites == [] for company in companies)
    assert store.schema_version() == 4 and store.revision() == revision
    store.close()


def test_sqlite_step_5_creates_the_incidents_table(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    assert sqlite_upgrade(path, until=4) == [1, 2, 3, 4]
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE IF EXISTS incidents")  # a database of version 4 had none
    assert sqlite_upgrade(path, until=5) == [5]
    store = SqliteStore(str(path))
    assert store.list_incidents() == [] and store.schema_version() == 5
    store.close()


# -- Neo4j -------------------------------------------------------------------------------


@pytest.fixture
def neo4j_store(tmp_path: Path) -> Iterator[CascadeStore]:
    store = make_store("neo4j", tmp_path)
    yield store
    store.close()


def cypher(store: CascadeStore, statement: str, **params: Any) -> list[dict[str, Any]]:
    with store._driver.session(database=store.database) as session:  # type: ignore[attr-defined]
        return [record.data() for record in session.run(statement, params)]


def at_version(store: CascadeStore, version: int, *statements: str) -> None:
    """Leave the database as the version before step `version + 1` would: `statements`
    undo what the later steps did, and the version node says `version`."""
    for statement in statements:
        cypher(store, statement)
    cypher(store, "MERGE (v:SchemaVersion {id: 'main'}) SET v.version = $version",
           version=version)


def test_a_new_neo4j_database_runs_every_step_once(neo4j_store: CascadeStore) -> None:
    assert neo4j_store.schema_version() == len(neo4j_migrations.STEPS) == 6
    assert neo4j_migrations.upgrade(neo4j_store) == []  # type: ignore[arg-type]


def test_neo4j_step_1_creates_constraints_and_indexes(neo4j_store: CascadeStore) -> None:
    cypher(neo4j_store, "DROP CONSTRAINT schema_version_id")
    cypher(neo4j_store, "DROP INDEX cascade_cold_read")
    cypher(neo4j_store, "MATCH (v:SchemaVersion) DELETE v")
    assert neo4j_store.schema_version() == 0
    assert neo4j_migrations.upgrade(neo4j_store, until=1) == [1]  # type: ignore[arg-type]
    names = {row["name"] for row in cypher(neo4j_store, "SHOW INDEXES YIELD name")}
    assert {"schema_version_id", "cascade_cold_read"} <= names
    assert neo4j_store.schema_version() == 1


def test_neo4j_step_2_starts_the_change_log(neo4j_store: CascadeStore) -> None:
    seed_chain(neo4j_store)
    revision = neo4j_store.revision()
    at_version(neo4j_store, 1, "MATCH (r:StoreRevision) REMOVE r.log_from")
    assert neo4j_store.changes_since(revision) is None  # no log yet
    assert neo4j_migrations.upgrade(neo4j_store, until=2) == [2]  # type: ignore[arg-type]
    assert neo4j_store.changes_since(revision - 1) is None  # the log starts at the upgrade
    assert is_empty(changes(neo4j_store, revision))
    assert neo4j_store.schema_version() == 2


def test_neo4j_step_3_keys_the_companies(neo4j_store: CascadeStore) -> None:
    seed_chain(neo4j_store)
    at_version(neo4j_store, 2, "MATCH (c:Company) REMOVE c.key")
    assert neo4j_migrations.upgrade(neo4j_store, until=3) == [3]  # type: ignore[arg-type]
    [row] = cypher(neo4j_store, "MATCH (c:Company) WHERE c.key IS NULL RETURN count(c) AS n")
    assert row["n"] == 0 and neo4j_store.schema_version() == 3


def test_neo4j_step_4_keys_the_events(neo4j_store: CascadeStore) -> None:
    seed_chain(neo4j_store)
    seed_events(neo4j_store)
    at_version(neo4j_store, 3, "MATCH (e:Cascade) REMOVE e.from_key, e.to_key, e.sent_us",
               "MATCH (a:Acknowledgement) REMOVE a.company_key, a.at_us")
    revision = neo4j_store.revision()
    assert neo4j_migrations.upgrade(neo4j_store, until=4) == [4]  # type: ignore[arg-type]
    [row] = cypher(neo4j_store, "MATCH (e:Cascade) WHERE e.from_key IS NULL "
                                "OR e.sent_us IS NULL RETURN count(e) AS n")
    assert row["n"] == 0 and neo4j_store.schema_version() == 4
    assert neo4j_store.revision() == revision  # keys are not data
    assert as_rows(neo4j_store.load_snapshot([MINERALS]), MINERALS) == \
        expected(neo4j_store, MINERALS)


def test_neo4j_step_5_constrains_incident_ids(neo4j_store: CascadeStore) -> None:
    at_version(neo4j_store, 4, "DROP CONSTRAINT incident_id IF EXISTS")
    assert neo4j_migrations.upgrade(neo4j_store, until=5) == [5]  # type: ignore[arg-type]
    names = {row["name"] for row in cypher(neo4j_store, "SHOW CONSTRAINTS YIELD name")}
    assert "incident_id" in names and neo4j_store.schema_version() == 5


def test_neo4j_step_6_indexes_where_companies_are(neo4j_store: CascadeStore) -> None:
    seed_chain(neo4j_store)
    neo4j_store.upsert_companies([Company(id="sited-tier2", name="Sited", sites=[
        Site(id="a", name="Plant A", country="JP", region="JP-14")])])
    at_version(neo4j_store, 5, "DROP INDEX company_location",  # and the old null country
               "MATCH (c:Company) REMOVE c.sited",
               "MATCH (c:Company) WHERE c.country = '' REMOVE c.country")
    companies, revision = neo4j_store.list_companies(), neo4j_store.revision()
    assert neo4j_migrations.upgrade(neo4j_store, until=6) == [6]  # type: ignore[arg-type]
    [row] = cypher(neo4j_store, "MATCH (c:Company) WHERE c.country IS NULL "
                                "OR c.sited IS NULL RETURN count(c) AS n")
    names = {row["name"] for row in cypher(neo4j_store, "SHOW INDEXES YIELD name")}
    assert row["n"] == 0 and "company_location" in names
    found = neo4j_store.company_locations()
    assert found.countries == {c.id: c.country for c in companies}
    assert found.sites == {c.id: c.sites for c in companies if c.sites} != {}
    assert found.countries["sited-tier2"] is None
    assert neo4j_store.revision() == revision and neo4j_store.schema_version() == 6
