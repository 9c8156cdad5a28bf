"""`tracker run` survives a lost Bluetooth transport: the runtime notices the controller stopped answering,
reopens it with back-off, and a later sync through bleak against the emulated ring succeeds."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from device.collector import Collector
from device.emulator.ring import EmulatedRing
from device.runtime import BleRuntime, BluetoothUnavailable
from tracker.bootstrap import Tracker
from tracker.clock import SystemClock
from tracker.config import BleConfig, CaptureConfig, SyncConfig
from tracker.devices import Devices
from tracker.physiology import PersonSpec, simulate
from tracker.timefmt import zone

TZ = "Europe/Berlin"


def _wait(predicate, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_lost_transport_is_reopened_and_a_later_sync_succeeds(tracker: Tracker) -> None:
    now = dt.datetime.now(zone(TZ))
    start = dt.datetime.combine(now.date() - dt.timedelta(days=2), dt.time(), tzinfo=zone(TZ))
    sim = simulate(PersonSpec(tz=TZ), int(start.timestamp() * 1000), 4, seed=3)
    person = tracker.people.add("Ana", TZ)
    tracker.clock = SystemClock()
    devices = Devices(tracker.sessionmaker, tracker.clock)
    offset_ms = int(now.utcoffset().total_seconds() * 1000)
    ring = EmulatedRing(feed=sim, utc_offset_ms=offset_ms, history_days=2)

    async def attach(central) -> None:
        await central.emulator.add(ring)

    def make(backend) -> Collector:
        return Collector(
            devices=devices, ingest=tracker.ingest, person_tz=lambda _pid: TZ, clock=tracker.clock,
            ble=BleConfig(backend="bumble", transport="emulator", scan_s=2.0, request_timeout_s=2.0, connect_attempts=4),
            sync=SyncConfig(first_sync_days=2), capture=CaptureConfig(), backend=backend,
        )  # fmt: skip

    runtime = BleRuntime(make, backend="bumble", transport="emulator", on_loop_start=attach,
                         health_interval_s=0.5, reopen_backoff_s=(0.2, 1.0))  # fmt: skip
    runtime.start()
    devices.collector = runtime
    try:
        ring_id = runtime.pair(ring.address_str, person.id)
        assert runtime.sync(ring_id).status == "ok"
        first_controller = runtime.central._controller

        async def unplug() -> None:
            first_controller.stop_answering()

        runtime.run_on_loop(unplug())
        # the watchdog notices within a health interval plus the probe's timeout, then reopens
        assert _wait(lambda: runtime.reopen_count == 1, 20.0), (runtime.state, runtime.state_reason)
        assert runtime.state == "up" and runtime.central._controller is not first_controller
        outcome = runtime.sync(ring_id)
        assert outcome.status == "ok", outcome
        assert outcome.heart_rate > 0 or outcome.sleep >= 0
    finally:
        runtime.stop()


def test_calls_while_reopening_say_bluetooth_is_not_working(tracker: Tracker) -> None:
    devices = Devices(tracker.sessionmaker, tracker.clock)

    def make(backend) -> Collector:
        return Collector(
            devices=devices, ingest=tracker.ingest, person_tz=lambda _pid: TZ, clock=tracker.clock,
            ble=BleConfig(backend="bumble", transport="emulator", scan_s=1.0), sync=SyncConfig(),
            capture=CaptureConfig(), backend=backend,
        )  # fmt: skip

    runtime = BleRuntime(make, backend="bumble", transport="emulator", health_interval_s=0.3,
                         reopen_backoff_s=(30.0, 60.0))  # fmt: skip
    runtime.start()
    try:
        central = runtime.central
        opened = central.open

        async def refuse(spec: str) -> None:  # the dongle stays unplugged: every reopen fails
            raise OSError("no such device")

        central.open = refuse
        controller = central._controller

        async def unplug() -> None:
            controller.stop_answering()

        runtime.run_on_loop(unplug())
        assert _wait(lambda: runtime.state == "reopening" and "no such device" in (runtime.state_reason or ""), 10.0)
        with pytest.raises(BluetoothUnavailable, match="Bluetooth is not working"):
            runtime.scan(0.5)
        central.open = opened
    finally:
        runtime.stop()
