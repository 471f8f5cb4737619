"""The shell commands of README.md and docs/*.md, taken from their code blocks, and how
`test_docs_commands.py` runs them: one bash script, in the order the pages are read
(README first: the other pages continue its walkthrough), with the commands that cannot
run in a test set aside (`NOT_RUN`, each with the reason and what is checked instead).

The only changes made to what the pages show: the walkthrough's `api=` and `key=` lines
get the address and the admin key of the service the test started (as `scripts/run`
does, on a free port), the client example's `http://127.0.0.1:8000` that address, and a
`cascade serve` that runs is started on a free port until it answers, then stopped.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from typer.main import get_command

from service.cli.main import app

__all__ = ["NOT_RUN", "Block", "Command", "Script", "blocks", "parse_cascade", "script_of"]

PAGES = ("README.md", "docs/api.md", "docs/loaders.md", "docs/operations.md",
         "docs/benchmarks.md")
"""In reading order; any other docs/*.md with commands follows them."""
SHELL = ("sh", "bash", "shell", "console")
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)


@dataclass(frozen=True)
class Block:
    page: str
    line: int  # of the block's first line of code
    lang: str
    text: str


@dataclass(frozen=True)
class Command:
    """A one-line command set aside, with where it is shown."""

    page: str
    line: int
    text: str
    why: str  # why it is not run
    check: str  # what is checked instead: "cli", "script", "docker", "benchmark"


def blocks(root: Path) -> list[Block]:
    """Every fenced code block of the pages, in reading order."""
    others = sorted(str(p.relative_to(root)) for p in (root / "docs").glob("*.md"))
    found = []
    for page in dict.fromkeys([*PAGES, *others]):
        text = (root / page).read_text()
        for match in FENCE.finditer(text):
            line = text.count("\n", 0, match.start(2)) + 1
            found.append(Block(page, line, match.group(1), match.group(2)))
    return found


NOT_RUN: list[tuple[re.Pattern[str], str, str]] = [
    (re.compile(r"^scripts/run\b"), "it starts the service in the foreground: the test "
     "starts it so, on a free port, as the walkthrough's service", "script"),
    (re.compile(r"^scripts/test\b"), "it runs the whole suite, this test included", "script"),
    (re.compile(r"cascade dev-neo4j\b"), "it builds and runs a Neo4j on the shown port",
     "cli"),
    (re.compile(r"^CASCADE_STORE=bolt://.*cascade serve\b"), "it needs the Neo4j of "
     "`cascade dev-neo4j` above", "cli"),
    (re.compile(r"^(export NEO4J_PASSWORD=|(CASCADE_\w+=\S+ )*docker )"), "it needs a "
     "Docker daemon and minutes of image build", "docker"),
    (re.compile(r"cascade generate .*--links 10000000?\b"), "a million links take "
     "minutes (ten million, most of an hour)", "cli"),
    (re.compile(r"^\.venv/bin/python benchmarks/"), "a benchmark runs for minutes",
     "benchmark"),
]
"""(pattern of a one-line command, why it is not run, what is checked instead)."""

SERVE = re.compile(r"^\.venv/bin/cascade serve\b")


@dataclass
class Script:
    """The bash script of the pages' shell blocks, and where each of its lines comes from."""

    text: str
    origin: dict[int, tuple[str, int, str]]  # script line -> (page, line, doc text)
    set_aside: list[Command]


PREAMBLE = """\
set -o pipefail -o errtrace
trap 'echo "$LINENO $?" >> "$DOCS_FAILURES"' ERR
__serve_briefly() {  # a documented `cascade serve`, until it answers on port $1
  local port=$1; shift
  "$@" > "serve-$port.log" 2>&1 &
  local pid=$! tries=0
  until curl -sf -o /dev/null "http://127.0.0.1:$port/healthz"; do
    if ! kill -0 "$pid" 2>/dev/null || [ $((tries += 1)) -gt 300 ]; then
      cat "serve-$port.log" >&2; kill "$pid" 2>/dev/null; wait "$pid"; return 1
    fi
    sleep 0.2
  done
  kill "$pid"; wait "$pid" || true
}
"""


def script_of(found: list[Block], *, api: str, key: str, ports: Any) -> Script:
    """The script of the shell blocks; `ports()` gives a free port per `cascade serve`."""
    lines = PREAMBLE.splitlines()
    origin: dict[int, tuple[str, int, str]] = {}
    set_aside: list[Command] = []
    for block in (b for b in found if b.lang in SHELL):
        for offset, line in enumerate(block.text.splitlines()):
            where = (block.page, block.line + offset, line)
            aside = next(((why, check) for pattern, why, check in NOT_RUN
                          if pattern.search(line)), None)
            if aside is not None:
                set_aside.append(Command(block.page, block.line + offset, line, *aside))
                line = ": set aside"
            elif SERVE.search(line):
                port = ports()
                served = re.sub(r"--port \d+", "", line.split(" #")[0]).strip()
                line = f"__serve_briefly {port} {served} --port {port}"
            line = re.sub(r"^api=http://127\.0\.0\.1:8000$", f"api={api}", line)
            line = re.sub(r"^key=csk_\.\.\.", f"key={key}", line)
            lines.append(line.replace("http://127.0.0.1:8000", api))
            origin[len(lines)] = where
    return Script("\n".join(lines) + "\n", origin, set_aside)


def parse_cascade(command: str) -> None:
    """Parse a `cascade ...` command line as the CLI would, without running it: the
    parser's usage error for an unknown command or option, or a value of the wrong kind
    (typer's own click: `typer._click.exceptions.UsageError`)."""
    words = shlex.split(command, comments=True)
    while words and re.match(r"^\w+=", words[0]):
        words.pop(0)  # VAR=value before the command
    words = words[words.index(next(w for w in words if w.endswith("cascade"))) + 1:]
    group: Any = get_command(app)
    context = group.make_context("cascade", words, resilient_parsing=False)
    while hasattr(group, "get_command"):  # a group: on to its subcommand
        # the subcommand and what follows it (click keeps the name apart, privately)
        name, *rest = [*getattr(context, "_protected_args", []), *context.args] or [""]
        sub = group.get_command(context, name)
        if sub is None:
            raise ValueError(f"no command {name!r}")
        group, context = sub, sub.make_context(name, rest, parent=context)
