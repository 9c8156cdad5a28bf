"""The Huami band through the real collector, bleak's public API and bumble, against the emulated band fed by
the physiology model: auth right and wrong, multi-round fetch at MTU 23 and 247, links dropped at random
points (50+ times, zero minutes lost or duplicated), a band in another time zone than the host, live heart
rate without RR."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pytest
import sqlalchemy as sa

from device.collector import Collector
from device.emulator.band import EmulatedBand, band_minutes
from device.protocols import huami_activity as act
from device.runtime import BleRuntime
from tracker.bootstrap import Tracker
from tracker.clock import SystemClock
from tracker.config import BleConfig, CaptureConfig, SyncConfig
from tracker.devices import Devices
from tracker.errors import UserError
from tracker.physiology import PersonSpec, simulate
from tracker.storage.models import Device, HeartRateRow, RRRow, SleepRow
from tracker.timefmt import zone

KEY = bytes.fromhex("8f3c1e0a5b7d92c4e6f1a3b5c7d9e0f2")
MINUTE_MS = 60_000


@dataclass
class BandWorld:
    tracker: Tracker
    devices: Devices
    runtime: BleRuntime
    band: EmulatedBand
    person_id: int
    sim: object


def _band_world(tracker: Tracker, *, tz: str = "Europe/Berlin", mtu: int | None = None, first_sync_days: int = 2,
                band_offset_ms: int = 0, round_minutes: int = 360, keep: bool = False,
                name: str = "Mi Smart Band 5") -> BandWorld:  # fmt: skip
    now = dt.datetime.now(zone(tz))
    start = dt.datetime.combine(now.date() - dt.timedelta(days=first_sync_days + 1), dt.time(), tzinfo=zone(tz))
    sim = simulate(PersonSpec(tz=tz), int(start.timestamp() * 1000), first_sync_days + 3, seed=23)
    person = tracker.people.add("Bea", tz)
    tracker.clock = SystemClock()
    devices = Devices(tracker.sessionmaker, tracker.clock)
    band = EmulatedBand(feed=sim, auth_key=KEY, utc_offset_ms=band_offset_ms, round_minutes=round_minutes,
                        name=name, live_interval_s=0.2, seed=3)  # fmt: skip

    async def attach(central) -> None:
        await central.emulator.add(band)

    def make(backend) -> Collector:
        if mtu is not None:
            backend.client["mtu"] = mtu
        return Collector(
            devices=devices, ingest=tracker.ingest, person_tz=lambda _pid: tz, clock=tracker.clock,
            ble=BleConfig(backend="bumble", transport="emulator", scan_s=2.0, request_timeout_s=2.0,
                          connect_attempts=4, keep_data_on_band=keep),
            sync=SyncConfig(first_sync_days=first_sync_days), capture=CaptureConfig(), backend=backend,
        )  # fmt: skip

    runtime = BleRuntime(make, backend="bumble", transport="emulator", on_loop_start=attach)
    runtime.start()
    devices.collector = runtime
    return BandWorld(tracker, devices, runtime, band, person.id, sim)


@pytest.fixture
def bw(tracker: Tracker) -> Iterator[BandWorld]:
    w = _band_world(tracker)
    yield w
    w.runtime.stop()


def _stored(w: BandWorld) -> tuple[set, list, int]:
    with w.tracker.sessionmaker() as db:
        hr = {tuple(r) for r in db.execute(sa.select(HeartRateRow.t_ms, HeartRateRow.bpm))}
        n_hr = db.scalar(sa.select(sa.func.count()).select_from(HeartRateRow))
        sleep = [tuple(r) for r in db.execute(sa.select(SleepRow.start_ms, SleepRow.end_ms, SleepRow.stage)
                                              .order_by(SleepRow.start_ms))]  # fmt: skip
    return hr, sleep, n_hr


def _expected(w: BandWorld, t0_ms: int, t1_ms: int) -> tuple[set, dict[int, str]]:
    """What the model says for [t0, t1): heart rate per measured minute, and light/deep per sleep minute."""
    minutes = band_minutes(w.sim, t0_ms, t1_ms)
    hr = {(t0_ms + i * MINUTE_MS, m[3]) for i, m in enumerate(minutes) if 20 <= m[3] <= 250}
    asleep = {}
    for span in w.sim.sleep_spans():
        if str(span.stage) == "awake":
            continue
        for t in range(max(t0_ms, -(-span.start_ms // MINUTE_MS) * MINUTE_MS), min(t1_ms, span.end_ms), MINUTE_MS):
            if t + MINUTE_MS <= span.end_ms:
                asleep[t] = "deep" if str(span.stage) == "deep" else "light"
    return hr, asleep


def _sleep_minutes(rows: list) -> dict[int, str]:
    out: dict[int, str] = {}
    for start, end, stage in rows:
        for t in range(start, end, MINUTE_MS):
            assert t not in out, "overlapping sleep rows"
            out[t] = stage
    return out


def _check_complete(w: BandWorld) -> None:
    """Everything from the first round's start to the cursor is stored exactly once, equal to the model."""
    t0 = min(w.band.round_starts)
    with w.tracker.sessionmaker() as db:
        cursor = db.scalar(sa.text("SELECT cursor_ms FROM sync_cursor WHERE stream = 'activity'"))
    t1 = cursor // MINUTE_MS * MINUTE_MS
    assert t1 - t0 >= 24 * 3_600_000
    hr, sleep, n_hr = _stored(w)
    want_hr, want_sleep = _expected(w, t0, t1)
    assert n_hr == len(hr) and hr == want_hr and len(hr) > 1000
    got = _sleep_minutes(sleep)
    assert {t: s for t, s in got.items() if s != "awake"} == want_sleep and len(want_sleep) > 300
    assert all(t not in want_sleep for t, s in got.items() if s == "awake")  # awake only where not asleep


