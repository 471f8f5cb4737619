"""Nothing lost, nothing doubled: thousands of answers posted with retries while (a) the
service processes are SIGKILLed and restarted, on SQLite, and (b) Neo4j is stopped and
restarted, on Neo4j. Then every answer a client saw confirmed is stored exactly once, and
nothing is stored that was never sent. Real processes on loopback; see `fault_harness`.

Run one with its figures: `.venv/bin/python -m pytest api_tests/test_faults.py -s`.
"""

from __future__ import annotations

import threading
from pathlib import Path

from api_tests.conftest import LocalNeo4j
from api_tests.fault_harness import (
    Ledger,
    Reconciliation,
    answers,
    at_progress,
    reconcile,
    seed_network,
    send_all,
)
from benchmarks._server import ServiceProcess
from service.access.keys import Role, issue_key
from service.config.settings import Settings
from service.integrations.client import CascadeClient
from service.store import build_store

# A claim left by a killed process blocks its key's retries until its lease runs out.
SHORT_LEASE = {"CASCADE_IDEMPOTENCY_LEASE_S": "2"}


def test_sqlite_answers_survive_workers_killed_with_sigkill(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'faults.db'}"
    key = _admin_key(url)
    workers = [ServiceProcess(url, env=SHORT_LEASE) for _ in range(2)]  # two on one file
    kills: list[int] = []

    def kill_and_restart(ledger: Ledger, done: threading.Event) -> None:
        for fault in at_progress(ledger, done, 3000, faults=6):
            victim = workers[fault % 2]
            victim.kill()
            kills.append(victim.port)
            victim.start()

    try:
        for worker in workers:
            worker.start()
        with CascadeClient(workers[0].base_url, key) as client:
            seed_network(client)
        ledger = send_all([w.base_url for w in workers], key, answers(3000), senders=4,
                          inject=kill_and_restart, deadline_s=240)
    finally:
        for worker in workers:
            worker.stop()
    outcome = _reconciled(ledger, url)
    if ledger.refused:
        print(*(worker.log_tail() for worker in workers))
    print(f"\nSQLite: {len(kills)} SIGKILLs of 2 workers, {ledger.retries} retries; {outcome}")

    assert len(kills) == 6 and ledger.retries > 0  # the faults hit answers in flight
    assert outcome.sent == outcome.confirmed == outcome.stored == 3000, ledger.refused[:3]
    assert (outcome.lost, outcome.duplicated, outcome.unknown) == (0, 0, 0)


def test_neo4j_answers_survive_neo4j_restarts(own_neo4j: LocalNeo4j) -> None:
    key = _admin_key(own_neo4j.uri)
    service = ServiceProcess(own_neo4j.uri, env={**SHORT_LEASE, "CASCADE_NEO4J_RETRY_S": "2"})
    restarts: list[int] = []

    def stop_and_start(ledger: Ledger, done: threading.Event) -> None:
        for fault in at_progress(ledger, done, 1500, faults=2):
            own_neo4j.stop()
            own_neo4j.start()
            restarts.append(fault)

    try:
        service.start()
        with CascadeClient(service.base_url, key) as client:
            seed_network(client)
        ledger = send_all([service.base_url], key, answers(1500), senders=4,
                          inject=stop_and_start, deadline_s=240)
    finally:
        service.stop()
    outcome = _reconciled(ledger, own_neo4j.uri)
    if ledger.refused:
        print(service.log_tail())
    print(f"\nNeo4j: {len(restarts)} restarts of Neo4j, {ledger.retries} retries; {outcome}")

    assert len(restarts) == 2 and ledger.retries > 0
    assert outcome.sent == outcome.confirmed == outcome.stored == 1500, ledger.refused[:3]
    assert (outcome.lost, outcome.duplicated, outcome.unknown) == (0, 0, 0)


def _admin_key(url: str) -> str:
    store = build_store(Settings(store=url))
    try:
        store.init_schema()
        return issue_key(store, role=Role.admin, name="fault harness")[1]
    finally:
        store.close()


def _reconciled(ledger: Ledger, url: str) -> Reconciliation:
    store = build_store(Settings(store=url))
    try:
        return reconcile(ledger, store)
    finally:
        store.close()
