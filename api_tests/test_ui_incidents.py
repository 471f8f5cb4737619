"""The incident page and a supplier's own cascade view, in a real headless Chromium over a
live service (demo network) on SQLite and on Neo4j: the figures equal the API's answers,
the survey's answers appear once posted, an integration key lands on its own view and
sees no company beyond its direct suppliers by id, no call of its page is refused,
screenshots are saved and axe-core finds no serious accessibility problem."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest

from api_tests.test_ui_pages import percent, sign_in, text, texts
from api_tests.ui_harness import (
    LiveService,
    browser,
    live,
    screenshot,
    serious_accessibility_violations,
)
from service.access.keys import Role

__all__ = ["browser", "live"]

QUAKE = {"id": "ui-quake", "title": "Earthquake in Guangdong and Seoul", "kind": "earthquake",
         "occurred_at": "2026-05-01T03:00:00Z", "area": {"regions": ["CN-GD", "KR-11"]}}


@pytest.fixture(scope="module")
def admin_key(live: LiveService) -> str:
    key = live.key(Role.admin)
    created = live.api(key).post("/v1/incidents", json=QUAKE)
    assert created.status_code == 201, created.text
    return key


def share(part: int, whole: int) -> str:
    """part / whole in percent, one decimal, rounded half up, exactly (as the page does)."""
    tenths = (part * 2000 + whole) // (2 * whole)
    return f"{tenths // 10}.{tenths % 10}%"


def wait_for(driver: Any, css: str, seconds: float = 30) -> None:
    """Until `css` is on the page and the page's script has drawn it all."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, seconds).until(lambda d: d.find_elements(By.CSS_SELECTOR, css) and (
        d.execute_script("return document.body.dataset.ready === 'true'")))


def refused_calls(driver: Any) -> list[str]:
    """The page's own API calls that were answered 4xx or 5xx."""
    entries = driver.execute_script(
        "return performance.getEntriesByType('resource')"
        ".map((r) => [r.name, r.responseStatus])")
    return [f"{status} {name}" for name, status in entries if status >= 400]


def test_from_the_overview_to_the_incident_page_with_the_api_exposure(
        live: LiveService, browser: Any, admin_key: str) -> None:
    from selenium.webdriver.common.by import By

    api = live.api(admin_key)
    exposure = api.get("/v1/incidents/ui-quake/exposure", params={"root": "focal"}).json()
    sign_in(browser, live, admin_key)
    row = 'tr[data-incident="ui-quake"]'
    wait_for(browser, f"{row} a")
    assert text(browser, f'{row} [data-field="exposed"]') == f"{exposure['exposed']:,}"
    assert text(browser, f'{row} [data-field="paths"]') == share(
        exposure["paths"]["exposed"], exposure["paths"]["total"])
    screenshot(browser, live, "overview-incidents")
    browser.find_element(By.CSS_SELECTOR, f"{row} a").click()
    wait_for(browser, "#exposed-table")
    assert browser.current_url == f"{live.url}/ui/incidents/ui-quake"

    incident = api.get("/v1/incidents/ui-quake").json()
    assert text(browser, "h1") == QUAKE["title"]
    assert text(browser, '#incident [data-field="occurred_at"] dd') == incident["occurred_at"]
    assert text(browser, '#incident [data-field="affected"] dd') == str(incident["affected"])
    focal = api.get("/v1/companies/focal").json()["name"]
    assert focal in text(browser, "#root")  # the issuer of every demo request
    summary = "#exposure-summary [data-field={}] dd"
    assert text(browser, summary.format("exposed")) == f"{exposure['exposed']:,}"
    paths = exposure["paths"]
    assert text(browser, summary.format("paths")) == f"{paths['exposed']:,} of {paths['total']:,}"
    assert text(browser, summary.format("path_share")) == share(paths["exposed"], paths["total"])
    assert [(int(r.get_attribute("data-tier")), int(r.find_element(By.TAG_NAME, "td").text))
            for r in browser.find_elements(By.CSS_SELECTOR, "#exposure-tiers tbody tr")] == [
        (t["tier"], t["exposed"]) for t in exposure["tiers"]]
    tier1 = browser.find_elements(By.CSS_SELECTOR, "#exposure-tier1 tbody tr")
    assert [(r.get_attribute("data-company"),
             r.find_element(By.CSS_SELECTOR, '[data-field="exposed_upstream"]').text,
             r.find_element(By.CSS_SELECTOR, '[data-field="min_tier"]').text) for r in tier1] == [
        (s["company_id"], str(s["exposed_upstream"]), str(s["min_tier"]))
        for s in exposure["tier1"]]
    assert {r.get_attribute("data-state"): r.find_element(By.TAG_NAME, "td").text
            for r in browser.find_elements(By.CSS_SELECTOR, "#exposure-bcp tbody tr")} == {
        state: str(n) for state, n in exposure["bcp"]["states"].items()}
    _check_exposed_pages(browser, api)
    screenshot(browser, live, "incident")
    assert serious_accessibility_violations(browser) == []


