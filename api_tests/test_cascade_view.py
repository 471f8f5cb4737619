"""A supplier's cascade view: the request as if company X had issued it, only X's chains
counting, and for X's integration key every company beyond X's direct suppliers hidden
behind a stable, per-viewer pseudonym.

The reference is a copy of the request issued by X, given only the cascade events on
chains starting at X, answered by the brute-force oracle (random graphs with cycles)."""

from __future__ import annotations

import csv
import io
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from typer.testing import CliRunner

from api_tests.conftest import bearer, make_store
from api_tests.oracle import Oracle, oracle, oracle_paths
from api_tests.test_engine_arrays import states_by_id
from api_tests.test_engine_properties import T0, Scenario, scenarios
from graph_models.models import (
    Acknowledgement,
    CascadeEvent,
    Company,
    PolicyRequest,
    SupplyLink,
)
from service.access.keys import Role
from service.app import create_app
from service.cli.main import app as cli
from service.config.settings import Settings
from service.coverage.pseudonyms import pseudonym
from service.coverage.snapshot import CoverageSnapshot
from service.store.port import CascadeStore
from service.store.sqlite import SqliteStore

ANON = re.compile(r"^anon-[0-9a-f]{16}$")
VIEW = "/v1/requests/{r}/companies/{c}/cascade"

# -- the reference -------------------------------------------------------------------------


def write(store: CascadeStore, s: Scenario, *, events: slice = slice(None),
          network: bool = True) -> None:
    """The scenario's network and requests (`network`), and a slice of its events."""
    if network:
        store.upsert_companies([Company(id=c, name=f"{c} Ltd", kind=k)  # type: ignore[arg-type]
                                for c, k in s.kinds.items()])
        store.add_links(s.links)
        store.create_request(s.request.model_copy(update={"id": "r1", "supersedes": None}))
        store.create_request(s.request)
    store.add_cascades(s.cascades[events])
    store.add_acknowledgements(sorted(s.acks, key=lambda a: a.seq)[events])


def stored_events(store: CascadeStore, request_id: str
                  ) -> tuple[list[CascadeEvent], list[Acknowledgement]]:
    return (store.list_cascades(request_id=request_id, limit=10_000),
            store.list_acknowledgements(request_id=request_id, limit=10_000))


def on_chains_from(company: str, cascades: list[CascadeEvent]) -> list[CascadeEvent]:
    """The events whose sender the company reaches by cascade events (itself included)."""
    reached, frontier = {company}, [company]
    while frontier:
        here = frontier.pop()
        for e in cascades:
            if e.from_id == here and e.to_id not in reached:
                reached.add(e.to_id)
                frontier.append(e.to_id)
    return [e for e in cascades if e.from_id in reached]


def reference(store: CascadeStore, s: Scenario, company: str) -> Oracle:
    """The coverage of a copy of the request issued by `company`, with only its chains."""
    cascades, acks = stored_events(store, s.request.id)
    copy = s.request.model_copy(update={"issuer_id": company})
    return oracle(s.kinds, s.links, copy, on_chains_from(company, cascades), acks, s.as_of)


def assert_view_is(view: dict[str, Any], gaps: list[dict[str, Any]], o: Oracle) -> None:
    """The API's view (`coverage` body and every gap) against the reference."""
    assert view["root_id"] == o.root
    inside = {v: state for v, state in o.states.items()}
    assert view["counts"] == {state: sum(1 for x in inside.values() if x == state)
                              for state in view["counts"]}
    expected_tiers: dict[int, dict[str, int]] = {}
    for v, tier in o.tiers.items():
        row = expected_tiers.setdefault(tier, {"companies": 0})
        row["companies"] += 1
        row[o.states[v]] = row.get(o.states[v], 0) + 1
    for row in view["tiers"]:
        assert {k: n for k, n in row.items() if n and k != "tier"} == expected_tiers.pop(
            row["tier"])
    assert expected_tiers == {}
    assert view["coverage_ratio"] == pytest.approx(o.coverage_ratio)
    assert {(g["from_id"], g["to_id"], g["impact"]) for g in gaps} == o.gaps
    assert view["gaps"] == len(gaps) == len(o.gaps)
    assert all(g["tier"] == o.tiers[g["to_id"]] for g in gaps)
    paths = oracle_paths(o, level="group")
    assert view["paths"] == {"total": paths.total, "covered": paths.covered,
                             "uncovered": paths.uncovered_count}


