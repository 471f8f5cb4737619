"""The shipped Grafana dashboard charts metrics the service really exports: every metric a
panel queries is in /metrics (on both stores, over the demo network), the panels use the
provisioned Prometheus data source, and compose runs Prometheus and Grafana with them."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from loaders.demo import load_demo_if_empty

DOCKER = Path(__file__).resolve().parents[1] / "docker"
GRAFANA = DOCKER / "grafana"
PROMQL_WORDS = {"sum", "by", "rate", "histogram_quantile", "le", "route", "status", "state"}


def panels() -> list[dict[str, Any]]:
    dashboard = json.loads((GRAFANA / "dashboards" / "cascade.json").read_text())
    return list(dashboard["panels"])


def queried_metrics() -> dict[str, set[str]]:
    """Panel title -> the metric names its queries read."""
    found: dict[str, set[str]] = {}
    for panel in panels():
        for target in panel["targets"]:
            expr = re.sub(r"\{[^}]*\}|\[[^\]]*\]|\"[^\"]*\"", "", target["expr"])
            names = set(re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", expr)) - PROMQL_WORDS
            found.setdefault(panel["title"], set()).update(
                n for n in names if not n.replace(".", "").isdigit())
    return found


def test_every_metric_a_panel_queries_is_exported(client: TestClient) -> None:
    load_demo_if_empty(client.app.state.services.store)  # type: ignore[attr-defined]
    assert client.get("/v1/gap-counts").status_code == 200  # some HTTP traffic to count
    exposition = client.get("/metrics").text
    samples = [sample for family in text_string_to_metric_families(exposition)
               for sample in family.samples]
    exported = {sample.name for sample in samples}
    wanted = queried_metrics()
    assert {"cascade_request_coverage_ratio", "cascade_request_gaps",
            "cascade_request_uncovered_paths", "cascade_http_requests_total",
            "cascade_http_request_duration_seconds_bucket"} <= set().union(*wanted.values())
    missing = {title: names - exported for title, names in wanted.items() if names - exported}
    assert missing == {}
    overdue = [s for s in samples if s.name == "cascade_request_companies"
               and s.labels.get("state") == "overdue"]  # the overdue panel's selector
    assert {s.labels["request_id"] for s in overdue} >= {"demo-bcp", "demo-reach"}


def test_panels_read_the_provisioned_data_source() -> None:
    sources = yaml.safe_load(
        (GRAFANA / "provisioning" / "datasources" / "prometheus.yaml").read_text())
    uids = {source["uid"] for source in sources["datasources"]}
    assert all(panel["datasource"]["uid"] in uids for panel in panels())


def test_compose_runs_prometheus_scraping_the_service_and_grafana_provisioned() -> None:
    compose = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    assert {"prometheus", "grafana"} <= set(compose["services"])
    scrape = yaml.safe_load((DOCKER / "prometheus" / "prometheus.yml").read_text())
    targets = [t for job in scrape["scrape_configs"] for c in job["static_configs"]
               for t in c["targets"]]
    assert targets == ["cascade:8000"]  # the compose service's name and port
    grafana_mounts = " ".join(compose["services"]["grafana"]["volumes"])
    assert "./grafana/provisioning:/etc/grafana/provisioning" in grafana_mounts
    assert "./grafana/dashboards:/var/lib/grafana/dashboards" in grafana_mounts
