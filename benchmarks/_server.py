"""The real service in a subprocess, for benchmarks that talk HTTP to it.

    with running_service("sqlite:////tmp/bench.db") as (base_url, auth):
        httpx.get(f"{base_url}/v1/gap-counts", headers=auth)

Runs `python -m uvicorn service.app:create_app --factory` on a free loopback port: the same
`create_app(Settings())` that `cascade serve` runs (settings from the environment, so the
store goes in as CASCADE_STORE), but as an import string, so `workers` > 1 works, and
without the access log unless asked (a log line per request would be part of the figure).
An admin key is created in the store first; `auth` is its Authorization header.
Waits until `/healthz` answers and stops the server with SIGTERM at the end (SIGKILL only if
it has not exited 15 s later).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx

from service.cli.dev_neo4j import free_port

__all__ = ["ServiceProcess", "WorkerMemory", "cpu_seconds", "memory_of", "running_service",
           "wait_idle", "wait_ready"]

ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def running_service(
    store: str, *, workers: int = 1, access_log: bool = False, startup_timeout: float = 120.0,
    settle: bool = False,
) -> Iterator[tuple[str, dict[str, str]]]:
    """Yield the base URL of a service on `store` and an admin key's header; its output
    goes to a temporary log, printed when something fails. With `settle` (one worker),
    only once the worker is ready and idle: done warming after saying ready."""
    auth = {"Authorization": f"Bearer {_admin_key(store)}"}
    server = ServiceProcess(store, workers=workers, access_log=access_log,
                            startup_timeout=startup_timeout)
    try:
        server.start()
        if settle and server.process is not None:
            wait_ready(server.base_url, startup_timeout)
            wait_idle([server.process.pid], 0.1, startup_timeout)
        yield server.base_url, auth
    except Exception:
        print(f"--- service log (last lines) ---\n{server.log_tail()}", file=sys.stderr)
        raise
    finally:
        server.stop()
        server.log.close()


class ServiceProcess:
    """The service on one loopback port, in its own process group so that `kill` takes
    every worker with it; it can be started again on the same port and store."""

    def __init__(self, store: str, *, workers: int = 1, access_log: bool = False,
                 env: dict[str, str] | None = None, startup_timeout: float = 120.0) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.command = [
            sys.executable, "-m", "uvicorn", "service.app:create_app", "--factory",
            "--host", "127.0.0.1", "--port", str(self.port), "--workers", str(workers),
            "--log-level", "warning", "--access-log" if access_log else "--no-access-log"]
        # the figures are the service's, not the per-key rate limiter's
        self.env = {"CASCADE_RATE_LIMIT_PER_MINUTE": str(10**9), **os.environ, **(env or {}),
                    "CASCADE_STORE": store, "PYTHONPATH": str(ROOT)}
        self.startup_timeout = startup_timeout
        self.log = tempfile.TemporaryFile("w+")
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start it and return once `/healthz` answers."""
        self.process = subprocess.Popen(self.command, cwd=ROOT, env=self.env, stdout=self.log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        _wait_until_healthy(self.process, self.base_url, self.startup_timeout, self.log)

    def kill(self) -> None:
        """SIGKILL, as the OOM killer or a pulled plug would: nothing gets to clean up."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        """SIGTERM, a graceful shutdown (SIGKILL if it has not exited 15 s later)."""
        if self.process is not None:
            _stop(self.process)

    def log_tail(self, chars: int = 4000) -> str:
        self.log.seek(0)
        return self.log.read()[-chars:]


@dataclass(frozen=True)
class WorkerMemory:
    rss: int  # bytes
    hwm: int


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_idle(pids: list[int], idle_cpu: float, timeout: float) -> None:
    """Until every process used less than `idle_cpu` of a core over a second."""
    deadline = time.monotonic() + timeout
    before = [cpu_seconds(pid) for pid in pids]
    while time.monotonic() < deadline:
        time.sleep(1.0)
        now = [cpu_seconds(pid) for pid in pids]
        if all(b - a < idle_cpu for a, b in zip(before, now, strict=True)):
            return
        before = now
    raise TimeoutError(f"the workers were still busy {timeout:.0f} s after starting")


def memory_of(pid: int) -> WorkerMemory:
    fields = dict(line.split(":", 1) for line in
                  Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return WorkerMemory(rss=int(fields["VmRSS"].split()[0]) * 1024,
                        hwm=int(fields["VmHWM"].split()[0]) * 1024)


def wait_ready(base_url: str, timeout: float, streak: int = 1) -> None:
    """Until `streak` fresh connections in a row get /readyz 200 (with several workers,
    each connection may reach another)."""
    deadline, ok = time.monotonic() + timeout, 0
    while ok < streak:
        if time.monotonic() > deadline:
            raise TimeoutError(f"the service was not ready within {timeout:.0f} s")
        ready = httpx.get(f"{base_url}/readyz", timeout=60.0).status_code == 200
        ok = ok + 1 if ready else 0
        if not ready:
            time.sleep(0.2)


def _admin_key(url: str) -> str:
    from service.access.keys import Role, issue_key
    from service.config.settings import Settings
    from service.store import build_store

    store = build_store(Settings(store=url))  # type: ignore[call-arg]
    try:
        store.init_schema()
        return issue_key(store, role=Role.admin, name="benchmark")[1]
    finally:
        store.close()


def _wait_until_healthy(
    server: subprocess.Popen[bytes], base_url: str, timeout: float, log: IO[str]
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"the service exited with {server.returncode}:\n{log.read()}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass  # not listening yet
        time.sleep(0.1)
    raise TimeoutError(f"the service did not answer /healthz within {timeout:.0f} s")


def _stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is not None:
        return
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()
