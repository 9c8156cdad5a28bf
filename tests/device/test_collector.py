"""The real collector through bleak's public API against emulated devices over bumble, in process.

Scan, pair, capture (RR compared in raw ticks with what the strap sent) and sync of several days (values
equal what the physiology model produced), with faults: links dropped at random points (50+ times, zero
records lost or duplicated), refused connects, malformed notifications, a ring without the sleep service.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pytest
import sqlalchemy as sa

from device.collector import Collector
from device.emulator.link import EmulatorLink
from device.emulator.ring import EmulatedRing, sleep_days_from_spans
from device.emulator.strap import EmulatedStrap
from device.runtime import BleRuntime, BluetoothUnavailable
from tracker.bootstrap import Tracker
from tracker.clock import SystemClock
from tracker.config import BleConfig, CaptureConfig, SyncConfig
from tracker.devices import Devices
from tracker.physiology import PersonSpec, simulate
from tracker.storage.models import HeartRateRow, RRRow, SleepRow
from tracker.timefmt import zone

DAY_MS = 86_400_000


@dataclass
class World:
    tracker: Tracker
    devices: Devices
    runtime: BleRuntime
    strap: EmulatedStrap
    ring: EmulatedRing
    person_id: int
    sim: object


def _sim(tz: str, days: int = 5):
    now = dt.datetime.now(zone(tz))
    start = dt.datetime.combine(now.date() - dt.timedelta(days=days - 1), dt.time(), tzinfo=zone(tz))
    return simulate(PersonSpec(tz=tz), int(start.timestamp() * 1000), days + 1, seed=11)


def _world(tracker: Tracker, *, ring_sleep: bool = True, tz: str = "Europe/Berlin") -> World:
    sim = _sim(tz)
    person = tracker.people.add("Ana", tz)
    tracker.clock = SystemClock()  # live captures need real time: the strap streams in real time
    devices = Devices(tracker.sessionmaker, tracker.clock)
    offset_ms = int(dt.datetime.now(zone(tz)).utcoffset().total_seconds() * 1000)
    strap = EmulatedStrap(feed=sim, notify_interval_s=0.25, name="EMU Strap 0001")
    ring = EmulatedRing(feed=sim, has_sleep_service=ring_sleep, utc_offset_ms=offset_ms, history_days=5)

    async def attach(central) -> None:
        await central.emulator.add(strap)
        await central.emulator.add(ring)

    def make(backend) -> Collector:
        return Collector(
            devices=devices, ingest=tracker.ingest, person_tz=lambda _pid: tz, clock=tracker.clock,
            ble=BleConfig(backend="bumble", transport="emulator", scan_s=2.0, request_timeout_s=2.0, connect_attempts=4),
            sync=SyncConfig(first_sync_days=3), capture=CaptureConfig(), backend=backend,
        )  # fmt: skip

    runtime = BleRuntime(make, backend="bumble", transport="emulator", on_loop_start=attach)
    runtime.start()
    devices.collector = runtime
    return World(tracker, devices, runtime, strap, ring, person.id, sim)


@pytest.fixture
def world(tracker: Tracker) -> Iterator[World]:
    w = _world(tracker)
    yield w
    w.runtime.stop()


def _pair_both(w: World) -> tuple[int, int]:
    strap_id = w.runtime.pair(w.strap.address_str, w.person_id)
    ring_id = w.runtime.pair(w.ring.address_str, w.person_id)
    return strap_id, ring_id


def test_scan_finds_both_with_family(world: World) -> None:
    found = {r.address: r for r in world.runtime.scan(1.0)}
    assert found[world.strap.address_str].family == "hrs"
    assert found[world.strap.address_str].name == "EMU Strap 0001"
    assert found[world.ring.address_str].family == "colmi"
    assert found[world.strap.address_str].rssi is not None


def test_pair_reads_device_information_and_battery(world: World) -> None:
    strap_id, ring_id = _pair_both(world)
    strap = world.devices.get(strap_id)
    assert (strap.family, strap.manufacturer, strap.model, strap.serial, strap.firmware, strap.battery_pct) == (
        "hrs", "Tracker Emulation", "HRM-1", "EMU-0001", "1.0.0", 87,
    )  # fmt: skip
    ring = world.devices.get(ring_id)
    assert (ring.family, ring.battery_pct, ring.person_name) == ("colmi", 64, "Ana")
    assert world.devices.get(world.ring.address_str).id == ring_id  # DEVICE by address works too


def test_capture_stores_rr_exactly_as_sent(world: World) -> None:
    strap_id, _ = _pair_both(world)
    now = world.tracker.clock.now_ms()
    cap = world.devices.new_capture(world.person_id, strap_id, now, now + 3000)
    world.strap.faults.interleave_malformed(3)  # every 3rd notification is garbage (seen even if load delays the strap)
    outcome = world.runtime.capture(strap_id, 3.0, cap)
    assert outcome.malformed > 0
    assert outcome.beats > 0
    sent_ticks = [t for m in world.strap.sent for t in m.rr_ticks]
    with world.tracker.sessionmaker() as db:
        stored = db.scalars(sa.select(RRRow).order_by(RRRow.t_ms)).all()
    stored_ticks = [round(r.rr_ms * 1024 / 1000) for r in stored]
    assert all(r.rr_ms * 1024 / 1000 == round(r.rr_ms * 1024 / 1000) for r in stored)  # exact ticks
    # every stored beat is one the strap sent, in order (the first notification may predate the window)
    assert stored_ticks == sent_ticks[len(sent_ticks) - len(stored_ticks):]
    assert {r.source for r in stored} == {"live"}
    info = world.devices.capture(cap)
    assert info.status in ("ok", "insufficient_quality") and info.beats == len(stored)
    run = world.devices.runs(limit=1)[0]
    assert (run.kind, run.malformed, run.rr) == ("capture", outcome.malformed, len(stored))


def test_capture_out_of_range(world: World) -> None:
    strap_id, _ = _pair_both(world)
    world.runtime.run_on_loop(world.strap.go_out_of_range())
    now = world.tracker.clock.now_ms()
    cap = world.devices.new_capture(world.person_id, strap_id, now, now + 1500)
    outcome = world.runtime.capture(strap_id, 1.5, cap)
    assert outcome.status == "not_in_range"
    assert world.devices.capture(cap).status == "not_in_range"


def _expected_hr(w: World, days: int) -> set[tuple[int, int]]:
    """What the ring logged for the last `days` ring days, as (UTC ms, bpm)."""
    now = w.tracker.clock.now_ms()
    offset = w.ring.utc_offset_ms
    today_local = (now + offset) // DAY_MS * DAY_MS
    rows = set()
    for k in range(days):
        day_local = today_local - k * DAY_MS
        values = np.asarray(w.sim.heart_rate_5min(day_local - offset))
        for i, bpm in enumerate(values):
            t = day_local - offset + i * 300_000
            if bpm and t <= now and 20 <= bpm <= 250:
                rows.add((int(t), int(bpm)))
    return rows


def _stored(w: World) -> tuple[set, set, int, int]:
    with w.tracker.sessionmaker() as db:
        hr = {tuple(r) for r in db.execute(sa.select(HeartRateRow.t_ms, HeartRateRow.bpm))}
        sleep = {tuple(r) for r in db.execute(sa.select(SleepRow.start_ms, SleepRow.end_ms, SleepRow.stage))}
        n_hr = db.scalar(sa.select(sa.func.count()).select_from(HeartRateRow))
        n_sleep = db.scalar(sa.select(sa.func.count()).select_from(SleepRow))
    return hr, sleep, n_hr, n_sleep


def test_sync_several_days_equals_the_model(world: World) -> None:
    _, ring_id = _pair_both(world)
    outcome = world.runtime.sync(ring_id)
    assert outcome.status == "ok", outcome
    hr, sleep, _, _ = _stored(world)
    assert hr == _expected_hr(world, 3)  # first sync pulls [sync] first_sync_days = 3 days
    nights = sleep_days_from_spans(world.sim.sleep_spans(), now_ms=world.tracker.clock.now_ms(),
                                   utc_offset_ms=world.ring.utc_offset_ms, history_days=5)  # fmt: skip
    assert sum(n.duration_min for n in nights) * 60_000 >= sum(e - s for s, e, _ in sleep) > 0
    assert {stage for _, _, stage in sleep} <= {"light", "deep", "rem", "awake"}
    # a second sync stores nothing twice
    again = world.runtime.sync(ring_id)
    assert again.status == "ok" and again.sleep == 0
    assert _stored(world)[:2] == (hr, sleep)
    assert world.devices.get(ring_id).last_sync_status == "ok"


def test_sync_survives_links_dropped_at_random_points(world: World) -> None:
    """The link is cut at a random packet, over and over: every sync resumes from its cursor, and in the
    end exactly the clean result is stored, nothing lost, nothing twice."""
    _, ring_id = _pair_both(world)
    drops = 0
    for _attempt in range(150):
        world.ring.faults.drop_link_randomly(1, 90)
        before = world.ring.faults.counters.dropped
        world.runtime.sync(ring_id)
        drops += world.ring.faults.counters.dropped - before
        if drops >= 50:
            break
    world.ring.faults.clear()
    final = world.runtime.sync(ring_id)
    assert final.status == "ok"
    assert drops >= 50
    hr, sleep, n_hr, n_sleep = _stored(world)
    assert hr == _expected_hr(world, 3)
    assert (n_hr, n_sleep) == (len(hr), len(sleep))  # no duplicates
    # a dropped link no longer fails the sync: it reconnects, resumes from its cursors and says so
    syncs = [r for r in world.devices.runs(limit=200) if r.kind == "sync"]
    resumed = [r for r in syncs if "reconnected and resumed" in (r.detail or "")]
    assert len(resumed) >= 40 and all(r.status in ("ok", "partial") for r in resumed)
    assert all(r.status != "failed" or r.error for r in syncs)


def test_refused_connects_are_retried(world: World) -> None:
    _, ring_id = _pair_both(world)
    world.ring.faults.refuse_connections(2)
    outcome = world.runtime.sync(ring_id)
    assert outcome.status == "ok"
    assert world.ring.faults.counters.refused == 2


def test_ring_without_sleep_service(tracker: Tracker) -> None:
    w = _world(tracker, ring_sleep=False)
    try:
        ring_id = w.runtime.pair(w.ring.address_str, w.person_id)
        outcome = w.runtime.sync(ring_id)
        assert outcome.status == "partial"
        assert any(u.startswith("sleep: unavailable") for u in outcome.unavailable)
        hr, sleep, _, _ = _stored(w)
        assert hr == _expected_hr(w, 3) and sleep == set()
        run = w.devices.runs(limit=1)[0]
        assert run.status == "partial" and "sleep: unavailable" in (run.detail or "")
    finally:
        w.runtime.stop()


def test_pair_unknown_address_is_a_clear_error(world: World) -> None:
    with pytest.raises(BluetoothUnavailable, match="not found"):
        world.runtime.pair("C0:11:22:33:44:55", world.person_id)
