"""The pages, as a person uses them, in a real headless Chromium over a live service (demo
network) on SQLite and on Neo4j: figures equal the API's answers, the clicks from the
overview to a request, a gap and its chain work, an export downloads, screenshots are
saved and axe-core finds no serious accessibility problem."""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import pytest

from api_tests.ui_harness import (
    LiveService,
    browser,
    live,
    open_page,
    screenshot,
    serious_accessibility_violations,
)
from service.access.keys import Role

T = TypeVar("T")

__all__ = ["browser", "live"]  # the fixtures, imported for this module's tests


def percent(ratio: float) -> str:
    return f"{(Decimal(repr(ratio)) * 100).quantize(Decimal('0.1'), ROUND_HALF_UP)}%"


def sign_in(driver: Any, live: LiveService, key: str, path: str = "/ui/") -> None:
    open_page(driver, live, f"{path}#key={quote(key)}")


def text(driver: Any, css: str) -> str:
    return _read_fresh(lambda: str(driver.find_element("css selector", css).text))


def texts(driver: Any, css: str) -> list[str]:
    return _read_fresh(lambda: [str(e.text) for e in driver.find_elements("css selector", css)])


def _read_fresh(read: Callable[[], T]) -> T:
    """Reads again when a poll re-rendered the element between finding and reading it."""
    from selenium.common.exceptions import StaleElementReferenceException

    for _ in range(4):
        try:
            return read()
        except StaleElementReferenceException:
            time.sleep(0.1)
    return read()


@pytest.fixture(scope="module")
def staff_key(live: LiveService) -> str:
    return live.key(Role.procurement)


def test_overview_shows_the_api_figures_after_a_fragment_sign_in(
        live: LiveService, browser: Any, staff_key: str) -> None:
    sign_in(browser, live, staff_key)
    assert "#" not in browser.current_url and staff_key not in browser.current_url
    assert browser.execute_script("return sessionStorage.getItem('cascade.key')") == staff_key
    api = live.api(staff_key)
    requests = {r["id"]: r for r in api.get("/v1/requests").json()}
    counts = api.get("/v1/gap-counts").json()["requests"]
    assert len(counts) == len(requests) > 0
    for row in counts:
        line = f'tr[data-request="{row["request_id"]}"]'
        assert text(browser, f"{line} th a") == requests[row["request_id"]]["title"]
        assert text(browser, f'{line} [data-field="coverage"]') == percent(row["coverage_ratio"])
        assert text(browser, f'{line} [data-field="gaps"]') == f"{row['gaps']:,}"
        assert text(browser, f'{line} [data-field="uncovered_paths"]') == (
            f"{row['uncovered_paths']:,}")
        assert text(browser, f'{line} [data-field="overdue"]') == f"{row['overdue']:,}"
    assert "7.8%" in texts(browser, '[data-field="coverage"]')  # the demo's BCP request
    time.sleep(1.5)  # the trend sparklines come after the figures
    assert len(texts(browser, "svg.sparkline")) == len(counts)
    screenshot(browser, live, "overview")
    assert serious_accessibility_violations(browser) == []


def test_a_refused_key_shows_the_problem_on_the_sign_in_page(
        live: LiveService, browser: Any) -> None:
    bad = "csk_000000000000_not-a-real-secret-at-all-000000000"
    problem = live.api(bad).get("/v1/requests").json()
    sign_in(browser, live, bad)
    assert text(browser, ".problem-title") == problem["title"]
    assert text(browser, ".problem-detail") == problem["detail"]
    assert browser.find_element("id", "api-key").is_displayed()
    screenshot(browser, live, "sign-in-refused")
    assert serious_accessibility_violations(browser) == []


