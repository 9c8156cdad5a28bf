"""Sessions in the browser: plan one through the form and find it on the Overview as the next one; open a
past session's detail page."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import LiveServer, Watch, expect, local_now

pytestmark = pytest.mark.browser

SESSION_PATH = re.compile(r"^/sessions/(\d+)$")


def session_links(page: Any) -> list[int]:
    """Ids of the sessions linked from <main>, in document order."""
    hrefs = page.locator("main a[href]").evaluate_all("els => els.map((a) => new URL(a.href).pathname)")
    return [int(m.group(1)) for h in hrefs if (m := SESSION_PATH.match(h))]


def test_planned_session_is_next_on_overview(ui: Watch, live_server: LiveServer) -> None:
    page: Any = ui.page
    # Two hours from now, on the minute: in the future, and before the demo's first planned session
    # (tomorrow 17:30 local), which it must not overlap.
    start = (local_now() + dt.timedelta(hours=2)).replace(second=0, microsecond=0)
    ui.goto("/sessions")
    page.get_by_role("link", name="Add session").click()
    page.wait_for_load_state("networkidle")
    expect(page.get_by_role("heading", name="Add session")).to_be_visible()

    page.get_by_label("Date", exact=True).fill(start.strftime("%Y-%m-%d"))
    page.get_by_label("Start time").fill(start.strftime("%H:%M"))
    page.get_by_label("Minutes", exact=True).fill("45")
    page.get_by_label("Kind", exact=True).select_option("massage")
    page.get_by_label("Technique").select_option(index=1)
    page.get_by_label("Pressure (1-5)").fill("3")
    page.get_by_label("Body areas").fill("back; neck")
    page.get_by_label("Therapist").fill("E2E Therapist")
    page.get_by_label("Notes").fill("planned by the browser test")
    page.locator("form.session-form").get_by_role("button", name="Add session").click()
    page.wait_for_load_state("networkidle")

    match = SESSION_PATH.match(urlsplit(page.url).path)
    assert match, f"adding a session should open its page, got {page.url}"
    new_id = int(match.group(1))
    expect(page.get_by_role("status").filter(has_text="Session planned")).to_be_visible()
    main = page.locator("main")
    assert "E2E Therapist" in main.inner_text()
    assert "planned" in main.locator(".badge").first.inner_text().lower()

    ui.goto("/")
    expect(page.get_by_role("heading", level=1, name=re.compile(r"^Overview"))).to_be_visible()
    planned = page.request.get(
        live_server.at(f"/api/v1/sessions?status=planned&person={live_server.person_id}")
    ).json()["sessions"]
    planned_ids = {s["id"] for s in planned}
    assert new_id in planned_ids
    on_page = [i for i in session_links(page) if i in planned_ids]
    assert on_page, "the Overview links to no planned session"
    assert on_page[0] == new_id, f"the next planned session should be #{new_id}, the Overview shows {on_page}"
    assert start.strftime("%H:%M") in main.inner_text()

    ui.goto("/sessions")
    row = page.locator("table.sessions tbody tr").filter(has=page.locator(f'a[href="/sessions/{new_id}"]'))
    assert row.count() == 1
    assert "planned" in row.inner_text()
    ui.assert_clean()


def test_session_detail_page(ui: Watch, live_server: LiveServer) -> None:
    page: Any = ui.page
    ui.goto("/sessions")
    done = page.locator("table.sessions tbody tr.status-done").filter(has_text="massage").first
    done.get_by_role("link").first.click()
    page.wait_for_load_state("networkidle")

    assert SESSION_PATH.match(urlsplit(page.url).path), page.url
    expect(page.get_by_role("heading", level=1, name=re.compile(r"^Massage"))).to_be_visible()
    main = page.locator("main")
    text = main.inner_text()
    assert "done" in text.lower()
    assert "Mia" in text, "the therapist the demo logged"
    # the demo recorded RR before and after every past session: both windows have beats and pass the gate
    windows = page.locator("table").filter(has_text="lnRMSSD").filter(has_text="Before").first
    expect(windows).to_be_visible()
    for name in ("Before", "After"):
        row = windows.locator("tbody tr").filter(has_text=name).first
        cells = row.inner_text()
        assert re.search(r"\d+(\.\d+)? bpm", cells), f"{name}: no heart rate in {cells!r}"
        assert "passed" in cells, f"{name} window did not pass the quality gate: {cells!r}"
    assert "No data yet" not in text
    ui.wait_for_charts()
    assert main.locator("[data-chart] canvas").count() >= 1, "the heart-rate chart did not draw"
    ui.screenshot("session.png")
    ui.assert_clean()
