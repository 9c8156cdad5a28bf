"""Overview, Sleep, Evidence, Devices, session detail: empty states now, plugged-in services later."""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(frozen=True)
class Night:
    night: str
    ln_rmssd: float


class FakeReports:
    """A stand-in for the reports service that will be plugged into tracker.extras["reports"]."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []

    def overview(self, person_id: int) -> dict[str, object]:
        self.calls.append(("overview", person_id))
        return {"nights_recorded": 12, "primary_metric": "ln_rmssd_night"}

    def nights(self, person_id: int) -> list[Night]:
        self.calls.append(("nights", person_id))
        return [Night("2027-02-27", 3.912), Night("2027-02-28", 4.021)]

    def evidence(self, person_id: int) -> None:
        self.calls.append(("evidence", person_id))
        return None  # "nothing to show yet" keeps the empty state

    def session_detail(self, session_id: int) -> dict[str, object]:
        self.calls.append(("session_detail", session_id))
        return {"pre_rmssd_ms": 41.5, "post_rmssd_ms": 48.25}


def test_plugged_in_reports_are_called_for_the_selected_person(
    ana_client: FlaskClient, tracker: Tracker, ana: PersonInfo
) -> None:
    reports = FakeReports()
    tracker.extras["reports"] = reports
    assert "nights recorded" in ana_client.get("/").get_data(as_text=True)
    sleep = ana_client.get("/sleep").get_data(as_text=True)
    assert "2027-02-28" in sleep and "4.021" in sleep and "<table>" in sleep
    assert "No data yet" in ana_client.get("/evidence").get_data(as_text=True)
    assert reports.calls == [("overview", ana.id), ("nights", ana.id), ("evidence", ana.id)]


def test_devices_page_lists_the_selected_persons_devices_only(
    ana_client: FlaskClient, tracker: Tracker, ana: PersonInfo, bo: PersonInfo
) -> None:
    devices = tracker.extras["devices"]  # the real tracker.devices.Devices service
    assert "No wearable is paired" in ana_client.get("/devices").get_data(as_text=True)
    devices.upsert("AA:BB:CC:DD:EE:01", ana.id, name="Polar H10", battery_pct=87)
    devices.upsert("AA:BB:CC:DD:EE:02", bo.id, name="Bo's ring")
    cleo = tracker.people.add("Cleo", "UTC", user_name="ana")
    devices.upsert("AA:BB:CC:DD:EE:03", cleo.id, name="Cleo's strap")
    html = ana_client.get(f"/devices?person={ana.id}").get_data(as_text=True)
    assert "Polar H10" in html and "87" in html
    assert "Bo&#39;s ring" not in html and "Cleo&#39;s strap" not in html
    assert "Cleo&#39;s strap" in ana_client.get(f"/devices?person={cleo.id}").get_data(as_text=True)


def test_devices_page_without_the_service(ana_client: FlaskClient, tracker: Tracker) -> None:
    tracker.extras.pop("devices", None)
    assert "not available in this process" in ana_client.get("/devices").get_data(as_text=True)


def test_session_detail_empty_then_with_reports(ana_client: FlaskClient, tracker: Tracker, ana: PersonInfo) -> None:
    info = tracker.sessions.create(ana.id, SessionFields(T0_MS - 7_200_000, T0_MS - 3_600_000))
    html = ana_client.get(f"/sessions/{info.id}").get_data(as_text=True)
    assert "No data yet" in html
    assert f'data-from="{info.start_ms - 3_600_000}"' in html and f'data-to="{info.end_ms + 3_600_000}"' in html
    tracker.extras["reports"] = FakeReports()
    html = ana_client.get(f"/sessions/{info.id}").get_data(as_text=True)
    assert "pre rmssd ms" in html and "48.25" in html


def test_service_results_are_escaped(ana_client: FlaskClient, tracker: Tracker) -> None:
    class Evil(FakeReports):
        def overview(self, person_id: int) -> dict[str, object]:
            return {"note": "<script>alert(1)</script>"}

    tracker.extras["reports"] = Evil()
    html = ana_client.get("/").get_data(as_text=True)
    assert "<script>alert(1)" not in html and "&lt;script&gt;" in html


def test_generic_results_show_epoch_ms_as_local_time(ana_client: FlaskClient, tracker: Tracker) -> None:
    class Timed(FakeReports):
        def overview(self, person_id: int) -> dict[str, object]:
            return {"last_night_end_ms": T0_MS, "window_ms": 300_000}

    tracker.extras["reports"] = Timed()
    html = ana_client.get("/").get_data(as_text=True)
    assert "2027-03-01 13:00" in html  # 12:00Z in Berlin
    assert "300000" in html  # a duration stays a number
