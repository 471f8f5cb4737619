"""The command line and the demo data set, as a first-time user meets them."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
from typer.testing import CliRunner

from graph_models.models import AckStatus, NodeState, utc_now
from graph_models.reference.analysis import analyse_coverage, supply_graph
from loaders.demo import demo_network, load_demo_if_empty
from service.cli.main import app
from service.registry.catalog import POLICIES
from service.store.port import CascadeStore

runner = CliRunner()


def test_demo_network_is_realistic() -> None:
    net = demo_network()
    graph = supply_graph({c.id: c.kind.value for c in net.companies}, net.links)
    tiers = nx.single_source_shortest_path_length(graph, net.focal_id)
    assert 250 <= len(net.companies) <= 500
    assert max(tiers.values()) >= 5
    assert len(tiers) == len(net.companies)  # every supplier hangs off the focal company
    assert not nx.is_directed_acyclic_graph(graph)  # some cycles, as in real data
    assert {r.topic for r in net.requests} == {p.topic for p in POLICIES}
    assert {a.status for a in net.acknowledgements} == set(AckStatus)


def test_demo_has_every_kind_of_standing() -> None:
    net = demo_network()
    graph = supply_graph({c.id: c.kind.value for c in net.companies}, net.links)
    seen: set[NodeState] = set()
    for request in net.requests:
        analysis = analyse_coverage(graph, request, net.cascades, net.acknowledgements, utc_now())
        seen |= set(analysis.states.values())
    wanted = {NodeState.acknowledged, NodeState.pending, NodeState.overdue,
              NodeState.declined, NodeState.unreached, NodeState.not_applicable}
    assert wanted <= seen


def test_demo_loads_once(store: CascadeStore) -> None:
    assert load_demo_if_empty(store) is True
    revision = store.revision()
    assert load_demo_if_empty(store) is False  # a restart does not load it twice
    assert store.revision() == revision
    assert store.get_request("demo-minerals-2026") is not None


def test_catalog_command_lists_every_policy() -> None:
    result = runner.invoke(app, ["catalog"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for entry in POLICIES:
        assert entry.catalog_id in result.output


def test_init_schema_and_coverage_commands(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert runner.invoke(app, ["init-schema", "--store", url]).exit_code == 0
    assert runner.invoke(app, ["init-schema", "--store", url]).exit_code == 0  # idempotent
    from service.store.sqlite import SqliteStore

    store = SqliteStore(url.removeprefix("sqlite:///"))
    load_demo_if_empty(store)
    store.close()
    result = runner.invoke(app, ["coverage", "demo-bcp", "--store", url], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "coverage of demo-bcp" in result.output
    assert "unreached" in result.output and "gaps" in result.output


def test_coverage_command_reports_unknown_request(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert runner.invoke(app, ["init-schema", "--store", url]).exit_code == 0
    result = runner.invoke(app, ["coverage", "no-such-request", "--store", url])
    assert result.exit_code == 1
    assert "no request 'no-such-request'" in result.output


def test_coverage_command_refuses_naive_as_of(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    result = runner.invoke(app, ["coverage", "x", "--store", url, "--as-of", "2026-01-01T00:00"])
    assert result.exit_code == 2
    assert "timezone" in result.output


def test_unreachable_neo4j_fails_with_a_clear_message() -> None:
    env = {"CASCADE_NEO4J_CONNECT_TIMEOUT": "1"}
    result = runner.invoke(app, ["init-schema", "--store", "bolt://127.0.0.1:9"], env=env)
    assert result.exit_code == 2
    assert "cannot reach the store bolt://127.0.0.1:9" in result.output
    assert "Traceback" not in result.output
