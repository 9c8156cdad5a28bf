"""Devices page and the new /api/v1 endpoints: account scoping, and the view wiring to the collector port.

The collector here is a small fake `CollectorPort` (the real one is tested in tests/device against
emulated devices); what is under test is how the views call it and show its answers and errors.
"""

from __future__ import annotations

import threading
import time

import pytest
from flask.testing import FlaskClient

from tests.web.seed import Seeded, seed_person
from tracker.bootstrap import Tracker
from tracker.errors import UserError
from tracker.people import PersonInfo
from tracker.ports import CaptureOutcome, ScanResult, SyncOutcome
from web.downsample import chart_series


class NotInRange(UserError):
    """Like the collector's own error when a device does not answer."""


class FakeCollector:
    def __init__(self, tracker: Tracker) -> None:
        self.tracker = tracker
        self.calls: list[tuple[str, object]] = []
        self.release = threading.Event()
        self.fail_with: Exception | None = None

    def scan(self, seconds: float) -> list[ScanResult]:
        self.calls.append(("scan", seconds))
        if self.fail_with:
            raise self.fail_with
        return [
            ScanResult("C4:7C:8D:6A:11:99", "R02_1199", -61, "colmi"),
            ScanResult("AA:00:00:00:00:01", "Polar H10 1234", -70, "hrs"),
            ScanResult("AA:00:00:00:00:02", "Headphones", -80, None),
        ]

    def pair(self, address: str, person_id: int) -> int:
        self.calls.append(("pair", (address, person_id)))
        if self.fail_with:
            raise self.fail_with
        return self.tracker.devices.upsert(address, person_id, name="R02_1199", family="colmi", battery_pct=80).id

    def capture(self, device_id: int, seconds: float, capture_id: int) -> CaptureOutcome:
        raise AssertionError("the web never starts captures")

    def sync(self, device_id: int) -> SyncOutcome:
        self.calls.append(("sync", device_id))
        assert self.release.wait(10), "test never released the sync"
        if self.fail_with:
            raise self.fail_with
        return SyncOutcome(run_id=1, device_id=device_id, status="ok", heart_rate=288, rr=0, sleep=41, device_hrv=30)


@pytest.fixture
def collector(tracker: Tracker) -> FakeCollector:
    fake = FakeCollector(tracker)
    tracker.devices.collector = fake
    return fake


@pytest.fixture
def seeded(tracker: Tracker, ana: PersonInfo, bo: PersonInfo) -> Seeded:
    seed_person(tracker, bo, nights=10, seed=3)
    return seed_person(tracker, ana)


# -- devices page ------------------------------------------------------------------------------------


def test_without_a_collector_the_page_says_where_bluetooth_runs(ana_client: FlaskClient, seeded: Seeded) -> None:
    html = ana_client.get("/devices").get_data(as_text=True)
    assert 'id="no-collector"' in html and "tracker run" in html
    assert 'id="scan-form"' not in html and "sync-now" not in html
    row = html.split(f'data-device-id="{seeded.device.id}"')[1].split("</tr>")[0]
    assert "64 %" in row and "Mon 01 Mar 2027 13:00" in row and "unpair" in row
    response = ana_client.post("/devices/scan", data={"seconds": "5"})
    assert response.status_code == 503 and "tracker run" in response.get_data(as_text=True)


