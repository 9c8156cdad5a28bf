"""The Devices page and the overview show each device's last error (its last failed run) and a banner while
Bluetooth is not working, here a real BLE runtime whose emulated controller stopped answering."""

from __future__ import annotations

import time

import pytest
from flask.testing import FlaskClient

from device.collector import Collector
from device.runtime import BleRuntime
from tracker.bootstrap import Tracker
from tracker.config import BleConfig, CaptureConfig, SyncConfig
from tracker.model import RunStatus
from tracker.people import PersonInfo
from tracker.storage.models import Run

T_MS = 1_780_000_000_000


def _failed_run(tracker: Tracker, device_id: int, person_id: int, started_ms: int, error: str, status=RunStatus.FAILED) -> None:
    with tracker.sessionmaker.begin() as db:
        db.add(Run(kind="sync", person_id=person_id, device_id=device_id, started_ms=started_ms,
                   ended_ms=started_ms + 1000, status=str(status), error=error))  # fmt: skip


def test_last_error_of_each_device_on_devices_page_and_overview(tracker: Tracker, ana: PersonInfo,
                                                                ana_client: FlaskClient) -> None:  # fmt: skip
    ring = tracker.devices.upsert("C4:7C:8D:6A:11:99", ana.id, name="R02_1199", family="colmi").id
    strap = tracker.devices.upsert("AA:00:00:00:00:01", ana.id, name="Polar H10", family="hrs").id
    _failed_run(tracker, ring, ana.id, T_MS, "ring did not answer (old)")
    _failed_run(tracker, ring, ana.id, T_MS + 60_000, "ring out of range")
    _failed_run(tracker, ring, ana.id, T_MS + 120_000, None, status=RunStatus.OK)
    _failed_run(tracker, strap, ana.id, T_MS, None, status=RunStatus.OK)
    devices_html = ana_client.get("/devices").get_data(as_text=True)
    assert devices_html.count('class="hint last-error"') == 1
    assert "ring out of range" in devices_html and "(old)" not in devices_html
    overview_html = ana_client.get("/").get_data(as_text=True)
    assert "R02_1199: last error" in overview_html and "ring out of range" in overview_html
    assert "Polar H10: last error" not in overview_html
    assert "bluetooth-banner" not in devices_html + overview_html  # no collector here: no banner


def _wait(predicate, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def runtime(tracker: Tracker):
    def make(backend) -> Collector:
        return Collector(
            devices=tracker.devices, ingest=tracker.ingest, person_tz=lambda _pid: "UTC", clock=tracker.clock,
            ble=BleConfig(backend="bumble", transport="emulator", scan_s=1.0), sync=SyncConfig(),
            capture=CaptureConfig(), backend=backend,
        )  # fmt: skip

    rt = BleRuntime(make, backend="bumble", transport="emulator", health_interval_s=0.3, reopen_backoff_s=(30.0, 60.0))
    rt.start()
    yield rt
    rt.stop()


def test_banner_while_bluetooth_is_not_working(tracker: Tracker, ana: PersonInfo, ana_client: FlaskClient,
                                               runtime: BleRuntime) -> None:  # fmt: skip
    tracker.devices.collector = runtime
    assert "bluetooth-banner" not in ana_client.get("/devices").get_data(as_text=True)
    central = runtime.central

    async def refuse(spec: str) -> None:  # the dongle stays unplugged: reopening keeps failing
        raise OSError("no such device")

    central.open = refuse
    controller = central._controller

    async def unplug() -> None:
        controller.stop_answering()

    runtime.run_on_loop(unplug())
    assert _wait(lambda: runtime.state == "reopening", 10.0)
    for path in ("/devices", "/"):
        html = ana_client.get(path).get_data(as_text=True)
        assert 'id="bluetooth-banner"' in html and "Bluetooth is not working" in html and "no such device" in html
    runtime.stop()
    html = ana_client.get("/devices").get_data(as_text=True)
    assert "Bluetooth is not running" in html
