"""Sleep history in the browser at both sizes: go back a week, pick a date, follow a night to its session."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.e2e.conftest import Watch, expect

pytestmark = pytest.mark.browser


def nights(page: Any) -> list[str]:
    return [f.get_attribute("data-night") for f in page.locator("figure.hypnogram").all()]


@pytest.mark.parametrize("viewport", ["ui", "phone_ui"])
def test_browse_weeks_and_follow_a_night_to_its_session(request: pytest.FixtureRequest, viewport: str) -> None:
    watch: Watch = request.getfixturevalue(viewport)
    page: Any = watch.page
    watch.goto("/sleep")
    latest = nights(page)
    assert len(latest) == 7, latest
    with page.expect_navigation():
        page.get_by_role("link", name=re.compile("Earlier week")).click()
    earlier = nights(page)
    assert earlier and max(earlier) < min(latest), (earlier, latest)
    assert dt.date.fromisoformat(max(latest)) - dt.date.fromisoformat(max(earlier)) == dt.timedelta(days=7)
    # the date picker: three weeks back
    target = dt.date.fromisoformat(max(latest)) - dt.timedelta(days=21)
    page.get_by_label("Week ending").fill(target.isoformat())
    with page.expect_navigation():
        page.get_by_role("button", name="Show").click()
    assert parse_qs(urlsplit(page.url).query)["until"] == [target.isoformat()]
    assert nights(page)[0] == target.isoformat()
    link = page.locator("figure.hypnogram .session-link").first
    expect(link).to_be_visible()
    with page.expect_navigation():
        link.click()
    assert re.match(r"^/sessions/\d+$", urlsplit(page.url).path)
    watch.assert_clean()
