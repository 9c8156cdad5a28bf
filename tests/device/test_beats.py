"""Beat times follow the RR series: strictly increasing, no two beats on one millisecond, however the
notifications arrive (pure BeatClock tests, then the collector through bleak against the emulated strap)."""

from __future__ import annotations

import random

import numpy as np
import sqlalchemy as sa

from device.beats import GAP_MS, TICK_MS, BeatClock
from tests.device.test_collector import World, _pair_both, world  # noqa: F401 - the fixture
from tracker.storage.models import RRRow


def _rr_series(n: int, seed: int = 5) -> list[int]:
    rng = random.Random(seed)
    return [rng.randint(700, 1100) for _ in range(n)]


def test_a_burst_of_notifications_gets_distinct_times_that_follow_the_rr() -> None:
    rr = _rr_series(62)
    clock = BeatClock()
    beats = []
    # 62 one-beat notifications delivered in bursts of 20 within a few ms (the reported loss: 3 of 62)
    for i, ticks in enumerate(rr):
        received = 100_000 + (i // 20) * 17_000 + (i % 20)
        beats += clock.beats(received, [ticks])
    times = [b.t_ms for b in beats]
    assert len(set(times)) == 62 and times == sorted(times)
    steps = np.diff(times)
    expected = np.asarray(rr[1:]) * TICK_MS
    assert np.all(np.abs(steps - expected) <= 1.0)  # each beat = previous beat + its RR (ms rounding only)
    assert clock.reanchors == 0


def test_a_delayed_batch_does_not_shift_the_series_but_a_real_gap_reanchors() -> None:
    clock = BeatClock()
    first = clock.beats(10_000, [1024])
    assert first[0].t_ms == 10_000  # anchored: the newest beat ends at the receive time
    late = clock.beats(10_000 + 3000 + 4000, [1024, 1024, 1024])  # 3 beats held back 4 s
    assert [b.t_ms for b in late] == [11_000, 12_000, 13_000]
    assert clock.reanchors == 0
    gap = clock.beats(13_000 + GAP_MS + 5000, [1024])  # beats went missing
    assert gap[0].t_ms == 13_000 + GAP_MS + 5000 and clock.reanchors == 1
    clock.reanchor()  # a new link
    after = clock.beats(gap[0].t_ms - 500, [1024])  # receive time before the last beat: still later
    assert after[0].t_ms > gap[0].t_ms


def test_zero_tick_rr_never_collides() -> None:
    clock = BeatClock()
    beats = clock.beats(5000, [0, 0, 0])
    assert len({b.t_ms for b in beats}) == 3


def _stored_rr(w: World) -> list[RRRow]:
    with w.tracker.sessionmaker() as db:
        return list(db.scalars(sa.select(RRRow).order_by(RRRow.t_ms)))


def test_capture_with_bursty_and_delayed_notifications_keeps_every_beat(world: World) -> None:
    strap_id, _ = _pair_both(world)
    world.strap.notify_interval_s = 0.05  # 20 notifications a second ...
    world.strap.burst = 10  # ... delivered ten at a time
    world.strap.hold(1.2)  # and the first batch held back over a second
    now = world.tracker.clock.now_ms()
    cap = world.devices.new_capture(world.person_id, strap_id, now, now + 3500)
    outcome = world.runtime.capture(strap_id, 3.5, cap)
    stored = _stored_rr(world)
    sent_ticks = [t for m in world.strap.sent for t in m.rr_ticks]
    stored_ticks = [round(r.rr_ms * 1024 / 1000) for r in stored]
    assert len(sent_ticks) >= 3
    # Every beat the strap sent during the window is stored: none collapsed onto another's millisecond.
    assert stored_ticks == sent_ticks[len(sent_ticks) - len(stored_ticks):]
    assert len(stored_ticks) >= len(sent_ticks) - 1  # at most one beat predates the window
    times = [r.t_ms for r in stored]
    assert all(b > a for a, b in zip(times, times[1:], strict=False))
    steps = np.diff(times)
    assert np.all(np.abs(steps - np.asarray(stored_ticks[1:]) * TICK_MS) <= 1.0)
    assert outcome.beats == len(stored)