def test_scan_shows_results_with_their_family_and_pair_forms(
    ana_client: FlaskClient, collector: FakeCollector, seeded: Seeded
) -> None:
    html = ana_client.get("/devices").get_data(as_text=True)
    assert 'id="scan-form"' in html and 'id="scan-seconds"' in html and 'id="pair-form"' in html
    response = ana_client.post("/devices/scan", data={"seconds": "3"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and collector.calls == [("scan", 3.0)]
    assert 'data-address="C4:7C:8D:6A:11:99" data-family="colmi"' in html and "Colmi ring (colmi)" in html
    assert "heart-rate strap (hrs)" in html and "not supported" in html
    assert html.count('class="inline pair-form"') == 2  # the unsupported device gets no Pair button
    assert 'value="3"' in html  # the scan time entered is kept
    assert "paired to" not in html and "Re-pair" not in html
    assert ana_client.post("/devices/scan", data={"seconds": "999"}).status_code == 422


def test_scan_marks_devices_already_paired(
    ana_client: FlaskClient, tracker: Tracker, collector: FakeCollector, seeded: Seeded
) -> None:
    tracker.devices.upsert("AA:00:00:00:00:01", seeded.person.id, name="Polar H10 1234", family="hrs")
    html = ana_client.post("/devices/scan", data={"seconds": "2"}).get_data(as_text=True)
    assert f"paired to {seeded.person.name}" in html
    assert html.count(">Re-pair</button>") == 1 and html.count(">Pair</button>") == 2  # + the manual pair form


def test_pair_calls_the_collector_for_the_chosen_person(
    ana_client: FlaskClient, tracker: Tracker, collector: FakeCollector, seeded: Seeded, bo: PersonInfo
) -> None:
    response = ana_client.post("/devices/pair", data={"address": "C4:7C:8D:6A:11:99", "person": str(seeded.person.id)})
    assert response.status_code == 302
    assert collector.calls == [("pair", ("C4:7C:8D:6A:11:99", seeded.person.id))]
    html = ana_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Paired R02_1199" in html and "C4:7C:8D:6A:11:99" in html
    # another account's person: not found, and the collector is not called
    assert ana_client.post("/devices/pair", data={"address": "AA:00:00:00:00:01", "person": str(bo.id)}).status_code == 404
    assert len(collector.calls) == 1


def test_collector_errors_are_messages(ana_client: FlaskClient, collector: FakeCollector, seeded: Seeded) -> None:
    collector.fail_with = NotInRange("C4:7C:8D:6A:11:99 did not answer (not in range?)")
    response = ana_client.post("/devices/pair", data={"address": "C4:7C:8D:6A:11:99", "person": str(seeded.person.id)})
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and 'id="devices-error"' in html and "not in range?" in html
    response = ana_client.post("/devices/scan", data={"seconds": "2"})
    assert response.status_code == 400 and "not in range?" in response.get_data(as_text=True)


def _wait_final(client: FlaskClient, url: str) -> dict[str, object]:
    for _ in range(200):
        body = client.get(url).get_json()
        if body["state"] != "running":
            return body  # type: ignore[no-any-return]
        time.sleep(0.02)
    raise AssertionError("sync never finished")


def test_sync_now_answers_202_then_the_final_status(
    ana_client: FlaskClient, collector: FakeCollector, seeded: Seeded
) -> None:
    device_id = seeded.device.id
    html = ana_client.get("/devices").get_data(as_text=True)
    assert f'data-sync-url="/api/v1/devices/{device_id}/sync"' in html and 'class="sync-now"' in html
    response = ana_client.post(f"/api/v1/devices/{device_id}/sync")
    assert response.status_code == 202
    job = response.get_json()
    assert job["state"] == "running" and response.headers["Location"] == job["status_url"]
    assert job["status_url"].startswith(f"/api/v1/devices/{device_id}/sync-status?job=")
    again = ana_client.post(f"/api/v1/devices/{device_id}/sync").get_json()
    assert again["job"] == job["job"]  # one sync per device at a time
    assert "syncing…" in ana_client.get("/devices").get_data(as_text=True)
    collector.release.set()
    final = _wait_final(ana_client, job["status_url"])
    assert final["state"] == "done"
    assert final["outcome"]["heart_rate"] == 288 and final["outcome"]["sleep"] == 41  # type: ignore[index]
    assert final["outcome"]["device_hrv"] == 30  # type: ignore[index]
    assert collector.calls == [("sync", device_id)]
    page = ana_client.get("/devices").get_data(as_text=True)
    # the ring's own HRV values are counted apart and named as the device's estimate, never as our HRV
    assert "ok: 288 heart rate, 0 RR, 41 sleep, 30 HRV values (the device's own estimate)" in page


def test_sync_failure_is_reported(ana_client: FlaskClient, collector: FakeCollector, seeded: Seeded) -> None:
    collector.fail_with = NotInRange("ring not in range")
    collector.release.set()
    job = ana_client.post(f"/api/v1/devices/{seeded.device.id}/sync").get_json()
    final = _wait_final(ana_client, job["status_url"])
    assert final["state"] == "failed" and final["error"] == "ring not in range"


def test_sync_page_fallback_and_unpair(ana_client: FlaskClient, tracker: Tracker, collector: FakeCollector, seeded: Seeded) -> None:
    collector.release.set()
    response = ana_client.post(f"/devices/{seeded.device.id}/sync")
    assert response.status_code == 302 and "started" in ana_client.get("/devices").get_data(as_text=True)
    response = ana_client.post(f"/devices/{seeded.device.id}/unpair")
    assert response.status_code == 302
    assert not tracker.devices.get(seeded.device.id).paired
    assert "No wearable is paired" in ana_client.get("/devices").get_data(as_text=True)


def test_another_accounts_device_is_not_found(ana_client: FlaskClient, tracker: Tracker, collector: FakeCollector,
                                              seeded: Seeded, bo: PersonInfo) -> None:  # fmt: skip
    [bos] = [d for d in tracker.devices.list() if d.person_id == bo.id]
    for method, path in [
        ("post", f"/api/v1/devices/{bos.id}/sync"),
        ("get", f"/api/v1/devices/{bos.id}/sync-status"),
        ("delete", f"/api/v1/devices/{bos.id}"),
        ("post", f"/devices/{bos.id}/sync"),
        ("post", f"/devices/{bos.id}/unpair"),
    ]:
        assert getattr(ana_client, method)(path).status_code == 404, path
    assert collector.calls == [] and tracker.devices.get(bos.id).paired
    # a job token of ana's device does not open bo's, and vice versa
    collector.release.set()
    job = ana_client.post(f"/api/v1/devices/{seeded.device.id}/sync").get_json()
    assert ana_client.get(f"/api/v1/devices/{bos.id}/sync-status?job={job['job']}").status_code == 404


# -- API ---------------------------------------------------------------------------------------------


def test_nights_api(ana_client: FlaskClient, tracker: Tracker, seeded: Seeded, bo: PersonInfo) -> None:
    body = ana_client.get(f"/api/v1/nights?person={seeded.person.id}").get_json()
    nights = tracker.reports.nights(seeded.person.id)
    assert [n["night"] for n in body["nights"]] == [n.label.isoformat() for n in nights]
    assert body["nights"][-1]["tst_min"] == pytest.approx(nights[-1].tst_min)
    assert {s["key"] for s in body["series"]} >= {"tst_min", "sleep_efficiency_pct", "resting_hr_bpm", "ln_rmssd_night"}
    assert len(body["spans"]) == len(seeded.sessions)
    recent = ana_client.get(f"/api/v1/nights?person={seeded.person.id}&last=14").get_json()
    assert len(recent["nights"]) == 14 and recent["nights"][-1] == body["nights"][-1]
    assert ana_client.get(f"/api/v1/nights?person={bo.id}").status_code == 404


def test_captures_api(ana_client: FlaskClient, tracker: Tracker, seeded: Seeded, bo: PersonInfo) -> None:
    session = seeded.sessions[0]
    body = ana_client.get(f"/api/v1/captures?session={session.id}").get_json()
    assert [(c["phase"], c["status"], c["beats"]) for c in body["captures"]] == [("pre", "ok", 300), ("post", "ok", 300)]
    [bos] = [s for s in tracker.sessions.list(bo.id)][:1]
    assert ana_client.get(f"/api/v1/captures?session={bos.id}").status_code == 404
    assert ana_client.get(f"/api/v1/sessions/{bos.id}/chart").status_code == 404
    assert ana_client.get(f"/sessions/{bos.id}").status_code == 404
    assert ana_client.get("/api/v1/captures?session=x").status_code == 400


def test_report_api_is_the_report_json(ana_client: FlaskClient, tracker: Tracker, seeded: Seeded, bo: PersonInfo) -> None:
    body = ana_client.get(f"/api/v1/report?person={seeded.person.id}").get_json()
    assert body == tracker.reports.report(seeded.person.id).to_dict()
    assert body["sessions"] == {"massage": 7, "rest": 2} and len(body["claims"]) == 24
    assert ana_client.get(f"/api/v1/report?person={bo.id}").status_code == 404


def test_devices_api(ana_client: FlaskClient, collector: FakeCollector, seeded: Seeded) -> None:
    body = ana_client.get("/api/v1/devices").get_json()
    assert [(d["id"], d["battery_pct"], d["family"]) for d in body["devices"]] == [(seeded.device.id, 64, "colmi")]
    scanned = ana_client.post("/api/v1/devices/scan", json={"seconds": 2}).get_json()
    assert [d["family"] for d in scanned["devices"]] == ["colmi", "hrs", None]
    assert ana_client.post("/api/v1/devices/scan", json={"seconds": 0}).status_code == 422
    paired = ana_client.post("/api/v1/devices/pair", json={"address": "C4:7C:8D:6A:11:99", "person": seeded.person.id})
    assert paired.status_code == 201 and paired.get_json()["name"] == "R02_1199"
    assert ana_client.post("/api/v1/devices/pair", json={"person": seeded.person.id}).status_code == 422


def test_devices_api_without_a_collector_is_503(ana_client: FlaskClient, seeded: Seeded) -> None:
    assert ana_client.post("/api/v1/devices/scan", json={}).status_code == 503
    assert ana_client.post(f"/api/v1/devices/{seeded.device.id}/sync").status_code == 503
    idle = ana_client.get(f"/api/v1/devices/{seeded.device.id}/sync-status").get_json()
    assert idle["state"] == "idle" and idle["last_sync_status"] == "ok"


# -- chart downsampling ------------------------------------------------------------------------------


def test_chart_series_keeps_gaps_and_drops_missing_values() -> None:
    import numpy as np

    t = np.r_[np.arange(0, 300_000, 1000), np.arange(4_000_000, 4_300_000, 1000)]
    v = np.sin(t / 10_000.0)
    v[5] = np.nan
    x, values = chart_series(t, v, gap_ms=5000, max_points=100)
    assert values.count(None) == 1 and len(values) <= 101
    gap = values.index(None)
    assert x[gap - 1] < 300_000 < x[gap] < 4_000_000 <= x[gap + 1]
    x, values = chart_series(t, v, gap_ms=5000)
    assert len(x) == len(t) - 1 + 1  # one NaN dropped, one gap marker added