VIEW_PROPERTY = settings(max_examples=120, deadline=None,
                         suppress_health_check=[HealthCheck.too_slow])


@VIEW_PROPERTY
@given(scenarios(), st.integers(0, 8), st.integers(0, 12))
def test_a_view_is_the_request_issued_by_the_company_with_only_its_chains(
    s: Scenario, pick: int, split: int
) -> None:
    """Engine and snapshot cache on SQLite: a view read, more events written, the
    view read again (events folded into the cached view) equals the reference each time."""
    company = f"c{pick % len(s.kinds)}"
    store = make_store("sqlite", Path(tempfile.mkdtemp()))
    snapshot = CoverageSnapshot(store)
    for step, events in enumerate((slice(0, split), slice(split, None))):
        write(store, s, events=events, network=step == 0)
        analysis = snapshot.read_view(s.request.id, company, s.as_of).analysis
        o = reference(store, s, company)
        assert states_by_id(analysis) == o.states
        ids = analysis.scope.network.ids
        assert {ids[i] for i in analysis.covered.nonzero()[0]} == o.covered
        assert {(u, v, i) for u, v, _, i in analysis.gaps()} == o.gaps
        paths = oracle_paths(o, level="group")
        assert analysis.path_counts() == (paths.total, paths.covered)
        now = snapshot.read_view(s.request.id, company, None).analysis  # the cached "now"
        assert now.ledger.cascade_from.size == analysis.ledger.cascade_from.size
    store.close()


