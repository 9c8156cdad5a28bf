"""A flaky ring must not fail the whole sync (issue 10 item 8): malformed packets are counted and the affected
request retried or skipped and reported, the rest goes on, and the run's counts say what really happened."""

from __future__ import annotations

import sqlalchemy as sa

from tests.device.test_collector import World, _expected_hr, _pair_both, _stored, world  # noqa: F401 - fixture
from tracker.storage.models import HeartRateRow, SleepRow


def test_malformed_packet_every_fifth_is_counted_and_the_sync_completes(world: World) -> None:
    _, ring_id = _pair_both(world)
    world.ring.faults.interleave_malformed(5)
    outcome = world.runtime.sync(ring_id)
    assert outcome.status in ("ok", "partial") and outcome.error is None, outcome
    assert outcome.malformed >= world.ring.faults.counters.malformed_sent // 2 > 0
    hr, sleep, _, _ = _stored(world)
    assert hr == _expected_hr(world, 3) and sleep
    run = world.devices.runs(limit=1)[0]
    assert (run.malformed, run.heart_rate, run.sleep) == (outcome.malformed, outcome.heart_rate, outcome.sleep)


def test_one_corrupt_sleep_packet_is_retried_not_a_crash(world: World) -> None:
    _, ring_id = _pair_both(world)
    world.ring.corrupt_sleep_replies = 1
    outcome = world.runtime.sync(ring_id)
    assert outcome.status == "ok", outcome
    assert outcome.sleep > 0 and outcome.malformed >= 1
    world.ring.corrupt_sleep_replies = 5  # garbled every time: sleep is skipped and said so, the rest is kept
    again = world.runtime.sync(ring_id)
    assert again.status == "partial" and any("sleep: garbled" in u for u in again.unavailable)


def test_a_failed_sync_reports_the_rows_it_really_stored(world: World) -> None:
    _, ring_id = _pair_both(world)
    world.ring.faults.drop_link_randomly(30, 30, repeat=True)  # each link lasts ~one day of log: resumes run out
    outcome = world.runtime.sync(ring_id)
    world.ring.faults.clear()
    assert outcome.status == "failed" and outcome.error
    with world.tracker.sessionmaker() as db:
        hr_rows = db.scalar(sa.select(sa.func.count()).select_from(HeartRateRow).where(HeartRateRow.run_id == outcome.run_id))
        sleep_rows = db.scalar(sa.select(sa.func.count()).select_from(SleepRow).where(SleepRow.run_id == outcome.run_id))
    assert hr_rows > 0 and (outcome.heart_rate, outcome.sleep) == (hr_rows, sleep_rows)
    run = world.devices.runs(limit=1)[0]
    assert (run.status, run.heart_rate, run.sleep) == ("failed", hr_rows, sleep_rows) and run.error
