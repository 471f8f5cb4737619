"""Graceful shutdown: a request in flight when SIGTERM arrives still finishes and is stored
whole, new connections are refused, and the process exits cleanly."""

from __future__ import annotations

import json
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from api_tests.fault_harness import REQUEST_ID, answers, seed_network
from api_tests.test_faults import _admin_key
from benchmarks._server import ServiceProcess
from service.config.settings import Settings
from service.integrations.client import CascadeClient
from service.store import build_store


def test_a_batch_in_flight_at_sigterm_is_answered_and_stored_whole(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shutdown.db'}"
    key = _admin_key(url)
    service = ServiceProcess(url)
    service.start()
    with CascadeClient(service.base_url, key) as client:
        seed_network(client)
    body = json.dumps({"items": [a.model_dump(mode="json") for a in answers(2000)]}).encode()
    half_sent = threading.Event()

    def slowly() -> Iterator[bytes]:  # the server has the request, not yet its whole body
        yield body[: len(body) // 2]
        half_sent.set()
        time.sleep(1.0)
        yield body[len(body) // 2:]

    def stop_meanwhile() -> None:
        half_sent.wait()
        time.sleep(0.3)
        assert service.process is not None
        service.process.send_signal(signal.SIGTERM)

    stopper = threading.Thread(target=stop_meanwhile)
    stopper.start()
    try:
        answered = httpx.post(f"{service.base_url}/v1/acknowledgements/batch", content=slowly(),
                              headers={"Authorization": f"Bearer {key}",
                                       "Content-Type": "application/json"}, timeout=60)
    finally:
        stopper.join()
    assert service.process is not None
    exit_code = service.process.wait(timeout=30)

    assert answered.status_code == 200
    assert {r["status"] for r in answered.json()["results"]} == {"created"}
    # uvicorn re-raises the SIGTERM once it has shut down; the store closed cleanly (the
    # last connection to close folds SQLite's write-ahead log into the file and drops it)
    assert exit_code == -signal.SIGTERM
    assert not (tmp_path / "shutdown.db-wal").exists()
    store = build_store(Settings(store=url))
    try:
        assert len(store.list_acknowledgements(request_id=REQUEST_ID, limit=10**6)) == 2000
    finally:
        store.close()