def _pair(w: BandWorld, key: bytes = KEY) -> int:
    return w.runtime.pair(w.band.address_str, w.person_id, key)


def test_scan_detects_the_band(bw: BandWorld) -> None:
    found = {r.address: r for r in bw.runtime.scan(1.0)}
    assert found[bw.band.address_str].family == "huami"
    assert found[bw.band.address_str].name == "Mi Smart Band 5"


def test_pair_authenticates_stores_the_key_privately_and_configures_heart_rate(bw: BandWorld) -> None:
    device_id = _pair(bw)
    info = bw.devices.get(device_id)
    assert (info.family, info.battery_pct, info.model) == ("huami", 71, "Mi Smart Band 5")
    assert bw.band.auth_results == [True]
    assert (bw.band.hr_interval_min, bw.band.hr_during_sleep) == (1, True)
    assert bw.devices.auth_key(device_id) == KEY
    assert KEY.hex() not in repr(info.to_dict()) and "auth_key" not in info.to_dict()


def test_wrong_key_is_refused_naming_the_key(bw: BandWorld) -> None:
    with pytest.raises(UserError, match="auth key"):
        _pair(bw, bytes(16))
    assert bw.band.auth_results == [False]
    with bw.tracker.sessionmaker() as db:
        assert db.scalar(sa.select(sa.func.count()).select_from(Device)) == 0