@pytest.mark.parametrize("kind", ["sqlite", "neo4j"])
@settings(max_examples=6, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(s=scenarios(cyclic=True), pick=st.integers(1, 8))
def test_the_view_over_http_is_the_reference_on_both_stores(
    kind: str, s: Scenario, pick: int
) -> None:
    company = f"c{pick % len(s.kinds)}"
    store = make_store(kind, Path(tempfile.mkdtemp()))
    try:
        write(store, s)
        with TestClient(create_app(Settings(), store=store)) as client:
            client.headers.update(bearer(store, Role.procurement))
            path = VIEW.format(r=s.request.id, c=company)
            when = {"as_of": s.as_of.isoformat()}
            view = client.get(path, params=when).json()
            gaps = client.get(f"{path}/gaps", params={**when, "limit": 1000}).json()["items"]
            assert_view_is(view, gaps, reference(store, s, company))
            if store.list_cascades(request_id=s.request.id, to_id=company, limit=1):
                assert_masked_for_the_supplier(client, store, s, company, gaps)
    finally:
        store.close()


def assert_masked_for_the_supplier(client: TestClient, store: CascadeStore, s: Scenario,
                                   company: str, gaps: list[dict[str, Any]]) -> None:
    """The supplier's key gets the staff answer with every company beyond its direct
    suppliers replaced by its pseudonym, and no other company id anywhere."""
    mine = bearer(store, Role.integration, company)
    path, when = VIEW.format(r=s.request.id, c=company), {"as_of": s.as_of.isoformat()}
    known = {company} | {lk.supplier_id for lk in s.links if lk.buyer_id == company}
    secret = Settings().pseudonym_secret.get_secret_value().encode()

    def show(c: str) -> str:
        return c if c in known else pseudonym(secret, s.request.id, company, c)

    masked = client.get(f"{path}/gaps", headers=mine, params={**when, "limit": 1000}).json()
    assert {(g["from_id"], g["to_id"], g["impact"]) for g in masked["items"]} == {
        (show(g["from_id"]), show(g["to_id"]), g["impact"]) for g in gaps}
    everything = [masked, client.get(path, headers=mine, params=when).json(),
                  client.get(f"{path}/uncovered-paths", headers=mine,
                             params={**when, "limit": 1000}).json()]
    named = {text for text in strings(everything) if text in s.kinds}
    assert named <= known


# -- a hand-drawn cascade --------------------------------------------------------------------
#
#   focal -> acme -> pcb -> tin (smelter) ; pcb -> resin -> pcb (a cycle) ; pcb -> focal
#   focal -> beta -> paint ; acme -> paint
# focal forwards to acme and beta; acme (accepted) to pcb (accepted); beta (accepted) to
# paint (accepted). In acme's view paint is unreached: only beta reached it.

COMPANIES = {"focal": "manufacturer", "acme": "manufacturer", "beta": "manufacturer",
             "pcb": "manufacturer", "paint": "manufacturer", "tin": "smelter",
             "resin": "manufacturer"}
LINKS = [("focal", "acme"), ("focal", "beta"), ("acme", "pcb"), ("acme", "paint"),
         ("beta", "paint"), ("pcb", "tin"), ("pcb", "resin"), ("resin", "pcb"),
         ("pcb", "focal")]
DAY = 86_400


def seed(store: CascadeStore, request_id: str = "minerals-1") -> None:
    from datetime import timedelta

    store.upsert_companies([
        Company(id=c, name=f"{c.title()} Secret Name", country="JP", kind=k,  # type: ignore[arg-type]
                identifiers={"duns": f"DUNS-{c}", "contact_email": f"{c}@example.com"})
        for c, k in COMPANIES.items()])
    store.add_links([SupplyLink(buyer_id=u, supplier_id=v) for u, v in LINKS])
    store.create_request(PolicyRequest(id=request_id, topic="conflict_minerals",
                                       title="Minerals", issuer_id="focal", issued_at=T0,
                                       due_days=30))
    day = timedelta(days=1)
    store.add_cascades([CascadeEvent(request_id=request_id, from_id=u, to_id=v,
                                     sent_at=T0 + n * day)
                        for n, (u, v) in enumerate([("focal", "acme"), ("focal", "beta"),
                                                    ("acme", "pcb"), ("beta", "paint")])])
    store.add_acknowledgements([Acknowledgement(request_id=request_id, company_id=c,
                                                status="accepted", at=T0 + 5 * day)  # type: ignore[arg-type]
                                for c in ("acme", "pcb", "beta", "paint")])


@pytest.fixture
def seeded(store: CascadeStore) -> Iterator[TestClient]:
    seed(store)
    seed(store, "minerals-2")
    with TestClient(create_app(Settings(), store=store)) as client:
        yield client


def as_key(client: TestClient, role: Role, company: str | None = None) -> dict[str, str]:
    return bearer(client.app.state.services.store, role, company)  # type: ignore[attr-defined]


def strings(body: Any) -> Iterator[str]:
    """Every string in a JSON body, keys included."""
    if isinstance(body, dict):
        for key, value in body.items():
            yield key
            yield from strings(value)
    elif isinstance(body, list):
        for value in body:
            yield from strings(value)
    elif isinstance(body, str):
        yield body


def bodies(client: TestClient, headers: dict[str, str], request_id: str, company: str,
           **params: str) -> dict[str, Any]:
    path = VIEW.format(r=request_id, c=company)
    return {"coverage": client.get(path, headers=headers, params=params).json(),
            "gaps": client.get(f"{path}/gaps", headers=headers, params=params).json(),
            "paths": client.get(f"{path}/uncovered-paths", headers=headers,
                                params=params).json()}


def test_staff_see_the_view_of_any_company_with_real_ids(seeded: TestClient) -> None:
    admin = as_key(seeded, Role.procurement)
    view = bodies(seeded, admin, "minerals-1", "acme")
    coverage = view["coverage"]
    assert coverage["root_id"] == "acme"
    assert coverage["counts"]["acknowledged"] == 1  # pcb; paint was reached by beta only
    tiers = {row["tier"]: row for row in coverage["tiers"]}
    assert tiers[1]["companies"] == 2 and tiers[1]["unreached"] == 1  # pcb, paint
    assert tiers[2]["companies"] == 3  # tin, resin, focal (pcb supplies focal)
    assert tiers[3]["companies"] == 1 and tiers[3]["unreached"] == 1  # beta
    gaps = {(g["from_id"], g["to_id"]) for g in view["gaps"]["items"]}
    assert gaps == {("acme", "paint"), ("pcb", "tin"), ("pcb", "resin"), ("pcb", "focal")}
    assert all(p["companies"][0] == "acme" for p in view["paths"]["items"])
    for role in (Role.admin, Role.viewer):
        assert bodies(seeded, as_key(seeded, role), "minerals-1", "acme") == view


def test_an_integration_key_sees_no_real_id_beyond_its_direct_suppliers(
    seeded: TestClient,
) -> None:
    mine = as_key(seeded, Role.integration, "acme")
    for as_of in ({}, {"as_of": "2026-03-01T00:00:00Z"}):
        view = bodies(seeded, mine, "minerals-1", "acme", **as_of)
        shown = set(strings(view))
        hidden = {"focal", "beta", "tin", "resin"}
        leaked = {text for text in shown for secret in hidden | {"Secret", "DUNS", "@"}
                  if secret in text.lower() or secret in text}
        assert leaked == set()
        companies = {c for p in view["paths"]["items"] for c in p["companies"]} | {
            g[k] for g in view["gaps"]["items"] for k in ("from_id", "to_id")}
        assert {c for c in companies if not ANON.match(c)} <= {"acme", "pcb", "paint"}
        assert len({c for c in companies if ANON.match(c)}) == 4  # tin, resin, focal, beta
    target = next(g["to_id"] for g in view["gaps"]["items"] if ANON.match(g["to_id"]))
    listed = seeded.get(VIEW.format(r="minerals-1", c="acme") + "/uncovered-paths",
                        headers=mine, params={"target": target}).json()["items"]
    assert listed and all(p["companies"][-1] == target for p in listed)
    refused = seeded.get(VIEW.format(r="minerals-1", c="acme") + "/uncovered-paths",
                         headers=mine, params={"target": "tin"})
    assert refused.status_code == 404  # a hidden company's real id names nothing


def hidden_names(body: Any) -> set[str]:
    return {text for text in strings(body) if ANON.match(text)}


def test_pseudonyms_are_stable_for_a_viewer_and_unlinkable_across_viewers(
    seeded: TestClient,
) -> None:
    acme = as_key(seeded, Role.integration, "acme")
    now = bodies(seeded, acme, "minerals-1", "acme")
    before_any_answer = bodies(seeded, acme, "minerals-1", "acme", as_of="2026-01-03T12:00:00Z")
    assert len(hidden_names(now)) == 4
    # every path is uncovered at both instants: the same paths under the same names
    assert [p["companies"] for p in before_any_answer["paths"]["items"]] == [
        p["companies"] for p in now["paths"]["items"]]
    assert hidden_names(bodies(seeded, acme, "minerals-1", "acme")) == hidden_names(now)
    other_request = hidden_names(bodies(seeded, acme, "minerals-2", "acme"))
    assert len(other_request) == 4 and not other_request & hidden_names(now)
    # beta and tin are hidden from both acme and pcb: never under the same name
    pcb = as_key(seeded, Role.integration, "pcb")
    seen_by_pcb = hidden_names(bodies(seeded, pcb, "minerals-1", "pcb"))
    assert seen_by_pcb and not seen_by_pcb & hidden_names(now)
    secret = Settings().pseudonym_secret.get_secret_value().encode()
    assert pseudonym(secret, "minerals-1", "acme", "tin") in hidden_names(now)


def test_an_integration_key_reads_only_its_own_view_of_requests_sent_to_it(
    seeded: TestClient, store: CascadeStore,
) -> None:
    acme = as_key(seeded, Role.integration, "acme")
    for path in ("", "/gaps", "/uncovered-paths", "/gaps.csv", "/gaps.xlsx"):
        own = seeded.get(VIEW.format(r="minerals-1", c="acme") + path, headers=acme)
        assert own.status_code == 200, (path, own.text)
        for request_id, company in [("minerals-1", "pcb"), ("minerals-1", "focal"),
                                    ("no-such", "acme"), ("minerals-1", "no-such")]:
            other = seeded.get(VIEW.format(r=request_id, c=company) + path, headers=acme)
            assert other.status_code == 404, (request_id, company, path)
    tin = as_key(seeded, Role.integration, "tin")  # no event ever reached tin
    assert seeded.get(VIEW.format(r="minerals-1", c="tin"), headers=tin).status_code == 404
    staff = as_key(seeded, Role.procurement)
    assert seeded.get(VIEW.format(r="minerals-1", c="tin"), headers=staff).status_code == 200
    unknown = seeded.get(VIEW.format(r="minerals-1", c="no-such"), headers=staff)
    assert unknown.status_code == 404 and "no-such" in unknown.json()["detail"]


def test_a_polled_view_is_a_cache_hit_with_an_etag(seeded: TestClient) -> None:
    mine = as_key(seeded, Role.integration, "acme")
    path = VIEW.format(r="minerals-1", c="acme")
    first = seeded.get(path, headers=mine)
    snapshot = seeded.app.state.services.coverage  # type: ignore[attr-defined]
    analyses = snapshot.analyses
    again = seeded.get(path, headers=mine, params={})
    assert again.json() == first.json() and snapshot.analyses == analyses
    held = seeded.get(path, headers={**mine, "If-None-Match": first.headers["ETag"]})
    assert held.status_code == 304
    staff = seeded.get(path, headers={**as_key(seeded, Role.procurement),
                                      "If-None-Match": first.headers["ETag"]})
    assert staff.status_code == 200  # real ids: another representation, another tag
    seeded.post("/v1/acknowledgements", headers=as_key(seeded, Role.procurement), json={
        "request_id": "minerals-1", "company_id": "pcb", "status": "declined",
        "at": "2026-02-01T00:00:00Z"})
    changed = seeded.get(path, headers={**mine, "If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200 and changed.json()["counts"]["declined"] == 1


def test_the_follow_up_export_holds_own_and_direct_supplier_gaps(seeded: TestClient) -> None:
    mine = as_key(seeded, Role.integration, "acme")
    path = VIEW.format(r="minerals-1", c="acme")
    text = seeded.get(f"{path}/gaps.csv", headers=mine).content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {r["responsible_id"] for r in rows} == {"acme", "pcb"}
    assert {r["missing_supplier_id"] for r in rows if r["responsible_id"] == "acme"} == {"paint"}
    hidden = [r for r in rows if r["responsible_id"] == "pcb"]
    assert len(hidden) == 3 and all(ANON.match(r["missing_supplier_id"]) for r in hidden)
    assert all(r["missing_supplier_name"] == "" and r["missing_supplier_country"] == "JP"
               for r in hidden)
    assert not {"focal", "beta", "tin", "resin", "DUNS"} & set(re.findall(r"[\w-]+", text))
    workbook = load_workbook(io.BytesIO(seeded.get(f"{path}/gaps.xlsx", headers=mine).content))
    cells = {str(c) for sheet in workbook for row in sheet.iter_rows(values_only=True)
             for c in row if c is not None}
    assert not {"focal", "beta", "tin", "resin"} & cells
    staff = seeded.get(f"{path}/gaps.csv", headers=as_key(seeded, Role.procurement)).text
    assert "tin" in staff and "Tin Secret Name" in staff


def test_the_cli_prints_a_companys_view(tmp_path: Path) -> None:
    db = tmp_path / "cli.db"
    store = SqliteStore(str(db))
    store.init_schema()
    seed(store)
    store.close()
    result = CliRunner().invoke(cli, ["coverage", "minerals-1", "--as", "acme",
                                      "--store", f"sqlite:///{db}"])
    assert result.exit_code == 0, result.output
    assert "from acme" in result.output  # 1 of 6 covered: pcb; paint was reached by beta
    assert "coverage 16.7%  gaps 4" in result.output
