"""The rooms of ARCHITECTURE.md hold: imports go one way, no circles, no module too big."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("graph_models", "service", "loaders")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for package in PACKAGES for p in (ROOT / package).rglob("*.py")}


def imports_of(path: Path, known: set[str]) -> set[str]:
    """The project modules a module imports at its top level (not inside functions)."""
    found: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        found |= {n for n in names if n in known}
    return found


def import_graph() -> nx.DiGraph:
    found = modules()
    graph = nx.DiGraph()
    graph.add_nodes_from(found)
    for name, path in found.items():
        graph.add_edges_from((name, target) for target in imports_of(path, set(found)))
    return graph


def test_no_import_circle() -> None:
    graph = import_graph()
    # a package's __init__ importing its own modules is not a circle of rooms
    graph.remove_edges_from([(a, b) for a, b in graph.edges if b.startswith(f"{a}.")])
    assert list(nx.simple_cycles(graph)) == []


def test_the_engine_imports_nothing_of_the_shell() -> None:
    graph = import_graph()
    outward = [(a, b) for a, b in graph.edges
               if a.startswith("graph_models") and not b.startswith("graph_models")]
    assert outward == []


@pytest.mark.parametrize("room", ["registry", "ledger", "coverage", "access", "integrations",
                                  "ingest"])
def test_domain_services_reach_stores_only_through_ports(room: str) -> None:
    graph = import_graph()
    adapters = [(a, b) for a, b in graph.edges if a.startswith(f"service.{room}.")
                and (".sqlite" in b or ".neo4j" in b)]
    assert adapters == []


def test_service_holds_only_the_app_factory_at_its_top() -> None:
    top = sorted(p.name for p in (ROOT / "service").glob("*.py"))
    assert top == ["__init__.py", "app.py"]


def test_no_module_is_over_four_hundred_lines() -> None:
    sizes = {name: len(path.read_text().splitlines()) for name, path in modules().items()}
    assert {name: n for name, n in sizes.items() if n > 400} == {}
