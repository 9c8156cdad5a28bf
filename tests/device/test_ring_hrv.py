"""The Colmi ring's own HRV history (command 0x39): the emulated ring answers it through bleak, and the real
collector syncs it into `device_metric` as the device's own estimate, resuming and idempotent, never as RR.

The byte layout comes from Gadgetbridge's source (see device/protocols/colmi_hrv.py); no real capture exists.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa

from device.emulator import emulated_world
from device.protocols import colmi_hrv
from tests.device.conftest import DAY0_MS, DAY_MS, SteadyFeed
from tests.device.test_cli_band import _free_port
from tests.device.test_collector import World, _pair_both, _world, world  # noqa: F401 - fixture
from tests.device.test_emulator_ring import BERLIN_WINTER_MS, NOW_MS, make_ring, open_ring
from tracker.bootstrap import Tracker
from tracker.cli import main
from tracker.model import MetricKind
from tracker.storage.models import DeviceMetric, RRRow, SyncCursor

SLOT_MS = 30 * 60_000


async def _hrv_day(session, days_ago: int) -> colmi_hrv.HrvDay:
    parser = colmi_hrv.HrvHistoryParser(days_ago)
    await session.request(colmi_hrv.hrv_history_request(days_ago))
    day = None
    while day is None:
        day = parser.feed(await session.next_packet())
    return day


def test_emulated_ring_answers_yesterday_and_today_up_to_the_last_ended_slot(arun) -> None:
    async def scenario() -> list[colmi_hrv.HrvDay]:
        ring = make_ring(utc_offset_ms=BERLIN_WINTER_MS)
        async with emulated_world(ring) as world:
            session = await open_ring(world, ring)
            days = [await _hrv_day(session, 1), await _hrv_day(session, 0), await _hrv_day(session, 7)]
            await session.client.disconnect()
        return days

    yesterday, today, too_old = arun(scenario())
    expected = SteadyFeed().hrv_30min(0).tolist()
    assert (yesterday.days_ago, list(yesterday.hrv_ms)) == (1, expected)
    local_now_min = (NOW_MS + BERLIN_WINTER_MS - (DAY0_MS + 2 * DAY_MS)) // 60_000  # 10:30 local
    ended = local_now_min // 30  # slots that ended by now: 00:00 … 10:00
    assert list(today.hrv_ms[:ended]) == expected[:ended] and not any(today.hrv_ms[ended:])
    assert too_old.hrv_ms == ()  # beyond the ring's history: the single "no data" packet


def test_firmware_without_hrv_history_stays_silent(arun) -> None:
    async def scenario() -> None:
        ring = make_ring(has_hrv_history=False)
        async with emulated_world(ring) as world:
            session = await open_ring(world, ring)
            await session.request(colmi_hrv.hrv_history_request(0))
            with pytest.raises(asyncio.TimeoutError):
                await session.next_packet(timeout=0.3)
            await session.client.disconnect()

    arun(scenario())


def _expected_hrv(w: World, days: int, now_ms: int) -> set[tuple[int, float]]:
    """What the ring reports for the last `days` ring days at `now_ms`, as (UTC ms of slot start, ms)."""
    offset = w.ring.utc_offset_ms
    today_local = (now_ms + offset) // DAY_MS * DAY_MS
    rows = set()
    for k in range(days):
        day_local = today_local - k * DAY_MS
        for i, value in enumerate(np.asarray(w.sim.hrv_30min(day_local - offset))):
            if value and day_local + (i + 1) * SLOT_MS <= now_ms + offset:
                rows.add((int(day_local - offset + i * SLOT_MS), float(value)))
    return rows


def _stored_hrv(w: World) -> tuple[set[tuple[int, float]], int, set[str]]:
    with w.tracker.sessionmaker() as db:
        rows = db.execute(sa.select(DeviceMetric.t_ms, DeviceMetric.value, DeviceMetric.kind)).all()
    return {(t, v) for t, v, _ in rows}, len(rows), {k for _, _, k in rows}


def _check_equals_model(w: World, before_ms: int, stored: set[tuple[int, float]]) -> None:
    # A 30-min slot may end while the sync runs: the store holds at least what had ended before the sync
    # and at most what had ended after it.
    assert _expected_hrv(w, 3, before_ms) <= stored <= _expected_hrv(w, 3, w.tracker.clock.now_ms())


def test_sync_stores_the_rings_hrv_as_its_own_estimate_and_a_resync_adds_nothing(world: World) -> None:
    _, ring_id = _pair_both(world)
    before = world.tracker.clock.now_ms()
    outcome = world.runtime.sync(ring_id)
    assert outcome.status == "ok", outcome
    stored, n_rows, kinds = _stored_hrv(world)
    _check_equals_model(world, before, stored)
    assert kinds == {str(MetricKind.DEVICE_HRV_MS)} and outcome.device_hrv == n_rows > 0
    assert outcome.to_dict()["device_hrv"] == n_rows
    with world.tracker.sessionmaker() as db:
        assert db.scalar(sa.select(sa.func.count()).select_from(RRRow)) == 0  # never turned into RR
        sources = set(db.scalars(sa.select(DeviceMetric.source)))
        run_ids = set(db.scalars(sa.select(DeviceMetric.run_id)))
        cursor = db.get(SyncCursor, (ring_id, "hrv_log"))
    assert sources == {"history"} and run_ids == {outcome.run_id}
    offset = world.ring.utc_offset_ms
    assert cursor is not None and cursor.cursor_ms == (before + offset) // DAY_MS * DAY_MS - offset  # today
    # the ring was asked day by day, oldest first: 2, 1, 0 days ago
    asked = [colmi_hrv.decode_hrv_history_request(p) for p in world.ring.requests if p[0] == colmi_hrv.CMD_HRV_HISTORY]
    assert asked == [2, 1, 0]

    again = world.runtime.sync(ring_id)
    assert again.status == "ok", again
    stored_again, n_again, _ = _stored_hrv(world)
    assert n_again == len(stored_again) and stored <= stored_again  # no duplicates, nothing lost
    assert again.device_hrv == n_again - n_rows  # only slots that ended since (today's), never a re-store
    asked = [colmi_hrv.decode_hrv_history_request(p) for p in world.ring.requests if p[0] == colmi_hrv.CMD_HRV_HISTORY]
    assert asked == [2, 1, 0, 0]  # the resync starts at the cursor (today)


def test_a_malformed_hrv_packet_is_counted_skipped_and_the_day_asked_again(world: World) -> None:
    _, ring_id = _pair_both(world)
    world.ring.corrupt_hrv_replies = 1  # one bad-checksum packet in the first HRV reply
    before = world.tracker.clock.now_ms()
    outcome = world.runtime.sync(ring_id)
    assert outcome.status == "ok", outcome
    assert outcome.malformed >= 2  # the bad packet, then the gap it left in the sequence
    stored, n_rows, _ = _stored_hrv(world)
    _check_equals_model(world, before, stored)
    assert n_rows == len(stored)
    run = world.devices.runs(limit=1)[0]
    assert run.malformed == outcome.malformed


def test_a_day_garbled_every_time_is_skipped_reported_and_fetched_next_sync(world: World) -> None:
    _, ring_id = _pair_both(world)
    world.ring.corrupt_hrv_replies = 3  # every attempt at the oldest day fails
    before = world.tracker.clock.now_ms()
    outcome = world.runtime.sync(ring_id)
    assert outcome.status == "partial" and outcome.error is None, outcome
    assert any(u.startswith("device HRV from") and "garbled 3 times" in u for u in outcome.unavailable)
    assert outcome.heart_rate > 0 and outcome.sleep > 0  # the rest of the sync is kept
    assert _stored_hrv(world)[1] == 0
    again = world.runtime.sync(ring_id)
    assert again.status == "ok", again
    _check_equals_model(world, before, _stored_hrv(world)[0])


def test_a_ring_without_hrv_history_is_partial_and_keeps_everything_else(tracker: Tracker) -> None:
    w = _world(tracker)
    try:
        w.ring.has_hrv_history = False
        ring_id = w.runtime.pair(w.ring.address_str, w.person_id)
        outcome = w.runtime.sync(ring_id)
        assert outcome.status == "partial"
        assert any(u.startswith("device HRV: unavailable") for u in outcome.unavailable)
        assert outcome.heart_rate > 0 and outcome.sleep > 0 and outcome.device_hrv == 0
    finally:
        w.runtime.stop()


def test_emulated_ring_over_tcp_and_the_sync_command_name_the_rings_own_hrv(
    config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`tracker emulate --profile ring` in another process answers 0x39; `tracker sync` prints the count
    labelled as the device's own estimate."""
    port = _free_port()
    emulator = subprocess.Popen(
        [sys.executable, "-m", "tracker", "--config", str(config_file), "emulate", "--profile", "ring", "--days", "3",
         "--transport", f"tcp-server:127.0.0.1:{port}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert emulator.stdout is not None and "emulating a ring" in emulator.stdout.readline()
        cfg, transport = ["--config", str(config_file)], ["--transport", f"tcp-client:127.0.0.1:{port}"]
        assert main([*cfg, "init"]) == 0
        assert main([*cfg, "person", "add", "Cy", "--tz", "Europe/Berlin"]) == 0
        capsys.readouterr()
        for _ in range(20):  # the emulator may still be starting
            if main([*cfg, "scan", "--seconds", "1", "--json", *transport]) == 0:
                break
            time.sleep(0.25)
        found = [r for r in json.loads(capsys.readouterr().out) if r["family"] == "colmi"]
        assert len(found) == 1
        assert main([*cfg, "pair", found[0]["address"], "--person", "Cy", *transport]) == 0
        capsys.readouterr()
        assert main([*cfg, "sync", *transport]) == 0
        out = capsys.readouterr().out
        assert ": ok: " in out and "HRV values (the device's own estimate)" in out, out
    finally:
        emulator.terminate()
        emulator.wait(10)