def _check_exposed_pages(browser: Any, api: Any) -> None:
    from selenium.webdriver.common.by import By

    url = "/v1/incidents/ui-quake/exposure/companies"
    first = api.get(url, params={"root": "focal", "limit": 25}).json()
    second = api.get(url, params={"root": "focal", "limit": 25,
                                  "cursor": first["next_cursor"]}).json()
    for page in (first, second):
        rows = browser.find_elements(By.CSS_SELECTOR, "#exposed-table tbody tr")
        assert [r.get_attribute("data-company") for r in rows] == [
            c["company_id"] for c in page["items"]]
        assert texts(browser, '#exposed-table [data-field="tier"]') == [
            str(c["tier"]) for c in page["items"]]
        assert texts(browser, '#exposed-table [data-field="bcp_state"]') == [
            (c["bcp_state"] or "—").replace("_", " ") for c in page["items"]]
        assert page["items"][0]["name"] in rows[0].text
        if page is first:
            browser.find_element(By.ID, "exposed-next").click()
            wait_for(browser, "#exposed-previous")
    assert not browser.find_elements(By.ID, "exposed-next")  # 34 exposed: two pages


def test_the_surveys_answers_appear_on_the_incident_page(
        live: LiveService, browser: Any, admin_key: str) -> None:
    from selenium.webdriver.common.by import By

    api = live.api(admin_key)
    survey_id = f"ui-quake-report-{live.kind}"
    issued = api.post("/v1/incidents/ui-quake/survey",
                      json={"root": "focal", "due_hours": 48, "id": survey_id})
    assert issued.status_code == 201, issued.text
    exposed = api.get("/v1/incidents/ui-quake/exposure/companies",
                      params={"root": "focal", "limit": 100}).json()["items"]
    chain = next(c["chain"] for c in exposed if len(c["chain"]) >= 3)  # focal, a, b, ...
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=10)
    for buyer, supplier in zip(chain[:2], chain[1:3], strict=True):
        sent = api.post("/v1/cascades", json={"request_id": survey_id, "from_id": buyer,
                                              "to_id": supplier, "sent_at": start.isoformat()})
        assert sent.status_code == 201, sent.text
    for company, hours, impact in ((chain[1], 2, "severe"), (chain[2], 5, "partial")):
        answered = api.post("/v1/acknowledgements", json={
            "request_id": survey_id, "company_id": company, "status": "accepted",
            "at": (start + timedelta(hours=hours)).isoformat(), "evidence": {"impact": impact}})
        assert answered.status_code == 201, answered.text
    coverage = api.get(f"/v1/requests/{survey_id}/coverage").json()
    assert coverage["impact"]["severe"] == coverage["impact"]["partial"] == 1

    sign_in(browser, live, admin_key, "/ui/incidents/ui-quake")
    survey = f'[data-survey="{survey_id}"]'
    assert text(browser, f'{survey} [data-field="coverage"] dd') == percent(
        coverage["coverage_ratio"])
    times = coverage["time_to_report_hours"]
    assert text(browser, f'{survey} [data-field="median"] dd') == f"{times['median']:.1f} h"
    assert text(browser, f'{survey} [data-field="p90"] dd') == f"{times['p90']:.1f} h"
    assert {r.get_attribute("data-impact"): r.find_element(By.TAG_NAME, "td").text
            for r in browser.find_elements(By.CSS_SELECTOR, f"{survey} .impact tbody tr")} == {
        impact: str(n) for impact, n in coverage["impact"].items()}
    screenshot(browser, live, "incident-survey")
    assert serious_accessibility_violations(browser) == []
    browser.find_element(By.CSS_SELECTOR, f"{survey} h3 a").click()
    wait_for(browser, "#summary")
    assert text(browser, "h1") == issued.json()["title"]


