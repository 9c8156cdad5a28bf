"""Watched folders on the Data page in real Chromium, at laptop and phone size: a path under
[import] watch_roots is added and listed, one outside is refused with a message, and it is removed again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import LiveServer, Watch, expect
from tests.e2e.test_phone import TOO_WIDE
from tracker.config import ImportConfig

pytestmark = pytest.mark.browser


@pytest.fixture
def sync_root(live_server: LiveServer, tmp_path: Path) -> Iterator[Path]:
    """The shared demo server with `[import] watch_roots` set to a fresh folder for this test only."""
    tracker = live_server.demo.service.tracker
    before = tracker.config
    root = (tmp_path / "phone-sync").resolve()
    (root / "Gadgetbridge" / "auto-export").mkdir(parents=True)
    tracker.config = before.replace(imports=ImportConfig(watch_roots=(str(root),)))
    try:
        yield root
    finally:
        for w in tracker.import_watches.list():  # a failed assertion must not leave watches to other tests
            tracker.import_watches.remove(w.id)
        tracker.config = before


def _add_and_remove(ui: Watch, tracker: Any, root: Path, phone: bool) -> None:
    page: Any = ui.page
    page.on("dialog", lambda dialog: dialog.accept())  # the Remove button asks first (form[data-confirm])
    ui.goto("/data")
    section = page.locator("#watched-folders")
    expect(section.get_by_role("heading", name="Watched folders")).to_be_visible()
    expect(section.locator("#no-watches")).to_be_visible()

    field = section.get_by_label("Path of a file or folder")
    field.fill(str(root.parent / "elsewhere"))  # outside the root: refused, with the reason
    section.get_by_role("button", name="Watch").click()
    page.wait_for_load_state("networkidle")
    expect(page.locator("#watch-error")).to_contain_text("outside the folders this server allows")
    expect(page.locator("#watch-error")).to_contain_text(str(root))

    wanted = root / "Gadgetbridge" / "auto-export" / "Gadgetbridge.db"
    page.get_by_label("Path of a file or folder").fill(f"{root}/Gadgetbridge/../Gadgetbridge/auto-export/Gadgetbridge.db")
    page.locator("#watched-folders").get_by_role("button", name="Watch").click()
    page.wait_for_load_state("networkidle")
    expect(page.locator(".flash")).to_contain_text(f"Watching {wanted}")
    row = page.locator("#watches tr.watch")
    expect(row).to_have_count(1)
    expect(row.locator("td.path")).to_have_text(str(wanted))  # stored resolved
    expect(row).to_contain_text("not yet")

    if phone:  # a long path and a long error must wrap, not widen the page
        [w] = tracker.import_watches.list()
        tracker.import_watches.record(w.id, imported=False, result=None,
                                      error=f"{wanted} does not exist (yet) " * 3)  # fmt: skip
        ui.goto("/data")
        expect(page.locator("#watches .watch-last-error")).to_contain_text("does not exist (yet)")
        width = page.viewport_size["width"]
        assert page.evaluate("document.documentElement.scrollWidth") <= width, "the Data page scrolls sideways"
        wide = page.evaluate(TOO_WIDE, width)
        assert not wide, f"wider than {width}px: {wide[:8]}"
        box_fits = "(t) => { const b = t.closest('.table-wrap'); return b.scrollWidth <= b.clientWidth + 1; }"
        assert page.locator("#watches").evaluate(box_fits), "the watched folders scroll sideways on a phone"
        box = page.locator("#watches").get_by_role("button", name="Remove").bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width

    page.locator("#watches").get_by_role("button", name="Remove").click()
    page.wait_for_load_state("networkidle")
    expect(page.locator(".flash")).to_contain_text(f"Stopped watching {wanted}")
    expect(page.locator("#no-watches")).to_be_visible()
    ui.assert_clean(allow_status=(400,), allow_console=(r"status of 400 .*/data/watches",))


def test_add_and_remove_a_watched_folder_on_a_laptop(ui: Watch, live_server: LiveServer, sync_root: Path) -> None:
    _add_and_remove(ui, live_server.demo.service.tracker, sync_root, phone=False)
    assert live_server.demo.service.tracker.import_watches.list() == []


def test_add_and_remove_a_watched_folder_on_a_phone(phone_ui: Watch, live_server: LiveServer, sync_root: Path) -> None:
    _add_and_remove(phone_ui, live_server.demo.service.tracker, sync_root, phone=True)
    assert live_server.demo.service.tracker.import_watches.list() == []
