"""Every page at 390×844: nothing wider than the screen (wide tables become cards or scroll inside a box that
says so), and the Devices page's actions within reach."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import LiveServer, Watch

pytestmark = pytest.mark.browser

# Elements whose right edge passes the viewport, ignoring what sits inside a scroll box (overflow-x auto or
# scroll: the box itself must fit) and what is clipped to nothing (visually hidden text).
TOO_WIDE = """
(vw) => {
  const inScrollBox = (el) => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX;
      if (o === "auto" || o === "scroll" || o === "hidden") return true;
    }
    return false;
  };
  const out = [];
  for (const el of document.body.querySelectorAll("*")) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    const style = getComputedStyle(el);
    if (style.clipPath && style.clipPath.startsWith("inset(50%")) continue;
    if ((r.right > vw + 1 || r.left < -1) && !inScrollBox(el)) {
      out.push(`${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}.${[...el.classList].join(".")} ` +
               `[${Math.round(r.left)}, ${Math.round(r.right)}]`);
    }
  }
  return out;
}
"""

SCROLL_BOXES_WITHOUT_CUE = """
() => [...document.querySelectorAll(".table-wrap")].filter((box) =>
  box.scrollWidth > box.clientWidth + 1 && !box.classList.contains("scrolls")).map((b) => b.className)
"""


def session_path(server: LiveServer) -> str:
    sessions = server.demo.service.tracker.sessions.list(server.person_id, limit=500)
    done = [s for s in sessions if str(s.status) == "done" or getattr(s.status, "value", "") == "done"]
    return f"/sessions/{done[-1].id}"


@pytest.mark.parametrize("path", ["/", "/sessions", "/sessions/new", "/sleep", "/evidence", "/devices", "/data",
                                  "/people", "SESSION"])  # fmt: skip
def test_nothing_wider_than_a_phone(phone_ui: Watch, live_server: LiveServer, path: str) -> None:
    page: Any = phone_ui.page
    if path == "SESSION":
        path = session_path(live_server)
    phone_ui.goto(path)
    if page.locator("[data-chart]").count():
        phone_ui.wait_for_charts()
    for details in page.locator("main details").all():  # opened, the collapsed tables must fit too
        details.evaluate("(d) => d.open = true")
    width = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width, f"{path} scrolls sideways"
    wide = page.evaluate(TOO_WIDE, width)
    assert not wide, f"{path}: wider than {width}px: {wide[:8]}"
    no_cue = page.evaluate(SCROLL_BOXES_WITHOUT_CUE)
    assert not no_cue, f"{path}: a box scrolls sideways without a visible cue: {no_cue}"
    phone_ui.assert_clean()


def test_device_actions_reachable_on_a_phone(phone_ui: Watch) -> None:
    page: Any = phone_ui.page
    phone_ui.goto("/devices")
    width = page.viewport_size["width"]
    actions = page.locator("main").get_by_role("button", name="Unpair")
    assert actions.count() >= 1, "the demo's devices have no Unpair button"
    for name in ("Sync now", "Unpair"):
        for button in page.locator("main").get_by_role("button", name=name).all():
            box = button.bounding_box()
            assert box is not None and 0 <= box["x"] and box["x"] + box["width"] <= width, f"{name} off-screen: {box}"
    last_sync = page.locator("main td.last-sync").first
    box = last_sync.bounding_box()
    assert last_sync.is_visible() and box is not None and box["x"] + box["width"] <= width, f"Last sync: {box}"
    label = last_sync.evaluate("(td) => getComputedStyle(td, '::before').content")
    assert "Last sync" in label, f"the card shows no 'Last sync' label: {label}"
    phone_ui.assert_clean()