def _supplier_with_hidden_upstream(api: Any) -> str:
    """A tier-1 supplier reached by demo-bcp whose suppliers have suppliers of their own."""
    events = api.get("/v1/cascades", params={"request_id": "demo-bcp", "from_id": "focal",
                                             "limit": 1000}).json()
    depth = {e["to_id"]: max((c["tier"] for c in api.get(
        f"/v1/companies/{e['to_id']}/upstream", params={"depth": 3}).json()), default=0)
        for e in events}
    return max(sorted(depth), key=lambda c: depth[c])


def _hidden_ids(api: Any, company: str) -> set[str]:
    """Every company id the supplier may not see: all but its own and its suppliers'."""
    everyone = {c["id"] for c in api.get("/v1/companies", params={"limit": 1000}).json()["items"]}
    own = {link["supplier_id"] for link in api.get(
        "/v1/links", params={"buyer_id": company, "limit": 1000}).json()["items"]}
    return everyone - own - {company}


def test_an_integration_key_lands_on_its_own_cascade_view(
        live: LiveService, browser: Any, admin_key: str) -> None:
    staff = live.api(admin_key)
    company = _supplier_with_hidden_upstream(staff)
    key = live.key(Role.integration, company_id=company)
    api = live.api(key)
    sent = api.get("/v1/requests").json()
    assert sent
    sign_in(browser, live, key)
    views = {r["id"]: api.get(f"/v1/requests/{r['id']}/companies/{company}/cascade").json()
             for r in sent}
    assert sorted(texts(browser, "#view-requests tr[data-request] th")) == sorted(
        r["title"] for r in sent)
    for request_id, view in views.items():
        row = f'#view-requests tr[data-request="{request_id}"]'
        assert text(browser, f'{row} [data-field="coverage"]') == percent(view["coverage_ratio"])
        assert text(browser, f'{row} [data-field="gaps"]') == f"{view['gaps']:,}"
        assert text(browser, f'{row} [data-field="uncovered_paths"]') == (
            f"{view['paths']['uncovered']:,}")
    chosen = sent[0]["id"]
    base = f"/v1/requests/{chosen}/companies/{company}/cascade"
    _check_view_details(browser, api, base, views[chosen])
    page = browser.page_source
    leaked = sorted(i for i in _hidden_ids(staff, company)
                    if re.search(rf"(?<![\w-]){re.escape(i)}(?![\w-])", page))
    assert leaked == []
    assert "anon-" in page  # the hidden ones are there, as pseudonyms
    assert refused_calls(browser) == []
    screenshot(browser, live, "supplier-view")
    assert serious_accessibility_violations(browser) == []


def _check_view_details(browser: Any, api: Any, base: str, view: dict[str, Any]) -> None:
    from selenium.webdriver.common.by import By

    summary = "#view-summary [data-field={}] dd"
    assert text(browser, summary.format("coverage")) == percent(view["coverage_ratio"])
    assert text(browser, summary.format("gaps")) == f"{view['gaps']:,}"
    assert text(browser, summary.format("uncovered_paths")) == f"{view['paths']['uncovered']:,}"
    for tier in view["tiers"]:
        cell = browser.find_element(
            By.CSS_SELECTOR, f'#tiers tr[data-tier="{tier["tier"]}"] [data-state="unreached"]')
        assert cell.get_attribute("textContent") == f"{tier['unreached']:,}"
    gaps = api.get(f"{base}/gaps", params={"limit": 20}).json()["items"]
    assert [r.get_attribute("data-gap") for r in browser.find_elements(
        By.CSS_SELECTOR, "#gap-table tbody tr")] == [f"{g['from_id']}>{g['to_id']}" for g in gaps]
    paths = api.get(f"{base}/uncovered-paths", params={"limit": 10}).json()["items"]
    assert len(browser.find_elements(By.CSS_SELECTOR, "ol.paths button")) == len(paths)
    if paths:
        assert [e.get_attribute("data-company") for e in browser.find_elements(
            By.CSS_SELECTOR, "#path-chain li")] == paths[0]["companies"]


