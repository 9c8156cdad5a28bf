"""The Devices page on the emulated strap and ring: scan, pair, sync now, all through the real collector
(bleak over the bumble backend, emulated peripherals on the in-process link)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.e2e.conftest import Watch, expect

pytestmark = pytest.mark.browser

STRAP = "Demo Strap H1"
RING = "R02_DEMO"
SCAN_S = 3  # the emulated devices advertise every few hundred ms
SYNC_TIMEOUT_MS = 120_000  # a ring sync pulls its whole day log over the emulated radio


def paired_row(page: Any, name: str) -> Any:
    return page.locator("#devices-table tbody tr.device").filter(has_text=name)


def scan(page: Any) -> None:
    page.get_by_label("Seconds").fill(str(SCAN_S))
    page.get_by_role("button", name="Scan", exact=True).click()
    page.wait_for_load_state("networkidle")


def test_scan_pair_and_sync_now(ui: Watch) -> None:
    page: Any = ui.page
    page.on("dialog", lambda dialog: dialog.accept())  # the "Unpair …?" confirmation
    ui.goto("/devices")
    expect(page.get_by_role("heading", level=1, name=re.compile(r"^Devices"))).to_be_visible()
    assert page.locator("#no-collector").count() == 0, "the live service has a collector"
    assert paired_row(page, RING).count() == 1, "the demo pairs the ring"

    # Unpair the strap first, so pairing from the scan results is exercised (the demo pairs both devices).
    strap = paired_row(page, STRAP)
    if strap.count():
        strap.get_by_role("button", name="Unpair").click()
        page.wait_for_load_state("networkidle")
        expect(page.get_by_role("status").filter(has_text=f"Unpaired {STRAP}")).to_be_visible()
        assert paired_row(page, STRAP).count() == 0

    scan(page)
    results = page.locator("#scan-results tbody tr.scan-result")
    names = results.all_inner_texts()
    assert any(STRAP in r for r in names), f"the scan did not find the strap: {names}"
    assert any(RING in r for r in names), f"the scan did not find the ring: {names}"
    found = results.filter(has_text=STRAP)
    assert "heart-rate strap" in found.inner_text()

    if paired_row(page, STRAP).count() == 0:  # pair it for the demo person (selected by default)
        assert found.locator("select.pair-person").evaluate("s => s.options[s.selectedIndex].text") == "Demo"
        found.get_by_role("button", name="Pair").click()
        page.wait_for_load_state("networkidle")
        expect(page.get_by_role("status").filter(has_text=f"Paired {STRAP}")).to_be_visible()
    strap = paired_row(page, STRAP)
    assert strap.count() == 1, "the strap is paired again"
    assert re.search(r"\d+ %", strap.locator(".battery").inner_text()), "battery read while pairing"

    ring = paired_row(page, RING)
    ring.get_by_role("button", name="Sync now").click()
    status = ring.locator(".sync-status")
    page.wait_for_function(
        "el => el.dataset.state === 'done' || el.dataset.state === 'failed'",
        arg=status.element_handle(),
        timeout=SYNC_TIMEOUT_MS,
    )
    text = status.inner_text()
    assert status.get_attribute("data-state") == "done", f"sync failed: {text}"
    assert re.match(r"ok: \d+ heart rate, \d+ RR, \d+ sleep", text), text

    ui.goto("/devices")  # the page, reloaded, shows the sync in the device's row
    assert "(ok)" in paired_row(page, RING).locator(".last-sync").inner_text()
    scan(page)  # for the screenshot: paired devices, the sync's outcome and what a scan finds
    expect(page.locator("#scan-results")).to_be_visible()
    ui.screenshot("devices.png")
    ui.assert_clean()
