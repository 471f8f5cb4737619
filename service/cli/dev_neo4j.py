"""Run a real Neo4j 5.26 (embedded, community) for development and CI, without Docker.

The launcher is a small Java program in ``docker/neo4j-local`` (built with Maven on first
use) that serves Bolt on ``127.0.0.1:PORT`` and prints ``ready bolt://127.0.0.1:PORT`` once
clients can connect. Neo4j's logs go to ``DATA/logs``; the launcher's stderr (Maven output,
Java errors) to ``DATA/logs/launcher.log``.

Examples
--------
>>> from pathlib import Path
>>> proc = start_neo4j(7697, Path("/tmp/neo4j-dev"))  # doctest: +SKIP
>>> bolt_uri(7697)
'bolt://127.0.0.1:7697'
>>> stop_neo4j(proc)  # doctest: +SKIP
0

From a shell: ``python -m service.dev_neo4j --port 7697 --data /tmp/neo4j-dev``.
"""

from __future__ import annotations

import argparse
import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from pathlib import Path
from typing import IO

__all__ = [
    "bolt_uri",
    "build_launcher",
    "launcher_dir",
    "run_foreground",
    "start_neo4j",
    "stop_neo4j",
]

LAUNCHER_DIR_ENV = "CASCADE_NEO4J_LOCAL_DIR"
READY_PREFIX = "ready bolt://"


def launcher_dir() -> Path:
    """The ``docker/neo4j-local`` directory (override with ``CASCADE_NEO4J_LOCAL_DIR``)."""
    override = os.environ.get(LAUNCHER_DIR_ENV)
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2] / "docker" / "neo4j-local"


def free_port() -> int:
    """A loopback TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def bolt_uri(port: int) -> str:
    """The URI the launcher serves on ``port``.

    >>> bolt_uri(7687)
    'bolt://127.0.0.1:7687'
    """
    return f"bolt://127.0.0.1:{port}"


def _launcher_is_built(root: Path) -> bool:
    """True when the jar exists and neither pom.xml nor a source file is newer (as run.sh)."""
    jar = root / "target" / "neo4j-local.jar"
    if not jar.is_file() or not (root / "target" / "lib").is_dir():
        return False
    built = jar.stat().st_mtime
    sources = [root / "pom.xml", *(root / "src").rglob("*")]
    return all(source.stat().st_mtime <= built for source in sources)


def _require_tools(*tools: str) -> None:
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if missing:
        raise RuntimeError(
            f"local Neo4j needs {' and '.join(missing)} on PATH "
            "(Java 17+ and Maven 3.8+; e.g. apt-get install openjdk-17-jdk-headless maven)"
        )


def build_launcher() -> None:
    """Build the launcher with Maven unless it is up to date.

    The first build downloads Neo4j (~125 MB of jars) into ``~/.m2``; later builds take
    seconds. Raises ``RuntimeError`` if java or mvn is missing or the build fails.
    """
    root = launcher_dir()
    _require_tools("java")
    if _launcher_is_built(root):
        return
    _require_tools("mvn")
    result = subprocess.run(
        ["mvn", "-q", "-B", "package", "-DskipTests"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip().splitlines()
        raise RuntimeError("building the Neo4j launcher failed:\n" + "\n".join(output[-30:]))


def _pump_lines(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    """Copy a child's stdout into ``lines`` until EOF (keeps the pipe from ever filling)."""
    for line in stream:
        lines.put(line.rstrip("\n"))
    lines.put(None)


def _tail(path: Path, count: int = 30) -> str:
    if not path.is_file():
        return ""
    with path.open(errors="replace") as log:
        return "".join(deque(log, maxlen=count))


