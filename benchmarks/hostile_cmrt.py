"""Memory and time of reading a hostile CMRT upload: a `Declaration` sheet of N rows, each
holding one cell at column XFD (a ~36 KB file for 6,000 rows). Each reading runs in a
fresh process, so its peak RSS is its own.

    .venv/bin/python benchmarks/hostile_cmrt.py            # 6,000 rows, this checkout
    .venv/bin/python benchmarks/hostile_cmrt.py --rows 2000
    .venv/bin/python benchmarks/hostile_cmrt.py --loader /tmp/old_cmrt.py   # another
        version of loaders/cmrt.py (e.g. `git show 2178ec0:loaders/cmrt.py > /tmp/old_cmrt.py`)

Prints the file size, the outcome, seconds and the peak memory the reading added.
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import resource
import subprocess
import sys
import time

from openpyxl import Workbook


def hostile_workbook(rows: int) -> bytes:
    """A CMRT-looking workbook whose Declaration has one value at XFD in each row."""
    book = Workbook()
    declaration = book.active
    declaration.title = "Declaration"
    declaration["A1"] = "Conflict Minerals Reporting Template (CMRT) Revision 6.5"
    declaration["A8"], declaration["D8"] = "Company Name (*):", "Acme PCB"
    for row in range(10, 10 + rows):
        declaration.cell(row=row, column=16384, value="x")
    book.create_sheet("Smelter List")["A1"] = "Metal"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def measure(path: str, loader: str | None) -> None:
    if loader:
        spec = importlib.util.spec_from_file_location("cmrt_under_test", loader)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
    else:
        import loaders.cmrt as module
    data = open(path, "rb").read()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    try:
        module.read_cmrt(data)
        outcome = "read"
    except ValueError as exc:  # FileError
        outcome = f"refused: {exc}"[:140]
    seconds = time.perf_counter() - start
    added_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    print(f"{len(data) / 1024:.0f} KB  {seconds:.2f} s  +{added_mb:.0f} MB peak  {outcome}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=6000)
    parser.add_argument("--loader", help="path of a loaders/cmrt.py to measure instead")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(args.measure, args.loader)
        return
    path = f"/tmp/hostile-cmrt-{args.rows}.xlsx"
    with open(path, "wb") as out:
        out.write(hostile_workbook(args.rows))
    command = [sys.executable, __file__, "--measure", path]
    subprocess.run(command + (["--loader", args.loader] if args.loader else []), check=True)


if __name__ == "__main__":
    main()