def test_the_supplier_view_exports_its_gaps(live: LiveService, browser: Any,
                                            admin_key: str) -> None:
    from selenium.webdriver.common.by import By

    from api_tests.test_ui_pages import _downloaded

    company = _supplier_with_hidden_upstream(live.api(admin_key))
    key = live.key(Role.integration, company_id=company)
    chosen = live.api(key).get("/v1/requests").json()[0]["id"]
    sign_in(browser, live, key, f"/ui/requests/{quote(chosen)}")
    browser.find_element(By.ID, "export-csv").click()
    exported = _downloaded(browser.downloads, f"{chosen}-{company}-cascade-gaps.csv")
    assert exported.read_bytes() == live.api(key).get(
        f"/v1/requests/{chosen}/companies/{company}/cascade/gaps.csv").content
    assert refused_calls(browser) == []


def test_staff_open_a_companys_cascade_view_from_the_request_page(
        live: LiveService, browser: Any, admin_key: str) -> None:
    from selenium.webdriver.common.by import By

    staff = live.api(admin_key)
    company = _supplier_with_hidden_upstream(staff)
    sign_in(browser, live, admin_key, "/ui/requests/demo-bcp")
    browser.find_element(By.ID, "company-id").send_keys(company)
    browser.find_element(By.CSS_SELECTOR, "#company button[type=submit]").click()
    wait_for(browser, "#cascade-view-link")
    browser.find_element(By.ID, "cascade-view-link").click()
    wait_for(browser, "#view-summary")
    base = f"/v1/requests/demo-bcp/companies/{company}/cascade"
    _check_view_details(browser, staff, base, staff.get(base).json())
    assert "anon-" not in browser.page_source  # staff see real ids
    name = staff.get(f"/v1/companies/{company}").json()["name"]
    assert text(browser, "h1") == f"Cascade view of {name}"
    screenshot(browser, live, "staff-cascade-view")


def test_path_counts_beyond_a_doubles_precision_are_shown_exactly(
        live: LiveService, browser: Any, admin_key: str) -> None:
    """3 companies a tier, 34 tiers deep: 3**34 root-to-leaf paths, more than a JavaScript
    number holds exactly; the page shows the API's integers digit for digit."""
    from selenium.webdriver.common.by import By

    api = live.api(admin_key)
    tiers = [[f"deep-{live.kind}-{d:02d}-{k}" for k in range(3)] for d in range(34)]
    root = f"deep-{live.kind}-root"
    companies = [{"id": c, "name": c.title()} for c in [root, *sum(tiers, [])]]
    links = [{"buyer_id": root, "supplier_id": c} for c in tiers[0]] + [
        {"buyer_id": a, "supplier_id": b} for near, far in zip(tiers, tiers[1:], strict=False)
        for a in near for b in far]
    for kind, items in (("companies", companies), ("links", links)):
        assert api.post(f"/v1/{kind}/batch", json={"items": items}).status_code == 200
    fire = {"id": f"deep-fire-{live.kind}", "title": "Fire at a far supplier", "kind": "fire",
            "occurred_at": "2026-05-02T00:00:00Z", "area": {"company_ids": [tiers[-1][0]]}}
    assert api.post("/v1/incidents", json=fire).status_code == 201
    paths = api.get(f"/v1/incidents/{fire['id']}/exposure", params={"root": root}).json()["paths"]
    assert (paths["exposed"], paths["total"]) == (3**33, 3**34) and 3**34 > 2**53

    sign_in(browser, live, admin_key, f"/ui/incidents/{fire['id']}?root={root}")
    summary = "#exposure-summary [data-field={}] dd"
    assert text(browser, summary.format("paths")) == f"{3**33:,} of {3**34:,}"
    assert text(browser, summary.format("path_share")) == "33.3%"
    chosen = browser.find_element(By.CSS_SELECTOR, "#root option[selected]")
    assert chosen.get_attribute("value") == root  # asked for, beside the key's issuers


def test_a_viewer_reads_the_exposure_by_ids_without_a_refused_call(
        live: LiveService, browser: Any, admin_key: str) -> None:
    viewer = live.key(Role.viewer)
    exposure = live.api(viewer).get("/v1/incidents/ui-quake/exposure",
                                    params={"root": "focal"}).json()
    sign_in(browser, live, viewer, "/ui/incidents/ui-quake")
    assert text(browser, "#root strong") == "focal"  # the demo requests' root, by id
    assert text(browser, '#exposure-summary [data-field="exposed"] dd') == (
        f"{exposure['exposed']:,}")
    name = live.api(admin_key).get("/v1/companies/focal").json()["name"]
    assert name not in browser.page_source  # a viewer reads no company names
    assert refused_calls(browser) == []
