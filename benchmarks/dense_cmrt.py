"""Time and peak memory of reading dense CMRT workbooks: files of about 0.25, 0.5 and
1 MB holding as many cells as the reader's bounds allow (`loaders.cmrt_sheets.EXTENT`,
`MAX_CELLS`): the Declaration, Smelter List and Revision sheets filled row by row, the
smelter rows real ones (the look-up formulas of D and F carrying cached values, as Excel
saves them). Each reading runs in a fresh process, so its peak RSS is its own; the figure
is the median of `--runs` readings.

    .venv/bin/python benchmarks/dense_cmrt.py                 # 0.25, 0.5, 1 MB, 5 runs each
    .venv/bin/python benchmarks/dense_cmrt.py --sizes 1 --runs 3
    .venv/bin/python benchmarks/dense_cmrt.py --loader /tmp/old_cmrt.py   # reading with
        another loaders/cmrt.py (e.g. `git show 06a3b72:loaders/cmrt.py > /tmp/old_cmrt.py`)

Each size is built three times: its text in a shared-string table (as Excel saves),
inline (as openpyxl writes), and "bare": inline, the look-up formulas without cached
values (as openpyxl saves them) and the template's *Smelter Look-up* sheet listing every
row's smelter, so each row is resolved from it. Prints per file, for reading the
workbook (`read_cmrt`) and for uploading it (`POST /v1/imports` of kind `cmrt` to a fresh
service on SQLite, in process): the file's bytes, its smelter rows, the median seconds,
the median peak memory added (MB of RSS over the process once it has imported the
reader: 0 when the reading fits in what the imports had already reached) and the outcome.
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import itertools
import json
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from typing import Any
from xml.sax.saxutils import escape

from openpyxl import Workbook

from loaders.cmrt_layout import layout_of

HEADERS = ("Smelter Identification Number Input Column", "Metal (*)", "Smelter Look-up (*)",
           "Smelter Name (1)", "Smelter Country (*)", "Smelter Identification",
           "Source of Smelter Identification Number", "Smelter Street", "Smelter City")
METALS = ("Tin", "Tantalum", "Tungsten", "Gold")
CMRT_6_5 = layout_of("CMRT", "6.5")
assert CMRT_6_5 is not None
COUNTRIES = ("Indonesia", "China", "Malaysia", "Peru", "Bolivia", "Brazil", "Rwanda", "Japan")


def _token(rng: random.Random, length: int) -> str:
    """A filler value: letters no revision pattern reads, `length` long."""
    return "".join(rng.choices("abdfghjklnpqsuwxyz", k=length))


def dense_workbook(fill: float, length: int, seed: int = 7, computed: bool = True
                   ) -> tuple[bytes, int]:
    """A CMRT 6.5 workbook whose three read sheets are filled, row by row, to `fill` of
    what the reader's bounds allow (each sheet's `EXTENT`, at most `MAX_CELLS` cells),
    with filler text `length` long; and its smelter rows (real rows: id, metal, name,
    country, the D and F look-ups with cached values; without them unless `computed`,
    and then a Smelter Look-up sheet listing each row's smelter)."""
    rng = random.Random(seed)
    book = Workbook(write_only=True)
    declaration = book.create_sheet("Declaration")
    rows_of = CMRT_6_5.company_rows  # the answers in D (column 4)
    fixed = {(4, 2): "Revision 6.5", (5, 4): "English",
             (rows_of["name"], 4): "Acme PCB Co., Ltd.",
             (rows_of["effective_date"], 4): "01-Mar-2026"}
    for row in range(1, int(1000 * fill) + 1):
        declaration.append([fixed.get((row, column), None if row < 7 else
                                      _token(rng, length)) for column in range(1, 65)])
    smelters = book.create_sheet("Smelter List")
    for _ in range(3):
        smelters.append([])
    smelters.append(list(HEADERS))
    rows = int(9_995 * fill)
    cached: dict[str, str] = {}
    reference = [("METAL", "Smelter Look-up (*)", "Standard Smelter Names",
                  "Smelter Facility Location: Country", "Smelter ID", "Source", "Street")]
    for row in range(5, 5 + rows):
        smelter_id, name = f"CID{rng.randint(0, 999_999):06d}", _token(rng, length).title()
        cached[f"D{row}"], cached[f"F{row}"] = name, smelter_id
        smelters.append(values := [
            smelter_id, rng.choice(METALS), name, f'=IF(C{row}="","",VLOOKUP(C{row},L,2,0))',
            rng.choice(COUNTRIES), f'=IF(A{row}<>"",A{row},VLOOKUP(C{row},L,5,0))', "RMI",
            _token(rng, length), _token(rng, length), _token(rng, length)])
        reference.append((values[1], name, name, values[4], smelter_id, "RMI", values[7]))
    revision = book.create_sheet("Revision")
    revision.append([None, "Revision 6.5 April 25, 2025"])
    for _ in range(1, int(500 * fill)):
        revision.append([_token(rng, length) for _ in range(32)])
    if not computed:
        lookup = book.create_sheet("Smelter Look-up")
        for values in reference:
            lookup.append(values)
    out = io.BytesIO()
    book.save(out)
    if not computed:
        return out.getvalue(), rows
    return _with_cached(out.getvalue(), "xl/worksheets/sheet2.xml", cached), rows


def _with_cached(data: bytes, part: str, cached: dict[str, str]) -> bytes:
    """`data` with the formula cells of `part` carrying cached text, as Excel saves."""
    def cache(found: re.Match[str]) -> str:
        text = cached.get(found.group(1))
        if text is None:
            return found.group(0)
        return f'<c r="{found.group(1)}" t="str"><f>{found.group(2)}</f><v>{escape(text)}</v></c>'

    source = zipfile.ZipFile(io.BytesIO(data))
    xml = FORMULA_CELL.sub(cache, source.read(part).decode())
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            body = xml.encode() if info.filename == part else source.read(info)
            target.writestr(info.filename, body)
    return out.getvalue()


FORMULA_CELL = re.compile(r'<c r="([A-Z]+\d+)"><f>(.*?)</f><v\s*/></c>')
INLINE_CELL = re.compile(
    r'<c r="([A-Z]+\d+)"( s="\d+")? t="inlineStr"><is><t[^>]*>(.*?)</t></is></c>')
SST_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
SST_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"


def with_shared_strings(data: bytes) -> bytes:
    """`data` with its inline strings moved to a shared-string table, as Excel saves
    (openpyxl writes inline strings)."""
    index: dict[str, int] = {}

    def shared(found: re.Match[str]) -> str:
        number = index.setdefault(found.group(3), len(index))
        return f'<c r="{found.group(1)}"{found.group(2) or ""} t="s"><v>{number}</v></c>'

    source = zipfile.ZipFile(io.BytesIO(data))
    parts = {info.filename: source.read(info) for info in source.infolist()}
    for name in [n for n in parts if n.startswith("xl/worksheets/sheet")]:
        parts[name] = INLINE_CELL.sub(shared, parts[name].decode()).encode()
    parts["xl/sharedStrings.xml"] = (
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        f'count="{len(index)}" uniqueCount="{len(index)}">'
        + "".join(f"<si><t>{text}</t></si>" for text in index) + "</sst>").encode()
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(b"</Types>", (
        f'<Override PartName="/xl/sharedStrings.xml" ContentType="{SST_TYPE}"/></Types>'
    ).encode())
    rels = "xl/_rels/workbook.xml.rels"
    parts[rels] = parts[rels].replace(b"</Relationships>", (
        f'<Relationship Id="rIdStrings" Type="{SST_REL}" Target="sharedStrings.xml"/>'
        "</Relationships>").encode())
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for name, body in parts.items():
            target.writestr(name, body)
    return out.getvalue()


def workbook_of_size(megabytes: float, strings: str) -> tuple[bytes, int]:
    """The densest workbook of about `megabytes` MB, its text `strings` "shared" (as Excel
    saves), "inline" (as openpyxl does) or "bare" (inline, look-ups without cached values,
    the Smelter Look-up sheet beside): the most cells the bounds allow (fewer when even
    the shortest filler makes a larger file), then longer filler; and its smelter rows."""
    def build(fill: float, length: int) -> tuple[bytes, int]:
        data, rows = dense_workbook(fill, length, computed=strings != "bare")
        return (with_shared_strings(data) if strings == "shared" else data), rows

    target = megabytes * 1_000_000
    fill, length = 1.0, 2
    for _ in range(4):  # the size grows about linearly with each knob
        data, rows = build(fill, length)
        if len(data) > target * 1.05 and length == 2:
            fill = min(1.0, fill * target / len(data))
        elif len(data) < target * 0.95:
            length = max(2, round(length * target / len(data)))
        else:
            break
    return build(fill, length)


def _module(loader: str | None) -> Any:
    if not loader:
        import loaders.cmrt as module

        return module
    spec = importlib.util.spec_from_file_location("cmrt_under_test", loader)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _read(data: bytes, loader: str | None) -> str:
    module = _module(loader)
    try:
        return f"read: {len(module.read_cmrt(data).smelters)} smelters"
    except ValueError as exc:  # FileError
        return f"refused: {exc}"[:100]


def _uploader() -> Callable[[bytes], str]:
    """POST /v1/imports of a workbook to a fresh service on a fresh SQLite store, its
    reporting company and minerals request in place (set up before the clock starts)."""
    from fastapi.testclient import TestClient

    from service.access.keys import Role, issue_key
    from service.app import create_app
    from service.config.settings import Settings
    from service.store.sqlite import SqliteStore

    store = SqliteStore(f"{tempfile.mkdtemp()}/cascade.db")
    store.init_schema()
    _, key = issue_key(store, role=Role.admin, company_id=None, name="benchmark")
    client = TestClient(create_app(Settings(), store=store)).__enter__()
    client.headers["Authorization"] = f"Bearer {key}"
    for path, body in (("/v1/companies", {"id": "focal-jp", "name": "Focal"}),
                       ("/v1/companies", {"id": "acme", "name": "Acme PCB Co., Ltd."}),
                       ("/v1/links", {"buyer_id": "focal-jp", "supplier_id": "acme"}),
                       ("/v1/requests", {"id": "minerals", "catalog_id": "minerals-2026",
                                         "issuer_id": "focal-jp"})):
        client.post(path, json=body).raise_for_status()

    def upload(data: bytes) -> str:
        response = client.post("/v1/imports", files={"file": ("cmrt.xlsx", data)}, data={
            "kind": "cmrt", "request_id": "minerals", "company_id": "acme"})
        return f"{response.status_code}: {str(response.json().get('detail', ''))[:80]}"

    return upload


def measure(path: str, mode: str, loader: str | None) -> None:
    """One reading (or upload) in this process: prints {"seconds", "added_mb",
    "outcome"} as JSON."""
    data = open(path, "rb").read()
    if mode == "read":
        _module(loader)  # imported before the clock starts
    upload = _uploader() if mode == "upload" else None
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    outcome = upload(data) if upload is not None else _read(data, loader)
    seconds = time.perf_counter() - start
    added_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    print(json.dumps({"seconds": seconds, "added_mb": added_mb, "outcome": outcome}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=float, nargs="+", default=[0.25, 0.5, 1.0],
                        help="file sizes in MB")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--loader", help="path of a loaders/cmrt.py to read with instead "
                        "(only reading is measured then)")
    parser.add_argument("--measure", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(*args.measure, args.loader)
        return
    print("strings  file KB  smelter rows  what     median s  median +MB peak  outcome")
    for size, strings in itertools.product(args.sizes, ("shared", "inline", "bare")):
        data, rows = workbook_of_size(size, strings)
        with tempfile.NamedTemporaryFile(suffix=".xlsx") as file:
            file.write(data)
            file.flush()
            for mode in ("read",) if args.loader else ("read", "upload"):
                command = [sys.executable, __file__, "--measure", file.name, mode]
                command += ["--loader", args.loader] if args.loader else []
                runs = [json.loads(subprocess.run(command, check=True, capture_output=True,
                                                  text=True).stdout) for _ in range(args.runs)]
                seconds = statistics.median(r["seconds"] for r in runs)
                added = statistics.median(r["added_mb"] for r in runs)
                print(f"{strings:7s}  {len(data) / 1024:7.0f}  {rows:12d}  {mode:7s}  "
                      f"{seconds:8.2f}  {added:15.0f}  {runs[0]['outcome']}")


if __name__ == "__main__":
    main()
