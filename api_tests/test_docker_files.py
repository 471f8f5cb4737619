"""The deployment files say what a user relies on: compose brings the service up only on a
healthy, password-protected Neo4j with persistent data; the image serves on port 8000; the
local (Docker-free) Neo4j launcher stays on the 5.26 LTS line."""

from __future__ import annotations

import re
import shlex
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from service.cli import dev_neo4j

ROOT = Path(__file__).resolve().parents[1]
DOCKER = ROOT / "docker"
POM_NS = {"m": "http://maven.apache.org/POM/4.0.0"}


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's `${VAR:-default}` / `${VAR}` substitution (enough for our files)."""
    pattern = r"\$\{(\w+)(?::-([^}]*))?\}"
    return re.sub(pattern, lambda m: env.get(m[1]) or (m[2] or ""), value)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((DOCKER / "compose.yaml").read_text())


@pytest.fixture(scope="module")
def dockerfile() -> list[str]:
    """Dockerfile instructions, continuation lines joined."""
    text = (DOCKER / "Dockerfile").read_text().replace("\\\n", " ")
    return [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]


def instruction(lines: list[str], name: str) -> str:
    """The argument of the last `name` instruction (the one Docker uses)."""
    found = [line.split(None, 1)[1] for line in lines if line.split()[0].upper() == name]
    assert found, f"Dockerfile has no {name}"
    return found[-1]


def env_of(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: str(value) for key, value in env.items()}


def test_cascade_starts_only_after_neo4j_is_healthy(compose: dict[str, Any]) -> None:
    depends = compose["services"]["cascade"]["depends_on"]
    assert depends["neo4j"]["condition"] == "service_healthy"
    assert compose["services"]["cascade"]["restart"] in {"always", "unless-stopped", "on-failure"}


def test_neo4j_requires_a_password_shared_with_the_service(compose: dict[str, Any]) -> None:
    neo4j_env = env_of(compose["services"]["neo4j"])
    cascade_env = env_of(compose["services"]["cascade"])
    for env in ({}, {"NEO4J_PASSWORD": "s3cret-from-ci"}):
        user, _, password = interpolate(neo4j_env["NEO4J_AUTH"], env).partition("/")
        assert (user, password) != ("neo4j", "") and password != "none"
        assert interpolate(cascade_env["CASCADE_NEO4J_USER"], env) == user
        assert interpolate(cascade_env["CASCADE_NEO4J_PASSWORD"], env) == password
    assert interpolate(neo4j_env["NEO4J_AUTH"], {"NEO4J_PASSWORD": "x" * 9}) == "neo4j/" + "x" * 9


def test_neo4j_healthcheck_runs_a_query(compose: dict[str, Any]) -> None:
    check = compose["services"]["neo4j"]["healthcheck"]
    command = " ".join(check["test"])
    assert "cypher-shell" in command and "RETURN 1" in command
    assert check["retries"] >= 3


def test_neo4j_data_survives_container_replacement(compose: dict[str, Any]) -> None:
    mounts = [str(volume).split(":") for volume in compose["services"]["neo4j"]["volumes"]]
    named = [source for source, target, *_ in mounts if target == "/data"]
    assert named and named[0] in compose["volumes"]


def test_service_store_points_at_the_neo4j_service(compose: dict[str, Any]) -> None:
    env = env_of(compose["services"]["cascade"])
    store = urlsplit(env["CASCADE_STORE"])
    assert store.scheme in {"neo4j", "bolt"}
    assert (store.hostname, store.port) == ("neo4j", 7687)
    assert env["CASCADE_NEO4J_DATABASE"] == "neo4j"


def test_api_port_is_published_and_served(compose: dict[str, Any], dockerfile: list[str]) -> None:
    ports = [str(port) for port in compose["services"]["cascade"]["ports"]]
    assert any(port.split(":")[-2:] == ["8000", "8000"] for port in ports)
    assert "8000" in instruction(dockerfile, "EXPOSE").split()


def test_image_runs_cascade_serve_on_all_interfaces(dockerfile: list[str]) -> None:
    command = yaml.safe_load(instruction(dockerfile, "CMD"))  # exec form is a JSON list
    assert command[:2] == ["cascade", "serve"]
    assert command[command.index("--host") + 1] == "0.0.0.0"
    assert command[command.index("--port") + 1] == "8000"


def test_image_runs_as_non_root(dockerfile: list[str]) -> None:
    assert instruction(dockerfile, "USER") not in {"root", "0"}


def test_image_healthcheck_hits_a_real_route(dockerfile: list[str]) -> None:
    from service.app import create_app
    from service.config.settings import Settings

    check = instruction(dockerfile, "HEALTHCHECK")
    path = urlsplit(re.search(r"http://[^'\"\s]+", check)[0]).path  # type: ignore[index]
    assert "get" in create_app(Settings()).openapi()["paths"][path]


def test_compose_builds_the_image_from_the_repository(compose: dict[str, Any]) -> None:
    build = compose["services"]["cascade"]["build"]
    context = (DOCKER / build["context"]).resolve()
    assert (context / "pyproject.toml").is_file()
    assert (context / build["dockerfile"]).is_file()


def test_local_launcher_pins_neo4j_5_26() -> None:
    pom = ET.parse(dev_neo4j.launcher_dir() / "pom.xml").getroot()
    version = pom.findtext("m:properties/m:neo4j.version", namespaces=POM_NS) or ""
    assert re.fullmatch(r"5\.26\.\d+", version)
    artifacts = {
        dep.findtext("m:artifactId", namespaces=POM_NS): dep.findtext(
            "m:version", namespaces=POM_NS
        )
        for dep in pom.iterfind(".//m:dependency", POM_NS)
    }
    assert artifacts["neo4j"] == artifacts["neo4j-bolt"] == "${neo4j.version}"


def test_local_launcher_script_is_runnable() -> None:
    run = dev_neo4j.launcher_dir() / "run.sh"
    assert run.stat().st_mode & 0o111
    words = shlex.split(run.read_text().replace("\\\n", " "), comments=True)
    assert "cascade.neo4jlocal.LocalNeo4j" in words


def test_launcher_build_explains_missing_java(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(RuntimeError, match="java"):
        dev_neo4j.build_launcher()