def test_from_the_overview_to_a_request_a_gap_its_chain_and_an_export(
        live: LiveService, browser: Any, staff_key: str) -> None:
    from selenium.webdriver.common.by import By

    sign_in(browser, live, staff_key)
    browser.find_element(By.CSS_SELECTOR, 'tr[data-request="demo-bcp"] th a').click()
    open_page(browser, live, "/ui/requests/demo-bcp")
    api = live.api(staff_key)
    coverage = api.get("/v1/requests/demo-bcp/coverage").json()
    assert text(browser, '#summary [data-field="coverage"] dd') == percent(
        coverage["coverage_ratio"])
    assert text(browser, '#summary [data-field="gaps"] dd') == f"{coverage['gaps']:,}"
    assert text(browser, '#summary [data-field="uncovered_paths"] dd') == (
        f"{coverage['paths']['uncovered']:,}")
    tier_rows = browser.find_elements(By.CSS_SELECTOR, "#tiers tbody tr")
    assert len(tier_rows) == len(coverage["tiers"])
    for tier in coverage["tiers"]:
        for state in ("acknowledged", "overdue", "unreached"):
            cell = browser.find_element(
                By.CSS_SELECTOR, f'#tiers tr[data-tier="{tier["tier"]}"] [data-state="{state}"]')
            assert cell.get_attribute("textContent") == f"{tier[state]:,}"

    gaps = api.get("/v1/requests/demo-bcp/gaps?limit=20").json()["items"]
    shown = [row.get_attribute("data-gap")
             for row in browser.find_elements(By.CSS_SELECTOR, "#gap-table tbody tr")]
    assert shown == [f"{g['from_id']}>{g['to_id']}" for g in gaps]  # ranked by impact
    assert texts(browser, '#gap-table [data-field="impact"]') == [str(g["impact"]) for g in gaps]
    name = api.get(f"/v1/companies/{gaps[0]['from_id']}").json()["name"]
    assert name in text(browser, "#gap-table tbody tr:first-child")
    asked = [url for url in browser.execute_script(
        "return performance.getEntriesByType('resource').map((r) => r.name)")
        if "/v1/companies" in url]
    assert len(asked) == 2 and all("/v1/companies?ids=" in url for url in asked)  # the names
    # of the gaps' companies in one call, of the first uncovered paths' in another
    screenshot(browser, live, "request")
    assert serious_accessibility_violations(browser) == []

    browser.find_element(By.CSS_SELECTOR, "#gap-table tbody tr:first-child .show-chain").click()
    time.sleep(1)
    standing = api.get(f"/v1/requests/demo-bcp/companies/{gaps[0]['from_id']}").json()
    drawn = [e.get_attribute("data-company")
             for e in browser.find_elements(By.CSS_SELECTOR, "#gap-chain ol.chain li")]
    assert drawn == standing["path"] + [gaps[0]["to_id"]]
    assert browser.find_element(By.CSS_SELECTOR, "#gap-chain li.break").get_attribute(
        "data-company") == gaps[0]["to_id"]
    screenshot(browser, live, "gap-chain")

    browser.find_element(By.ID, "export-csv").click()
    exported = _downloaded(browser.downloads, "demo-bcp-gaps.csv")
    assert exported.read_bytes() == api.get("/v1/requests/demo-bcp/gaps.csv").content


def _downloaded(folder: Path, name: str) -> Path:
    target = folder / name
    deadline = time.monotonic() + 30
    while not target.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert target.exists(), list(folder.iterdir())
    return target


def test_the_uncovered_path_explorer_marks_the_break(
        live: LiveService, browser: Any, staff_key: str) -> None:
    from selenium.webdriver.common.by import By

    sign_in(browser, live, staff_key, "/ui/requests/demo-climate")
    paths = live.api(staff_key).get(
        "/v1/requests/demo-climate/uncovered-paths?limit=10").json()["items"]
    assert len(browser.find_elements(By.CSS_SELECTOR, "ol.paths button")) == len(paths)
    browser.find_elements(By.CSS_SELECTOR, "ol.paths button")[1].click()
    drawn = [e.get_attribute("data-company")
             for e in browser.find_elements(By.CSS_SELECTOR, "#path-chain li")]
    assert drawn == paths[1]["companies"]
    broken = browser.find_element(By.CSS_SELECTOR, "#path-chain li.break")
    assert broken.get_attribute("data-company") == paths[1]["companies"][paths[1]["break_index"]]


def test_company_standing_search(live: LiveService, browser: Any, staff_key: str) -> None:
    from selenium.webdriver.common.by import By

    sign_in(browser, live, staff_key, "/ui/requests/demo-bcp")
    gap = live.api(staff_key).get("/v1/requests/demo-bcp/gaps?limit=1").json()["items"][0]
    standing = live.api(staff_key).get(
        f"/v1/requests/demo-bcp/companies/{gap['from_id']}").json()
    browser.find_element(By.ID, "company-id").send_keys(gap["from_id"])
    browser.find_element(By.CSS_SELECTOR, "#company button[type=submit]").click()
    time.sleep(1)
    assert text(browser, '#standing [data-field="state"] dd') == standing["state"]
    assert text(browser, '#standing [data-field="tier"] dd') == str(standing["tier"])
    browser.find_element(By.ID, "company-id").clear()
    browser.find_element(By.ID, "company-id").send_keys("no-such-company")
    browser.find_element(By.CSS_SELECTOR, "#company button[type=submit]").click()
    time.sleep(1)
    assert text(browser, "#standing .problem-title") == "Not found"
