"""A live service and a headless Chromium for the browser tests.

The service runs in a thread (uvicorn on a free loopback port) over a fresh store with the
demo network; the browser is Debian's chromium driven by its chromium-driver through
Selenium. Without them the tests are skipped on a developer machine and fail under CI.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from api_tests.conftest import make_store
from loaders.demo import load_demo_if_empty
from service.access.keys import Role, issue_key
from service.app import create_app
from service.config.settings import Settings
from service.store.port import CascadeStore

REPORTS = Path(os.environ.get("CASCADE_TEST_REPORTS",
                              Path(__file__).parent.parent / "test-reports"))
CHROMIUM = os.environ.get("CASCADE_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CASCADE_CHROMEDRIVER", "/usr/bin/chromedriver")
AXE = Path(__file__).parent / "vendor" / "axe-core-4.14.1" / "axe.min.js"
BROWSER_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--window-size=1280,1000", "--disable-dev-shm-usage"]


@dataclass
class LiveService:
    url: str
    store: CascadeStore
    kind: str

    def key(self, role: Role = Role.procurement, company_id: str | None = None) -> str:
        _, key = issue_key(self.store, role=role, company_id=company_id, name=f"ui {role}")
        return key

    def api(self, key: str) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {key}"},
                            timeout=60)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve(store: CascadeStore, kind: str) -> Iterator[LiveService]:
    """The app on a loopback port until the generator is closed."""
    load_demo_if_empty(store)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(Settings(), store=store), host="127.0.0.1",
                                           port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the live service did not start")
        time.sleep(0.05)
    try:
        yield LiveService(url=f"http://127.0.0.1:{port}", store=store, kind=kind)
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture(scope="module", params=["sqlite", "neo4j"])
def live(request: pytest.FixtureRequest,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    """The service with the demo network on SQLite, and on Neo4j where one is configured."""
    store = make_store(request.param, tmp_path_factory.mktemp("live"))
    try:
        yield from serve(store, request.param)
    finally:
        store.close()


def require_browser() -> None:
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not shutil.which(p)]
    if missing:
        message = (f"browser tests need {' and '.join(missing)} "
                   "(apt-get install chromium chromium-driver)")
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in BROWSER_FLAGS:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.downloads = tmp_path_factory.mktemp("downloads")  # type: ignore[attr-defined]
    driver.execute_cdp_cmd("Browser.setDownloadBehavior",
                           {"behavior": "allow", "downloadPath": str(driver.downloads)})  # type: ignore[attr-defined]
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


# -- what a person does and sees ------------------------------------------------------------

def open_page(driver: Any, live: LiveService, path: str) -> None:
    """Load a page and wait until its script has drawn it (body[data-ready])."""
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get("about:blank")  # a fragment-only change would not load the page again
    driver.get(live.url + path)
    WebDriverWait(driver, 60).until(
        lambda d: d.execute_script("return document.body.dataset.ready === 'true'"))


def screenshot(driver: Any, live: LiveService, name: str) -> Path:
    """Saved under test-reports/screenshots/ (gitignored), one per page and store."""
    folder = REPORTS / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{live.kind}-{name}.png"
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, min(max(int(height), 800), 6000))
    driver.execute_script("window.scrollTo(0, 0)")  # the whole page from its top
    driver.save_screenshot(str(target))
    driver.set_window_size(1280, 1000)
    return target


def serious_accessibility_violations(driver: Any) -> list[str]:
    """axe-core's serious and critical findings on the page (injected by the test only)."""
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document).then(done, (e) => done({error: String(e)}));")
    assert "error" not in result, result
    return [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
            for v in result["violations"] if v["impact"] in {"serious", "critical"}]
