"""The Data page's export in the browser: the streamed zip arrives with a progress line and is saved."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest

from tests.e2e.conftest import Watch, expect

pytestmark = pytest.mark.browser


def test_export_zip_shows_progress_and_downloads(ui: Watch) -> None:
    page: Any = ui.page
    ui.goto("/data")
    with page.expect_download(timeout=180_000) as info:  # the demo stores ~1 M RR rows: a big zip
        page.get_by_role("button", name="Download all (zip)").click()
    download = info.value
    assert download.suggested_filename.endswith("-export.zip")
    data = open(download.path(), "rb").read()
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert set(names) == {"heart_rate.csv", "rr_intervals.csv", "sleep_stages.csv", "sessions.csv", "device_metrics.csv"}
    expect(page.locator("[data-progress-text]")).to_contain_text("MB")
    ui.assert_clean()
