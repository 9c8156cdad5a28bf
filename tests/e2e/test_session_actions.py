"""Session actions in the browser at both sizes: filters, no "Mark done" before the start, cancel → restore,
delete only after confirming, and each action's message saying what happened."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from tests.e2e.conftest import LiveServer, Watch, expect, local_now
from tracker.model import SessionKind
from tracker.sessions import SessionFields

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(("viewport", "days_ahead"), [("ui", 20), ("phone_ui", 21)])
def test_cancel_restore_delete(request: pytest.FixtureRequest, live_server: LiveServer, viewport: str,
                               days_ahead: int) -> None:  # fmt: skip
    watch: Watch = request.getfixturevalue(viewport)
    page: Any = watch.page
    start = (local_now() + dt.timedelta(days=days_ahead)).replace(hour=3, minute=0, second=0, microsecond=0)
    start_ms = int(start.timestamp() * 1000)
    sessions = live_server.demo.service.tracker.sessions
    sid = sessions.create(live_server.person_id, SessionFields(start_ms, start_ms + 3_600_000, kind=SessionKind.MASSAGE)).id

    watch.goto(f"/sessions/{sid}")
    main = page.locator("main")
    assert main.get_by_role("link", name="Mark done").count() == 0, "a future session offers Mark done"
    expect(main.get_by_text("Can be marked done once it has started.")).to_be_visible()

    page.once("dialog", lambda d: d.accept())
    main.get_by_role("button", name="Cancel session").click()
    page.wait_for_load_state("networkidle")
    expect(page.locator(".flash")).to_contain_text(re.compile(r"Cancelled the massage session of .* 03:00"))

    watch.goto(f"/sessions/{sid}")
    main.get_by_role("button", name="Restore session").click()
    page.wait_for_load_state("networkidle")
    expect(page.locator(".flash")).to_contain_text("Restored the massage session of")
    assert str(sessions.get(sid).status) == "planned"

    page.once("dialog", lambda d: d.dismiss())  # changing one's mind keeps the session
    main.get_by_role("button", name="Delete").click()
    page.wait_for_load_state("networkidle")
    assert sessions.get(sid).id == sid
    page.once("dialog", lambda d: d.accept())
    main.get_by_role("button", name="Delete").click()
    page.wait_for_load_state("networkidle")
    expect(page.locator(".flash")).to_contain_text("Deleted the massage session of")
    assert watch.goto(f"/sessions/{sid}").status == 404
    watch.assert_clean(allow_status=(404,), allow_console=(r"status of 404",))


@pytest.mark.parametrize("viewport", ["ui", "phone_ui"])
def test_filters(request: pytest.FixtureRequest, viewport: str) -> None:
    watch: Watch = request.getfixturevalue(viewport)
    page: Any = watch.page
    watch.goto("/sessions")
    with page.expect_navigation():
        page.get_by_label("Status").select_option("done")
    page.wait_for_load_state("networkidle")
    assert "status=done" in page.url
    statuses = page.locator("table.sessions tbody .badge").all_inner_texts()
    assert statuses and set(statuses) == {"done"}, statuses
    with page.expect_navigation():
        page.get_by_label("Kind").select_option("massage")
    page.wait_for_load_state("networkidle")
    assert "kind=massage" in page.url and "status=done" in page.url
    kinds = page.locator("table.sessions tbody td[data-label=Kind]").all_inner_texts()
    assert kinds and set(kinds) == {"massage"}, kinds
    watch.assert_clean()
