"""Every shell command README.md and docs/*.md show is run, or, where it cannot run in a
test, parsed (`api_tests/docs_commands.py` says which and why). A command that fails as
written fails this test.

The pages are run as a reader would, in a sandbox directory that looks like the
repository root (`.venv`, `scripts`, `api_tests`, `benchmarks`, `docker` linked):
`scripts/run` serves the demo (on a free port), then one bash script runs every shell
block in reading order. A failure is a command that exits non-zero, unless the page
says it is refused (a `# refused` comment), or an HTTP answer of 4xx or 5xx in the
service's access log that is not one of `EXPECTED_REFUSALS`; documented refusals must
happen. The files a page assumes the reader has (a supplier's CMRT, a blank RMI template)
are built first. Python blocks are compiled, and the webhook receiver's check is run
against the service's own signature.
"""

from __future__ import annotations

import os
import re
import shlex
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from api_tests.cmrt_workbooks import Template, build
from api_tests.docs_commands import Block, Command, blocks, parse_cascade, script_of
from service.integrations.webhooks import signature

ROOT = Path(__file__).resolve().parent.parent
LINKED = (".venv", "scripts", "api_tests", "benchmarks", "docker")
EXPECTED_REFUSALS = {
    ("POST", "/v1/links", 422): "docs/api.md, Errors: a link to an unknown company",
    ("GET", "/v1/requests/no-such-request/coverage", 404):
        "docs/api.md, the Python client: a ProblemError for an unknown request",
}
ACCESS = re.compile(r'"(\w+) (\S+) HTTP/[\d.]+" (\d{3})')


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def sandbox(tmp_path: Path) -> Path:
    for name in LINKED:
        (tmp_path / name).symlink_to(ROOT / name)
    (tmp_path / "acme-asm.xlsx").write_bytes(build(Template(company="Acme Assembly")))
    (tmp_path / "CMRT_6.5_blank.xlsx").write_bytes(build(Template(blank=True)))
    return tmp_path


@pytest.fixture
def service(sandbox: Path) -> Iterator[tuple[str, str, Path]]:
    """`scripts/run` in the sandbox: (its address, the admin key it printed, its log)."""
    port = free_port()
    log = sandbox / "service.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASCADE_")}
    with log.open("w") as out:
        process = subprocess.Popen(["scripts/run", "--port", str(port)], cwd=sandbox,
                                   env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        key = _wait_for_key(log, process)
        yield f"http://127.0.0.1:{port}", key, log
    finally:
        process.terminate()
        process.wait(60)


def _wait_for_key(log: Path, process: subprocess.Popen[bytes]) -> str:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        text = log.read_text()
        if "Application startup complete" in text:
            return re.findall(r"csk_[A-Za-z0-9_-]+", text)[0]
        assert process.poll() is None, text
        time.sleep(0.3)
    raise AssertionError(log.read_text())


def test_every_documented_command_runs_as_written(
    sandbox: Path, service: tuple[str, str, Path]
) -> None:
    api, key, log = service
    script = script_of(blocks(ROOT), api=api, key=key, ports=free_port)
    (sandbox / "docs.sh").write_text(script.text)
    failures = sandbox / "failures.txt"
    failures.touch()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASCADE_")}
    ran = subprocess.run(["bash", "docs.sh"], cwd=sandbox, capture_output=True, text=True,
                         timeout=900, env=env | {"DOCS_FAILURES": str(failures)})
    failed = {script.origin[int(line.split()[0])] for line in failures.read_text().splitlines()
              if int(line.split()[0]) in script.origin}
    refused = {where for where in failed if re.search(r"\s#\s*refused", where[2])}
    documented = {where for where in script.origin.values()
                  if re.search(r"\s#\s*refused", where[2])}
    assert failed - refused == set(), f"{failed - refused}\n{ran.stderr[-3000:]}"
    assert refused == documented, "a command the pages say is refused went through"
    answered = {(m[1], m[2].split("?")[0], int(m[3])) for m in ACCESS.finditer(log.read_text())}
    errors = {hit for hit in answered if hit[2] >= 400}
    assert errors == set(EXPECTED_REFUSALS), f"{errors}\n{ran.stdout[-3000:]}"
    assert [c for c in script.set_aside if not _checked(c)] == []


def _checked(command: Command) -> bool:
    """The check of a command that is not run: it would run as written."""
    if command.check == "script":
        path = ROOT / command.text.split()[0]
        return os.access(path, os.X_OK) and subprocess.run(["bash", "-n", path]).returncode == 0
    if command.check == "docker":
        named = re.findall(r"-f (\S+)", command.text)
        inside = command.text.rsplit(" cascade ", 1)
        if len(inside) == 2 and inside[1].split()[0] in ("keys", "serve", "coverage"):
            parse_cascade("cascade " + inside[1])
        return all((ROOT / path).is_file() for path in named)
    if command.check == "benchmark":
        words = shlex.split(command.text, comments=True)
        shown = subprocess.run([str(ROOT / ".venv/bin/python"), str(ROOT / words[1]),
                                "--help"], capture_output=True, text=True)
        return shown.returncode == 0 and all(
            w in shown.stdout for w in words[2:] if w.startswith("--"))
    parse_cascade(command.text)
    return True


def test_every_command_set_aside_would_run_as_written() -> None:
    """The commands not run are checked on their own, so a broken one is named."""
    script = script_of(blocks(ROOT), api="http://127.0.0.1:1", key="csk_x", ports=free_port)
    assert {c.check for c in script.set_aside} <= {"script", "docker", "benchmark", "cli"}
    for command in script.set_aside:
        assert _checked(command), command


def test_python_blocks_compile_and_the_receiver_check_accepts_a_real_signature() -> None:
    python = [b for b in blocks(ROOT) if b.lang == "python"]
    for block in python:
        compile(block.text, f"{block.page}:{block.line}", "exec")
    receiver = _receiver(python)
    body, now = b'{"id": "evt-1"}', int(time.time())
    header = signature("s3cret", body, now)
    assert receiver["verify"]("s3cret", header, body)
    assert not receiver["verify"]("other", header, body)


def _receiver(python: list[Block]) -> dict[str, object]:
    (block,) = [b for b in python if "def verify(" in b.text]
    namespace: dict[str, object] = {}
    exec(compile(block.text, block.page, "exec"), namespace)  # the page's own code
    return namespace
