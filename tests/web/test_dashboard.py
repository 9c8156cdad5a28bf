"""Overview, Sleep, Evidence, Devices, session detail without data: empty states, nav, chart wiring."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.conftest import T0_MS
from tracker.bootstrap import Tracker
from tracker.people import PersonInfo
from tracker.sessions import SessionFields

NAV = ["Overview", "Sessions", "Sleep", "Evidence", "Devices", "Data"]


@pytest.mark.parametrize(
    ("path", "text"),
    [("/", "No data yet"), ("/sleep", "No data yet"), ("/evidence", "No data yet"), ("/devices", "No devices yet")],
)
def test_pages_show_their_empty_state_with_no_data(ana_client: FlaskClient, path: str, text: str) -> None:
    response = ana_client.get(path)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert text in html
    for label in NAV:
        assert f">{label}</a>" in html


def test_nav_marks_the_current_page(ana_client: FlaskClient) -> None:
    html = ana_client.get("/sleep").get_data(as_text=True)
    assert 'class="active" aria-current="page">Sleep</a>' in html


def test_overview_has_a_heart_rate_chart_fed_by_the_api(ana_client: FlaskClient, ana: PersonInfo) -> None:
    html = ana_client.get("/").get_data(as_text=True)
    assert f'data-chart data-person="{ana.id}" data-kind="heart_rate" data-tz="Europe/Berlin"' in html
    assert 'data-samples-url="/api/v1/samples"' in html
    assert "/static/vendor/uPlot.iife.min.js" in html and "/static/charts.js" in html


def test_vendored_chart_library_is_served(ana_client: FlaskClient) -> None:
    for path in (
        "/static/vendor/uPlot.iife.min.js",
        "/static/vendor/uPlot.min.css",
        "/static/charts.js",
        "/static/app.js",
    ):
        assert ana_client.get(path).status_code == 200, path


def test_devices_page_lists_the_selected_persons_devices_only(
    ana_client: FlaskClient, tracker: Tracker, ana: PersonInfo, bo: PersonInfo
) -> None:
    devices = tracker.devices  # the real tracker.devices.Devices service
    assert "No wearable is paired" in ana_client.get("/devices").get_data(as_text=True)
    devices.upsert("AA:BB:CC:DD:EE:01", ana.id, name="Polar H10", battery_pct=87)
    devices.upsert("AA:BB:CC:DD:EE:02", bo.id, name="Bo's ring")
    cleo = tracker.people.add("Cleo", "UTC", user_name="ana")
    devices.upsert("AA:BB:CC:DD:EE:03", cleo.id, name="Cleo's strap")
    html = ana_client.get(f"/devices?person={ana.id}").get_data(as_text=True)
    assert "Polar H10" in html and "87" in html
    assert "Bo&#39;s ring" not in html and "Cleo&#39;s strap" not in html
    assert "Cleo&#39;s strap" in ana_client.get(f"/devices?person={cleo.id}").get_data(as_text=True)


def test_session_detail_without_data_shows_empty_windows(ana_client: FlaskClient, tracker: Tracker, ana: PersonInfo) -> None:
    info = tracker.sessions.create(ana.id, SessionFields(T0_MS - 7_200_000, T0_MS - 3_600_000))
    html = ana_client.get(f"/sessions/{info.id}").get_data(as_text=True)
    assert 'id="session-chart"' in html and f'data-series-url="/api/v1/sessions/{info.id}/chart"' in html
    assert "no data" in html and "No capture windows are recorded" in html
    assert "no sleep recorded" in html  # the following nights, honestly empty


def test_person_names_are_escaped(ana_client: FlaskClient, tracker: Tracker) -> None:
    tracker.people.add("<script>alert(1)</script>", "UTC", user_name="ana")
    html = ana_client.get("/").get_data(as_text=True)
    assert "<script>alert(1)" not in html and "&lt;script&gt;" in html
