"""`cascade generate`: a seeded synthetic network, its cascades and answers, written to a
store or to one JSON file, with a summary that matches what was written."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import networkx as nx
from typer.testing import CliRunner

from graph_models.models import Acknowledgement, CascadeEvent, Company, PolicyRequest, SupplyLink
from service.cli.main import app
from service.store.sqlite import SqliteStore

runner = CliRunner()
ALL = 10**7
SIZE = ["--companies", "3000", "--links", "9000"]


def generate(*args: str) -> tuple[int, str, dict[str, int]]:
    result = runner.invoke(app, ["generate", *args], env={"COLUMNS": "200"})
    summary = {name: int(value.replace(",", "")) for name, value in
               re.findall(r"^(\w+)\s+([\d,]+)\s*$", result.output, flags=re.MULTILINE)}
    return result.exit_code, result.output, summary


def stored_counts(url: str) -> dict[str, int]:
    store = SqliteStore(url.removeprefix("sqlite:///"))
    try:
        return {"companies": len(store.list_companies(limit=ALL)),
                "links": len(store.list_links(limit=ALL)),
                "requests": len(store.list_requests()),
                "cascades": len(store.list_cascades(limit=ALL)),
                "answers": len(store.list_acknowledgements(limit=ALL))}
    finally:
        store.close()


def test_summary_matches_the_store(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    code, output, summary = generate(*SIZE, "--seed", "1", "--requests", "3", "--store", url)
    assert code == 0, output
    assert summary["tiers"] == 8 and summary["requests"] == 3
    assert abs(summary["links"] - 9000) <= 9000 * 0.02
    assert summary["cascades"] > 0 and summary["answers"] > 0
    assert {k: v for k, v in summary.items() if k != "tiers"} == stored_counts(url)
    store = SqliteStore(url.removeprefix("sqlite:///"))
    trail = store.list_audit()
    store.close()
    assert [(e.method, e.status) for e in trail] == [("CLI", 201)]  # the load is audited
    assert trail[0].path.startswith(f"cascade generate {summary['companies']} companies")


def test_non_empty_store_is_refused_unless_replace(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    assert generate(*SIZE, "--seed", "1", "--store", url)[0] == 0
    before = stored_counts(url)
    code, output, _ = generate("--companies", "500", "--seed", "2", "--store", url)
    assert code == 1
    assert output.strip().splitlines() == [
        f"the store {url} already holds companies; pass --replace to clear it first"]
    assert stored_counts(url) == before
    code, output, summary = generate("--companies", "500", "--seed", "2", "--store", url,
                                     "--replace")
    assert code == 0, output
    assert stored_counts(url)["companies"] == summary["companies"] == 500


def test_json_output_parses_back_into_the_models(tmp_path: Path) -> None:
    out = tmp_path / "net.json"
    code, output, summary = generate(*SIZE, "--seed", "3", "--tiers", "11", "--requests", "9",
                                     "--out", str(out))
    assert code == 0, output
    document = json.loads(out.read_text())
    assert list(document) == ["companies", "links", "requests", "cascades", "acknowledgements"]
    companies = [Company.model_validate(c) for c in document["companies"]]
    links = [SupplyLink.model_validate(lk) for lk in document["links"]]
    requests = [PolicyRequest.model_validate(r) for r in document["requests"]]
    cascades = [CascadeEvent.model_validate(e) for e in document["cascades"]]
    answers = [Acknowledgement.model_validate(a) for a in document["acknowledgements"]]
    assert (len(companies), len(links), len(requests), len(cascades), len(answers)) == (
        summary["companies"], summary["links"], summary["requests"], summary["cascades"],
        summary["answers"])
    assert requests[-1].id == "gen-bcp-r2" and requests[-1].supersedes == "gen-bcp"
    graph = nx.DiGraph([lk.key for lk in links])
    distance = nx.single_source_shortest_path_length(graph, "focal")
    assert len(distance) == len(companies)  # every company hangs off the focal company
    assert set(distance.values()) == set(range(12))  # tiers 0..11
    assert any(n >= 2 for n in Counter(lk.supplier_id for lk in links).values())  # diamonds
    assert not nx.is_directed_acyclic_graph(graph)  # cycles


def test_same_seed_same_network_other_seed_another(tmp_path: Path) -> None:
    def network(seed: str, name: str) -> tuple[list[object], list[object]]:
        out = tmp_path / name
        assert generate("--companies", "2000", "--seed", seed, "--out", str(out))[0] == 0
        document = json.loads(out.read_text())
        return document["companies"], document["links"]

    assert network("7", "a.json") == network("7", "b.json")
    assert network("7", "c.json")[1] != network("8", "d.json")[1]


def test_existing_file_and_bad_sizes_are_refused(tmp_path: Path) -> None:
    out = tmp_path / "net.json"
    out.write_text("keep me")
    code, output, _ = generate("--companies", "100", "--seed", "1", "--out", str(out))
    assert (code, out.read_text()) == (1, "keep me")
    assert "exists; pass --replace" in output
    code, output, _ = generate("--companies", "100", "--seed", "1", "--links", "50",
                               "--store", f"sqlite:///{tmp_path / 'x.db'}")
    assert code == 2 and "100 companies need at least 99 links" in output