@pytest.mark.parametrize("mtu", [23, 247])
def test_multi_round_fetch_equals_the_model(tracker: Tracker, mtu: int) -> None:
    w = _band_world(tracker, mtu=mtu)
    try:
        device_id = _pair(w)
        outcome = w.runtime.sync(device_id)
        assert outcome.status == "ok", outcome
        assert w.band.rounds_sent >= 8 and w.band.acks == w.band.rounds_sent
        _check_complete(w)
        hr, sleep, _ = _stored(w)
        assert outcome.heart_rate == len(hr) and outcome.sleep == len(sleep)
        with w.tracker.sessionmaker() as db:
            cursor = db.scalar(sa.text("SELECT cursor_ms FROM sync_cursor WHERE stream = 'activity'"))
        again = w.runtime.sync(device_id)  # nothing twice; only minutes that passed since the first sync are new
        hr2, sleep2, n_hr2 = _stored(w)
        assert again.status == "ok" and again.heart_rate == len(hr2 - hr) <= 2 and n_hr2 == len(hr2)
        assert hr <= hr2 and all(t >= cursor // MINUTE_MS * MINUTE_MS for t, _ in hr2 - hr)
        assert set(sleep) <= set(sleep2)
        assert w.band.battery_pct == w.devices.get(device_id).battery_pct
    finally:
        w.runtime.stop()


def test_links_dropped_at_random_points_lose_and_duplicate_nothing(tracker: Tracker) -> None:
    w = _band_world(tracker, mtu=23, round_minutes=240)
    try:
        device_id = _pair(w)
        w.band.faults.drop_link_randomly(5, 70, repeat=True)  # a link that keeps failing, at random packets
        outcomes = []
        while w.band.faults.counters.dropped < 50 and len(outcomes) < 40:
            outcomes.append(w.runtime.sync(device_id))
        w.band.faults.clear()
        final = w.runtime.sync(device_id)
        assert final.status == "ok", final
        assert w.band.faults.counters.dropped >= 50
        assert any(o.status == "failed" and o.error for o in outcomes)  # gave up after the resumes, said why
        _check_complete(w)
        resumed = [r for r in w.devices.runs(limit=100) if "reconnected and resumed" in (r.detail or "")]
        assert resumed
        # every run, failed or not, reports the rows it really stored: together exactly what is in the database
        hr, sleep, _ = _stored(w)
        assert sum(o.heart_rate for o in [*outcomes, final]) == len(hr)
        assert sum(o.sleep for o in [*outcomes, final]) == len(sleep)
    finally:
        w.runtime.stop()


def test_a_band_in_another_zone_than_the_host_is_set_to_the_person_zone(tracker: Tracker) -> None:
    # host in UTC (the test process), person in India (+05:30), band still on Tokyo time (+09:00)
    w = _band_world(tracker, tz="Asia/Kolkata", band_offset_ms=9 * 3_600_000, keep=True)
    try:
        device_id = _pair(w)
        outcome = w.runtime.sync(device_id)
        assert outcome.status == "ok", outcome
        assert w.band.utc_offset_ms == 5 * 3_600_000 + 30 * 60_000
        assert w.band.acks == 0 and w.band.acked_until_ms is None  # kept on the band
        _check_complete(w)
    finally:
        w.runtime.stop()


def test_live_capture_from_a_band_is_heart_rate_only(bw: BandWorld) -> None:
    device_id = _pair(bw)
    now = bw.tracker.clock.now_ms()
    cap = bw.devices.new_capture(bw.person_id, device_id, now, now + 1500)
    outcome = bw.runtime.capture(device_id, 1.5, cap)
    assert outcome.heart_rate >= 3 and outcome.beats == 0
    assert "HRV needs a chest strap" in (outcome.message or "")
    assert bytes([0x15, 0x01, 0x01]) in bw.band.live_commands  # continuous HR started through the control point
    with bw.tracker.sessionmaker() as db:
        assert db.scalar(sa.select(sa.func.count()).select_from(RRRow)) == 0
        assert db.scalar(sa.select(sa.func.count()).select_from(HeartRateRow)) == outcome.heart_rate


def test_a_capture_that_raises_ends_its_run_failed_with_the_error(bw: BandWorld) -> None:
    device_id = _pair(bw)
    with bw.tracker.sessionmaker.begin() as db:
        db.execute(sa.update(Device).values(auth_key="00" * 16))  # the band was re-paired with its app: key changed
    now = bw.tracker.clock.now_ms()
    cap = bw.devices.new_capture(bw.person_id, device_id, now, now + 1000)
    with pytest.raises(UserError, match="auth key"):
        bw.runtime.capture(device_id, 1.0, cap)
    run = bw.devices.runs(limit=1)[0]
    assert (run.kind, run.status) == ("capture", "failed") and "auth key" in (run.error or "")
    assert bw.devices.capture(cap).status == "failed"
    outcome = bw.runtime.sync(device_id)  # a sync says the same, and fails without raising
    assert outcome.status == "failed" and "auth key" in (outcome.error or "")
