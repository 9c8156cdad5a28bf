"""The Data page in real Chromium: an upload shows its progress and one result per file (the kind
recognised, a warning for data far from the rest), and the import is undone from the page."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Watch, expect

pytestmark = pytest.mark.browser


def test_upload_shows_results_and_undo_removes_the_rows(ui: Watch, tmp_path: Path) -> None:
    page: Any = ui.page
    good = tmp_path / "puls.csv"  # a German spreadsheet's file, recognised by its header
    good.write_text("timestamp;bpm\n" + "".join(f"2012-05-01T10:00:{s:02d}+02:00;{60 + s}\n" for s in range(30)))
    bad = tmp_path / "rr_intervals.csv"
    bad.write_text("timestamp,rr_ms\n2012-05-01T10:00:00Z,abc\n")
    ui.goto("/data")
    page.set_input_files("#files", [str(good), str(bad)])
    with page.expect_request(lambda r: r.method == "POST" and "/data/import" in r.url) as sent:
        page.get_by_role("button", name="Import").click()
    assert sent.value.resource_type == "xhr"  # sent by upload.js, which reports the progress

    results = page.locator("table.results")
    expect(results).to_be_visible()
    rows = results.locator("tbody tr")
    expect(rows.nth(0)).to_contain_text("puls.csv")
    expect(rows.nth(0)).to_contain_text("heart_rate.csv")
    expect(rows.nth(0)).to_contain_text(re.compile(r"Warning: data .* days from the person's other data"))
    expect(rows.nth(1)).to_contain_text("rr_intervals.csv:2: rr_ms 'abc' is not a number")
    # undo from the page: the counts first, then the deletion
    rows.nth(0).get_by_role("link", name="Undo…").click()
    page.wait_for_load_state("networkidle")
    expect(page.locator("ul.undo-counts")).to_contain_text("30 heart-rate samples")
    page.get_by_role("button", name="Delete 30 rows").click()
    page.wait_for_load_state("networkidle")
    expect(page.locator("p.notice")).to_contain_text("deleted 30 heart-rate")
    # the upload with a failed file answers 400 by design (and Chromium logs that status)
    ui.assert_clean(allow_status=(400,), allow_console=(r"status of 400 .*/data/import",))
