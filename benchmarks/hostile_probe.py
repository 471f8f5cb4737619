"""The figures of issue 18's hostile-input probe, against an in-process app on SQLite:
one line per finding (status codes, bytes, lines of /metrics, cache size).

    .venv/bin/python benchmarks/hostile_probe.py
    # the same probe against another checkout (e.g. the code before the fixes):
    git archive 2178ec0 | tar -x -C /tmp/before
    PYTHONPATH=/tmp/before .venv/bin/python benchmarks/hostile_probe.py
"""

from __future__ import annotations

import json
import tempfile
import tracemalloc
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from service.access.keys import Role, issue_key
from service.app import create_app
from service.config.settings import Settings
from service.store.sqlite import SqliteStore

T0 = "2026-03-01T09:00:00Z"
FORWARD = {"request_id": "reach-1", "from_id": "focal-jp", "to_id": "acme-pcb", "sent_at": T0}
ANSWER = {"request_id": "reach-1", "company_id": "acme-pcb", "status": "accepted", "at": T0}


def seed(client: TestClient) -> None:
    items = [{"id": c, "name": c, "country": "JP"} for c in ("focal-jp", "acme-pcb", "tin-id")]
    client.post("/v1/companies/batch", json={"items": items})
    client.post("/v1/links/batch", json={"items": [
        {"buyer_id": "focal-jp", "supplier_id": "acme-pcb"},
        {"buyer_id": "acme-pcb", "supplier_id": "tin-id"}]})
    client.post("/v1/requests", json={"id": "reach-1", "topic": "reach", "title": "REACH",
                                      "issuer_id": "focal-jp", "issued_at": T0})
    client.post("/v1/cascades", json=FORWARD)
    client.post("/v1/acknowledgements", json=ANSWER)
    client.put("/v1/companies/acme-pcb", json={"name": "\t=1+1", "country": "VN",
                                               "identifiers": {"contact_email": "a@x.example"}})
    client.put("/v1/companies/focal-jp", json={"name": "Focal",
                                               "identifiers": {"contact_email": "f@x.example"}})


def header(store: SqliteStore, role: Role, company: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_key(store, role=role, company_id=company)[1]}"}


def probe(client: TestClient, store: SqliteStore) -> dict[str, Any]:
    seed(client)
    figures: dict[str, Any] = {}
    first = client.post("/v1/keys", json={"role": "viewer"}, headers={"Idempotency-Key": "k"})
    again = client.post("/v1/keys", json={"role": "viewer"}, headers={"Idempotency-Key": "k"})
    figures["2 key in replay"] = first.json()["key"] in again.text
    big = client.post("/v1/acknowledgements", json={
        **ANSWER, "at": "2026-03-05T00:00:00Z", "evidence": {"n": "x" * 1_000_000}})
    page = client.get("/v1/acknowledgements", params={"limit": 10})
    figures["3 1 MB evidence"] = f"{big.status_code}, page of 10: {len(page.content)} bytes"
    for n in range(2000):
        client.request(f"X{n}", "/v1/companies", headers={"Authorization": ""})
    figures["4 /metrics lines after 2000 made-up methods"] = len(
        client.get("/metrics").text.splitlines())
    ring = client.app.state.services.keys  # type: ignore[attr-defined]
    tracemalloc.start()
    for n in range(300):
        token = f"csk_{n:05d}{'a' * 60_000}_s"
        client.get("/v1/gap-counts", headers={"Authorization": f"Bearer {token}"})
    grown = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    figures["5 300 bearer tokens of 60 KB ids"] = (
        f"cached {len(ring._seen)}, {grown / 1e6:.1f} MB held")
    integration = header(store, Role.integration, "acme-pcb")
    odd = client.post("/v1/acknowledgements", json={**ANSWER, "request_id": ["x"]},
                      headers=integration)
    deep = client.post("/v1/imports", data={"kind": "network"},
                       files={"file": ("n.json", ("[" * 50_000 + "]" * 50_000).encode())})
    figures["6 unhashable / 50,000 deep"] = f"{odd.status_code} / {deep.status_code}"
    urls = ["http://169.254.169.254/", "http://10.0.0.1/", "http://localhost:6379/",
            "http://user:pass@127.0.0.1:1/", "http://2130706433/"]
    figures["7 webhooks to internal addresses"] = [
        client.post("/v1/webhooks", json={"url": u, "events": ["coverage.changed"]}).status_code
        for u in urls]
    csv = client.get("/v1/requests/reach-1/gaps.csv").content.decode("utf-8-sig")
    cell = next((c for line in csv.splitlines() for c in line.split(",") if "=1+1" in c), "")
    viewer_csv = client.get("/v1/requests/reach-1/gaps.csv", headers=header(store, Role.viewer))
    figures["8 csv cell / viewer sees contact"] = (
        json.dumps(cell), b"a@x.example" in viewer_csv.content)
    figures["9 ids new\\nline, 'trail '"] = [
        client.post("/v1/companies", json={"id": i, "name": "n"}).status_code
        for i in ("new\nline", "trail ")]
    stranger = client.post("/v1/companies", content=b"{", headers={
        "Authorization": "", "Content-Type": "application/json"})
    audited = [e["status"] for e in client.get("/v1/audit").json()["items"]]
    health = client.get("/healthz")
    figures["11 stranger's bad body / 401 audited / HEAD / headers"] = (
        stranger.status_code, 401 in audited, client.head("/healthz").status_code,
        health.headers.get("x-content-type-options"),
        client.get("/v1/gap-counts").headers.get("content-security-policy"))
    return figures


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteStore(str(Path(tmp) / "probe.db"))
        store.init_schema()
        app = create_app(Settings(), store=store)
        with TestClient(app, raise_server_exceptions=False) as client:
            client.headers.update(header(store, Role.admin))
            for finding, value in probe(client, store).items():
                print(f"{finding}: {value}")
        store.close()


if __name__ == "__main__":
    main()
