"""The cascade picture, what a viewer and an integration key are shown, the polling
overview, and the offline /docs and /redoc with their Content-Security-Policy, in a real
headless Chromium over a live service (demo network) on both stores."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from api_tests.test_ui_pages import sign_in, text, texts
from api_tests.ui_harness import (
    LiveService,
    browser,
    live,
    open_page,
    screenshot,
    serious_accessibility_violations,
)
from service.access.keys import Role
from service.ui.routes import PAGE_CSP

__all__ = ["browser", "live"]


@pytest.fixture(scope="module")
def staff_key(live: LiveService) -> str:
    return live.key(Role.procurement)


def test_picture_colours_companies_by_state_and_draws_forwards_solid(
        live: LiveService, browser: Any, staff_key: str) -> None:
    from selenium.webdriver.common.by import By

    sign_in(browser, live, staff_key, "/ui/requests/demo-bcp/picture")
    api = live.api(staff_key)
    coverage = api.get("/v1/requests/demo-bcp/coverage").json()
    nodes = browser.find_elements(By.CSS_SELECTOR, "#tier-map a[data-company]")
    assert len(nodes) == sum(t["companies"] for t in coverage["tiers"])
    for node in nodes[:: max(1, len(nodes) // 12)]:  # a dozen companies across the map
        company = node.get_attribute("data-company")
        state = api.get(f"/v1/requests/demo-bcp/companies/{company}").json()["state"]
        assert f"state-{state}" in node.find_element(By.TAG_NAME, "circle").get_attribute("class")
    events = api.get("/v1/cascades?request_id=demo-bcp&limit=5000").json()
    forwarded = {(e["from_id"], e["to_id"]) for e in events}
    assert len(browser.find_elements(By.CSS_SELECTOR, "line.forwarded")) == len(forwarded)
    assert browser.find_elements(By.CSS_SELECTOR, "line.unforwarded")  # the gaps, dashed
    screenshot(browser, live, "picture")
    assert serious_accessibility_violations(browser) == []


def test_picture_of_a_gaps_neighbourhood(live: LiveService, browser: Any,
                                         staff_key: str) -> None:
    api = live.api(staff_key)
    gap = api.get("/v1/requests/demo-bcp/gaps?limit=1").json()["items"][0]
    standing = api.get(f"/v1/requests/demo-bcp/companies/{gap['to_id']}").json()
    sign_in(browser, live, staff_key, f"/ui/requests/demo-bcp/picture?focus={gap['to_id']}")
    from selenium.webdriver.common.by import By

    drawn = {e.get_attribute("data-company")
             for e in browser.find_elements(By.CSS_SELECTOR, "#tier-map a[data-company]")}
    assert set(standing["path"]) | {gap["to_id"]} <= drawn
    assert len(drawn) < sum(t["companies"] for t in api.get(
        "/v1/requests/demo-bcp/coverage").json()["tiers"])
    assert texts(browser, "#tier-totals tbody tr")  # the rest, counted by tier
    screenshot(browser, live, "picture-neighbourhood")


def test_a_viewer_sees_figures_but_no_company_contacts(live: LiveService,
                                                       browser: Any) -> None:
    viewer = live.key(Role.viewer)
    staff = live.api(live.key(Role.procurement))
    issuer = staff.get("/v1/companies/focal").json()["name"]
    sign_in(browser, live, viewer)
    counts = live.api(viewer).get("/v1/gap-counts").json()["requests"]
    assert len(texts(browser, "tr[data-request]")) == len(counts)
    assert issuer not in browser.page_source
    open_page(browser, live, "/ui/requests/demo-bcp")
    gap = staff.get("/v1/requests/demo-bcp/gaps?limit=1").json()["items"][0]
    responsible = staff.get(f"/v1/companies/{gap['from_id']}").json()["name"]
    assert gap["from_id"] in text(browser, "#gap-table tbody tr:first-child")
    assert responsible not in browser.page_source and issuer not in browser.page_source
    screenshot(browser, live, "request-viewer")


def test_an_integration_key_gets_no_dashboard_page(live: LiveService, browser: Any) -> None:
    staff = live.api(live.key(Role.procurement))
    supplier = staff.get("/v1/requests/demo-bcp/gaps?limit=1").json()["items"][0]["from_id"]
    key = live.key(Role.integration, company_id=supplier)
    sign_in(browser, live, key)
    assert not browser.find_elements("id", "requests")  # its own view, not the overview
    assert browser.find_elements("id", "view-requests")
    open_page(browser, live, "/ui/requests/demo-bcp/picture")
    assert text(browser, ".problem-title") == "Not found"
    assert "its own cascade view only" in text(browser, ".problem-detail")
    calls = browser.execute_script("return performance.getEntriesByType('resource')"
                                   ".map((r) => [r.name, r.responseStatus])")
    assert [name for name, status in calls if status >= 400] == []
    screenshot(browser, live, "integration")


def test_the_overview_follows_new_data_by_polling(live: LiveService, browser: Any,
                                                  staff_key: str) -> None:
    api = live.api(staff_key)
    sign_in(browser, live, staff_key)
    before = api.get("/v1/gap-counts").json()
    row = next(r for r in before["requests"] if r["request_id"] == "demo-reach")
    gap = api.get("/v1/requests/demo-reach/gaps?limit=1").json()["items"][0]
    posted = api.post("/v1/cascades", json={"request_id": "demo-reach", "from_id": gap["from_id"],
                                            "to_id": gap["to_id"],
                                            "sent_at": "2026-11-30T09:00:00Z"})
    assert posted.status_code in (200, 201), posted.text
    after = next(r for r in api.get("/v1/gap-counts").json()["requests"]
                 if r["request_id"] == "demo-reach")
    assert after["gaps"] != row["gaps"] or after["coverage_ratio"] != row["coverage_ratio"]
    cell = 'tr[data-request="demo-reach"] [data-field="gaps"]'
    deadline = time.monotonic() + 25  # the page polls every 15 s
    while text(browser, cell) != f"{after['gaps']:,}" and time.monotonic() < deadline:
        time.sleep(0.5)
    assert text(browser, cell) == f"{after['gaps']:,}"


@pytest.mark.parametrize("path, ready", [("/docs", ".swagger-ui .info .title"),
                                         ("/redoc", ".api-info h1")])
def test_api_docs_render_from_the_service_alone(live: LiveService, browser: Any, path: str,
                                                ready: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(live.url + path)
    WebDriverWait(browser, 60).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, ready))
    assert "Supply-chain cascade service" in text(browser, ready)
    loaded = browser.execute_script(
        "return performance.getEntriesByType('resource').map((r) => r.name)")
    assert loaded and all(url.startswith(live.url) for url in loaded), loaded
    screenshot(browser, live, path.strip("/"))


@pytest.mark.parametrize("path", ["/ui/", "/ui/requests/demo-bcp", "/docs", "/redoc"])
def test_pages_set_their_own_strict_content_security_policy(live: LiveService,
                                                            path: str) -> None:
    response = httpx.get(live.url + path)
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "script-src" not in policy and "http" not in policy  # own scripts only
    assert "<script>" not in response.text  # no inline script anywhere
    if path.startswith("/ui/"):
        assert policy == PAGE_CSP


def test_root_redirects_to_the_pages(live: LiveService) -> None:
    response = httpx.get(live.url + "/")
    assert response.status_code == 307 and response.headers["location"] == "/ui/"
