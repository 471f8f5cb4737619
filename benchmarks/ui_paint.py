"""First paint and time to interactive of the overview and of a request page, in Debian's
headless Chromium over the real service (a subprocess), median of 5 loads each.

    python benchmarks/ui_paint.py                       # the demo network (fresh SQLite)
    python benchmarks/ui_paint.py --store sqlite:///big.db --request bench-1

First paint is the browser's first-contentful-paint; time to interactive is when the page
has drawn its figures (the `cascade-ready` mark the app sets once its data is in). Each
load is a fresh navigation with an empty memory cache; the service keeps its coverage
cache between loads, as it would for a person refreshing a dashboard. Prints figures only.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402

from api_tests.ui_harness import BROWSER_FLAGS, CHROMEDRIVER, CHROMIUM  # noqa: E402
from benchmarks._server import running_service  # noqa: E402

TIMINGS = """
const paint = performance.getEntriesByType('paint')
  .find((p) => p.name === 'first-contentful-paint');
const ready = performance.getEntriesByName('cascade-ready')[0];
return [paint ? paint.startTime : null, ready ? ready.startTime : null];
"""


def browser() -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in BROWSER_FLAGS:
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def load(driver: Any, url: str) -> tuple[float, float]:
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get("about:blank")
    driver.execute_cdp_cmd("Network.clearBrowserCache", {})
    driver.get(url)
    WebDriverWait(driver, 600).until(
        lambda d: d.execute_script("return performance.getEntriesByName('cascade-ready').length"))
    paint, ready = driver.execute_script(TIMINGS)
    return float(paint), float(ready)


def measure(base: str, key: str, request_id: str, runs: int) -> None:
    driver = browser()
    try:
        driver.execute_cdp_cmd("Network.enable", {})
        driver.get(f"{base}/ui/#key={quote(key)}")  # signs the tab in
        for name, path in [("overview", "/ui/"), ("request", f"/ui/requests/{request_id}")]:
            loads = [load(driver, base + path) for _ in range(runs)]
            paint = statistics.median(p for p, _ in loads)
            ready = statistics.median(r for _, r in loads)
            print(f"{name:9} first paint {paint:8.0f} ms   time to interactive {ready:8.0f} ms"
                  f"   (median of {runs}; loads: {[round(r) for _, r in loads]})")
    finally:
        driver.quit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", help="store URL (default: a fresh SQLite with the demo)")
    parser.add_argument("--request", default="demo-bcp", help="the request page to measure")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        store = args.store or f"sqlite:///{folder}/demo.db"
        if args.store is None:
            from loaders.demo import load_demo_if_empty
            from service.store.sqlite import SqliteStore

            demo = SqliteStore(f"{folder}/demo.db")
            demo.init_schema()
            load_demo_if_empty(demo)
            demo.close()
        with running_service(store) as (base, auth):
            key = auth["Authorization"].removeprefix("Bearer ")
            summary = httpx.get(f"{base}/v1/requests/{args.request}/coverage", headers=auth,
                                timeout=600).json()
            companies = sum(t["companies"] for t in summary["tiers"])
            print(f"store {store}: request {args.request}, {companies:,} companies, "
                  f"{summary['paths']['total']:,} root-to-leaf paths")
            measure(base, key, args.request, args.runs)


if __name__ == "__main__":
    main()
