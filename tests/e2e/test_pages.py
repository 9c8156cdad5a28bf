"""The dashboard pages on the demo's data: what each must show, a clean console on every page, and a nav
that works on a phone. Screenshots for the README: see SCREENSHOTS in conftest.py."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import PHONE, LiveServer, Watch, expect, local_now
from tracker.analysis.claims import CLAIMS
from tracker.analysis.verdicts import Verdict

pytestmark = pytest.mark.browser

NAV = {"Overview": "/", "Sessions": "/sessions", "Sleep": "/sleep", "Evidence": "/evidence",
       "Devices": "/devices", "Data": "/data"}  # fmt: skip
VERDICTS = re.compile("|".join(re.escape(str(v)) for v in Verdict), re.I)


def heading(page: Any, name: str) -> Any:
    return page.get_by_role("heading", level=1, name=re.compile(rf"^{name}"))


@pytest.mark.parametrize("path", ["/", "/sessions", "/sessions/new", "/sleep", "/evidence", "/devices", "/data"])
def test_page_loads_cleanly(ui: Watch, path: str) -> None:
    """No console errors, no CSP violations, no failed or non-local requests; every asset from 127.0.0.1."""
    response = ui.goto(path)
    assert response is not None and response.status == 200, f"{path}: HTTP {response and response.status}"
    assert urlsplit(ui.page.url).path == path
    if ui.page.locator("[data-chart]").count():
        ui.wait_for_charts()
    csp = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert all(urlsplit(u).hostname == "127.0.0.1" for u in ui.requests if u.startswith("http")), ui.requests
    ui.assert_clean()


def test_overview(ui: Watch) -> None:
    page: Any = ui.page
    ui.goto("/")
    expect(heading(page, "Overview")).to_be_visible()
    main = page.locator("main")
    assert "No data yet" not in main.inner_text(), "the demo has 8 weeks of data: the Overview must show it"
    ui.wait_for_charts()
    assert main.locator("[data-chart] canvas").count() >= 1, "no chart drew on the Overview"
    assert main.get_by_role("link", name=re.compile(r"\d{2}:\d{2}")).count() >= 1, "no upcoming session listed"
    ui.screenshot("overview.png")
    ui.assert_clean()


def test_evidence_shows_claims_with_verdicts(ui: Watch) -> None:
    page: Any = ui.page
    ui.goto("/evidence")
    expect(heading(page, "Evidence")).to_be_visible()
    page.locator("#not-measured details").evaluate("(d) => d.open = true")  # collapsed by default
    text = page.locator("main").inner_text()
    shown = [c for c in CLAIMS if c.claim in text]
    assert len(shown) == len(CLAIMS), f"claims missing: {[c.claim for c in CLAIMS if c not in shown]}"
    verdicts = VERDICTS.findall(text)
    assert len(verdicts) >= len(CLAIMS), f"expected a verdict per claim, found {len(verdicts)}: {set(verdicts)}"
    ui.assert_clean()


def test_sleep_shows_nights(ui: Watch, live_server: LiveServer) -> None:
    page: Any = ui.page
    ui.goto("/sleep")
    expect(heading(page, "Sleep")).to_be_visible()
    main = page.locator("main")
    assert "No data yet" not in main.inner_text()
    # one stage chart per recent night (the demo ring synced 8 weeks of sleep), the newest ending this
    # morning or yesterday's (local dates: nights are labelled by the morning they end)
    nights = main.get_by_role("img", name=re.compile(r"night ending \d{4}-\d{2}-\d{2}"))
    assert nights.count() >= 7, f"only {nights.count()} nights shown"
    labels = [re.search(r"\d{4}-\d{2}-\d{2}", n.get_attribute("aria-label") or "").group(0) for n in nights.all()]
    today = local_now().date()
    recent = {today.isoformat(), (today - dt.timedelta(days=1)).isoformat()}
    assert recent & set(labels), f"last night is missing: nights shown {labels[:3]}…"
    assert main.get_by_text(re.compile(r"\d+ h \d+ min")).count() >= 7, "no sleep durations shown"
    weeks = main.locator("table").filter(has_text="week").locator("tbody tr")
    assert weeks.count() >= 7, f"weekly averages: {weeks.count()} weeks for 8 weeks of data"
    if main.locator("[data-chart]").count():
        ui.wait_for_charts()
    ui.screenshot("sleep.png")
    ui.assert_clean()


def test_nav_on_a_phone(phone_ui: Watch) -> None:
    page: Any = phone_ui.page
    phone_ui.goto("/")
    width = PHONE["width"]
    overflow = page.evaluate("document.documentElement.scrollWidth")
    assert overflow <= width + 1, f"the Overview scrolls sideways on a {width}px phone ({overflow}px wide)"
    nav = page.get_by_role("navigation", name="Main")
    toggle = page.get_by_role("button", name=re.compile("menu", re.I))
    for label, path in NAV.items():
        link = nav.get_by_role("link", name=label, exact=True)
        if not link.is_visible() and toggle.count():
            toggle.first.click()  # a collapsed menu opens first
        assert link.is_visible(), f"nav link {label} is not visible on a phone"
        box = link.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width + 1, f"{label} is off-screen"
        assert box["height"] >= 24, f"{label} is too small to tap ({box['height']:.0f}px high)"
        with page.expect_navigation():
            link.tap()
        page.wait_for_load_state("networkidle")
        assert urlsplit(page.url).path == path, f"tapping {label} went to {page.url}"
        expect(heading(page, label)).to_be_visible()
    phone_ui.assert_clean()