def _await_ready(proc: subprocess.Popen[str], timeout: float) -> None:
    """Wait for the launcher's ready line; raise ``RuntimeError`` on exit or timeout."""
    assert proc.stdout is not None
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_pump_lines, args=(proc.stdout, lines), daemon=True).start()
    deadline = time.monotonic() + timeout
    while (remaining := deadline - time.monotonic()) > 0:
        try:
            line = lines.get(timeout=min(remaining, 1.0))
        except queue.Empty:
            continue
        if line is None:
            raise RuntimeError(f"exited with code {proc.wait()} before it was ready")
        if line.startswith(READY_PREFIX):
            return
    raise RuntimeError(f"not ready after {timeout:.0f} s")


def start_neo4j(
    port: int, data_dir: Path, password: str | None = None, timeout: float = 180
) -> subprocess.Popen[str]:
    """Start Neo4j on ``127.0.0.1:port`` with its store in ``data_dir``; return once ready.

    Without ``password`` auth is disabled; with one (8+ characters) the ``neo4j`` user gets
    it. Builds the launcher first if needed (not counted in ``timeout``). On failure or
    timeout the process is stopped and ``RuntimeError`` carries the tail of its output.
    """
    build_launcher()
    data_dir = Path(data_dir).resolve()
    log_path = data_dir / "logs" / "launcher.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    command = [str(launcher_dir() / "run.sh"), "--port", str(port), "--data", str(data_dir)]
    if password is not None:
        command += ["--password", password]
    with log_path.open("a") as stderr:
        # Own session: a terminal's Ctrl-C reaches only us, and stop_neo4j signals the group.
        proc = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=stderr, text=True, start_new_session=True
        )
    try:
        _await_ready(proc, timeout)
    except BaseException as failure:
        stop_neo4j(proc, timeout=30)
        if not isinstance(failure, RuntimeError):
            raise
        raise RuntimeError(
            f"local Neo4j on port {port} failed: {failure}\n"
            f"--- tail of {log_path} ---\n{_tail(log_path)}"
        ) from None
    return proc


def stop_neo4j(proc: subprocess.Popen[str], timeout: float = 60) -> int:
    """Stop Neo4j cleanly (SIGTERM), killing it after ``timeout`` s; return its exit code.

    A clean stop checkpoints the store and returns 0.
    """
    if proc.poll() is None:
        _signal_group(proc, signal.SIGTERM)
        try:
            return proc.wait(timeout)
        except subprocess.TimeoutExpired:
            _signal_group(proc, signal.SIGKILL)
    return proc.wait()


def _signal_group(proc: subprocess.Popen[str], sig: signal.Signals) -> None:
    """Signal the launcher's process group (run.sh's Maven build too, if still running)."""
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass


def run_foreground(port: int, data_dir: Path, password: str | None = None) -> int:
    """Run Neo4j until SIGTERM or Ctrl-C, then stop it cleanly; return its exit code.

    A signal during startup aborts it (stopping the half-started server) and returns 130.
    """
    started, stop_requested = threading.Event(), threading.Event()

    def request_stop(signum: int, frame: object) -> None:
        stop_requested.set()
        if not started.is_set():
            raise KeyboardInterrupt  # unwinds start_neo4j, which stops its child

    handled = (signal.SIGTERM, signal.SIGINT)
    previous = {sig: signal.signal(sig, request_stop) for sig in handled}
    proc = None
    try:
        proc = start_neo4j(port, data_dir, password)
        started.set()
        print(f"ready {bolt_uri(port)}", flush=True)
        while proc.poll() is None and not stop_requested.wait(0.5):
            pass
        return stop_neo4j(proc)
    except KeyboardInterrupt:
        return stop_neo4j(proc) if proc is not None else 130
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def main(argv: list[str] | None = None) -> int:
    """``python -m service.dev_neo4j --port PORT --data DIR [--password PW]``."""
    parser = argparse.ArgumentParser(description="Run a local Neo4j 5.26 (embedded, Bolt).")
    parser.add_argument("--port", type=int, default=7687)
    parser.add_argument("--data", type=Path, default=Path(".neo4j-data"))
    parser.add_argument("--password")
    args = parser.parse_args(argv)
    try:
        return run_foreground(args.port, args.data, args.password)
    except RuntimeError as failure:
        print(failure, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
