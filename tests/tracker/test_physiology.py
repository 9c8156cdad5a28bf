"""The physiology model: reproducibility, realism of beats and nights, planted effects, DST, speed."""

from __future__ import annotations

import datetime as dt
import time
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from tracker.model import SleepSpan, Stage
from tracker.physiology import (
    Effects,
    NightlyPanel,
    PersonSpec,
    PlannedSession,
    simulate,
    simulate_nights,
)

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
MIN_MS = 60_000
CLEAN = PersonSpec(ectopic_rate_per_beat=0.0, artefact_rate_per_beat=0.0)


def local_midnight_ms(day: dt.date, tz: str = "Europe/Berlin") -> int:
    return int(dt.datetime.combine(day, dt.time(), tzinfo=ZoneInfo(tz)).timestamp() * 1000)


START_MS = local_midnight_ms(dt.date(2025, 1, 6))  # a Monday


def evening_session(day: int, kind: str = "massage", pressure: int = 3, hour: int = 17) -> PlannedSession:
    """A one-hour session starting at `hour` o'clock (local, January: UTC+1) on simulated day `day`."""
    start = START_MS + day * DAY_MS + hour * HOUR_MS
    return PlannedSession(start, start + HOUR_MS, kind, pressure)


def rmssd_ms(rr_ms: np.ndarray) -> float:
    d = np.diff(rr_ms)
    return float(np.sqrt(np.mean(d * d)))


@pytest.fixture(scope="module")
def clean_sim():
    return simulate(CLEAN, START_MS, 21, (), Effects(), seed=11)


# --------------------------------------------------------------------------------- reproducibility
def test_same_seed_gives_identical_output_and_another_seed_differs() -> None:
    a = simulate(PersonSpec(), START_MS, 7, (), Effects.typical(), seed=3)
    b = simulate(PersonSpec(), START_MS, 7, (), Effects.typical(), seed=3)
    c = simulate(PersonSpec(), START_MS, 7, (), Effects.typical(), seed=4)
    window = (START_MS + 2 * DAY_MS + 2 * HOUR_MS, START_MS + 2 * DAY_MS + 3 * HOUR_MS)
    for name in ("ln_rmssd", "resting_hr_bpm", "tst_min", "bedtime_ms", "deep_min"):
        assert np.array_equal(getattr(a.nights(), name), getattr(b.nights(), name))
        assert not np.array_equal(getattr(a.nights(), name), getattr(c.nights(), name))
    ta, ra = a.rr(*window)
    tb, rb = b.rr(*window)
    tc, rc = c.rr(*window)
    assert np.array_equal(ta, tb) and np.array_equal(ra, rb)
    assert ta.size != tc.size or not np.array_equal(ra, rc)
    assert a.sleep_spans() == b.sleep_spans() != c.sleep_spans()
    day = int(a.day_starts_ms()[3])
    assert np.array_equal(a.heart_rate_5min(day), b.heart_rate_5min(day))
    assert not np.array_equal(a.heart_rate_5min(day), c.heart_rate_5min(day))


def test_lazy_generation_does_not_depend_on_request_order() -> None:
    window = (START_MS + 3 * DAY_MS, START_MS + 3 * DAY_MS + HOUR_MS)
    fresh = simulate(PersonSpec(), START_MS, 7, (), Effects(), seed=8)
    busy = simulate(PersonSpec(), START_MS, 7, (), Effects(), seed=8)
    busy.rr(START_MS + 5 * DAY_MS, START_MS + 6 * DAY_MS)
    busy.heart_rate_5min(START_MS + DAY_MS)
    assert all(np.array_equal(x, y) for x, y in zip(fresh.rr(*window), busy.rr(*window), strict=True))


# --------------------------------------------------------------------------------- beats
def test_rr_and_rr_ticks_agree_exactly_and_chunks_are_24h(clean_sim) -> None:
    t0, t1 = START_MS + DAY_MS + 1, START_MS + 2 * DAY_MS + 1  # exactly one chunk's intervals
    t_ms, rr_ms = clean_sim.rr(t0, t1)
    t_ms2, rr_ticks = clean_sim.rr_ticks(t0, t1)
    assert np.array_equal(t_ms, t_ms2)
    assert rr_ticks.dtype.kind == "i"
    assert np.array_equal(rr_ms, rr_ticks * 1000 / 1024)
    assert int(rr_ticks.sum()) == 24 * 3600 * 1024  # the chunk spans exactly 24 h
    assert np.all(np.diff(t_ms) > 0)
    assert np.all((t_ms >= t0) & (t_ms < t1))
    # Beat times are the running sum of the intervals (to the ms rounding of t_ms).
    assert np.max(np.abs(np.diff(t_ms) - rr_ms[1:])) <= 1.0
    assert 70_000 < t_ms.size < 130_000


def test_rmssd_in_light_sleep_matches_the_nightly_target(clean_sim) -> None:
    nights = clean_sim.nights()
    spans = clean_sim.sleep_spans()
    ratios = []
    for i in range(1, 15):
        bed, wake = int(nights.bedtime_ms[i]), int(nights.wake_ms[i])
        light = [s for s in spans if bed <= s.start_ms and s.end_ms <= wake and s.stage == Stage.LIGHT]
        longest = max(light, key=lambda s: s.end_ms - s.start_ms)
        mid = (longest.start_ms + longest.end_ms) // 2
        _, rr = clean_sim.rr(mid - 150_000, mid + 150_000)  # a 5-min window
        ratios.append(rmssd_ms(rr) / np.exp(nights.ln_rmssd[i]))
    ratios = np.array(ratios)
    assert np.mean(np.abs(ratios - 1.0) <= 0.15) >= 0.9, ratios
    assert np.all(np.abs(ratios - 1.0) <= 0.25), ratios
    assert abs(np.median(ratios) - 1.0) < 0.06


def test_asleep_means_of_beats_realise_nightly_hr_and_ln_rmssd(clean_sim) -> None:
    nights = clean_sim.nights()
    for i in (2, 5, 9):
        bed_ms, hyp = clean_sim.hypnogram(i)
        t_ms, rr = clean_sim.rr(bed_ms, int(nights.wake_ms[i]))
        asleep = hyp[(t_ms - bed_ms) // 30_000] != 0
        assert abs(np.mean(60_000 / rr[asleep]) - nights.resting_hr_bpm[i]) < 1.0
        windows = []
        for w0 in range(bed_ms, int(nights.wake_ms[i]) - 300_000, 300_000):
            if np.all(hyp[(w0 - bed_ms) // 30_000 : (w0 - bed_ms + 300_000) // 30_000] != 0):
                sel = (t_ms >= w0) & (t_ms < w0 + 300_000)
                windows.append(np.log(rmssd_ms(rr[sel])))
        assert abs(np.mean(windows) - nights.ln_rmssd[i]) < 0.05


def test_heart_rate_is_lower_asleep_and_near_the_spec(clean_sim) -> None:
    nights = clean_sim.nights()
    assert abs(np.mean(nights.resting_hr_bpm) - CLEAN.resting_hr_bpm) < 2.0
    assert abs(np.mean(nights.ln_rmssd) - CLEAN.ln_rmssd) < 0.12
    curves = clean_sim.target_curves(START_MS + 4 * DAY_MS, START_MS + 5 * DAY_MS)
    assert np.mean(curves.hr_bpm[curves.in_bed]) + 8 < np.mean(curves.hr_bpm[~curves.in_bed])
    t_ms, rr = clean_sim.rr(START_MS + 4 * DAY_MS + 3 * HOUR_MS, START_MS + 4 * DAY_MS + 4 * HOUR_MS)
    assert 45 < np.mean(60_000 / rr) < 65  # 03:00 local, asleep


def test_ectopic_beats_and_artefacts_appear_at_about_the_spec_rate() -> None:
    spec = PersonSpec(ectopic_rate_per_beat=1e-3, artefact_rate_per_beat=2e-3)
    sim = simulate(spec, START_MS, 3, (), Effects(), seed=5)
    _, rr = sim.rr(START_MS + DAY_MS, START_MS + 2 * DAY_MS)
    pad = np.pad(rr, 5, mode="reflect")
    median = np.median(np.lib.stride_tricks.sliding_window_view(pad, 11), axis=1)
    flagged = np.abs(rr - median) > 0.2 * median
    events = spec.ectopic_rate_per_beat + spec.artefact_rate_per_beat
    # Each event disturbs one or two intervals; the clean spec has (almost) none.
    assert 0.5 * events < flagged.mean() < 3.0 * events
    _, rr_clean = simulate(CLEAN, START_MS, 3, (), Effects(), seed=5).rr(START_MS + DAY_MS, START_MS + 2 * DAY_MS)
    pad = np.pad(rr_clean, 5, mode="reflect")
    median = np.median(np.lib.stride_tricks.sliding_window_view(pad, 11), axis=1)
    assert (np.abs(rr_clean - median) > 0.2 * median).mean() < 0.2 * events


def test_rr_outside_the_simulated_range_is_an_error(clean_sim) -> None:
    with pytest.raises(ValueError):
        clean_sim.rr(START_MS - 3 * DAY_MS, START_MS)
    with pytest.raises(ValueError):
        clean_sim.rr(START_MS, START_MS + 40 * DAY_MS)


# --------------------------------------------------------------------------------- sessions
def _pre_post(sim, sessions) -> dict[str, np.ndarray]:
    out: dict[str, list[tuple[float, float]]] = {"massage": [], "rest": []}
    for s in sessions:
        _, pre = sim.rr(s.start_ms - 5 * MIN_MS, s.start_ms)
        _, post = sim.rr(s.end_ms, s.end_ms + 5 * MIN_MS)
        out[s.kind].append(
            (np.mean(60_000 / post) - np.mean(60_000 / pre), np.log(rmssd_ms(post)) - np.log(rmssd_ms(pre)))
        )
    return {k: np.array(v) for k, v in out.items()}


def test_planted_acute_effect_lowers_post_session_hr_beyond_rest() -> None:
    sessions = [evening_session(d, "massage" if d % 2 else "rest") for d in range(16)]
    effects = Effects(acute_hr_bpm=-4.0, acute_ln_rmssd=0.2, rest_hr_bpm=-3.0, rest_ln_rmssd=0.1)
    deltas = _pre_post(simulate(CLEAN, START_MS, 17, sessions, effects, seed=21), sessions)
    massage_hr, massage_ln = deltas["massage"].mean(axis=0)
    rest_hr, rest_ln = deltas["rest"].mean(axis=0)
    assert -9.5 < massage_hr < -4.5  # planted −7
    assert -5.0 < rest_hr < -1.0  # planted −3
    assert massage_hr < rest_hr - 1.5
    assert massage_ln > rest_ln + 0.05 and massage_ln > 0.15

    null = _pre_post(simulate(CLEAN, START_MS, 17, sessions, Effects(), seed=21), sessions)
    both = np.concatenate([null["massage"], null["rest"]])
    # Pre and post are 65 min apart: slow HR wander (SD 1.5 bpm) makes each Δ noisy (SD ≈ 2 bpm).
    assert abs(both[:, 0].mean()) < 2.0
    assert abs(both[:, 1].mean()) < 0.06
    assert abs(null["massage"][:, 0].mean() - null["rest"][:, 0].mean()) < 2.5


def test_effect_profile_holds_then_decays() -> None:
    s = evening_session(0)
    sim = simulate(CLEAN, START_MS, 2, [s], Effects(), seed=1)
    t = np.array([s.start_ms - 1, s.start_ms + 30 * MIN_MS, s.end_ms + 4 * MIN_MS, s.end_ms + 60 * MIN_MS])
    r = sim.session_effect_profile(s, t)
    assert r[0] == 0.0 and r[1] > 0.99 and r[2] > 0.99 and r[3] < 0.1


def test_self_reports_are_bounded_ints_and_carry_the_planted_change() -> None:
    sessions = [evening_session(d) for d in range(40)]
    sim = simulate(PersonSpec(), START_MS, 40, sessions, Effects(stress_delta=-2.0, mood_delta=1.5), seed=2)
    reports = [sim.self_reports(s) for s in sessions]
    names = ("pain_before", "pain_after", "stress_before", "stress_after", "mood_before", "mood_after")
    values = np.array([[getattr(r, f) for f in names] for r in reports])
    assert values.dtype.kind == "i" and values.min() >= 0 and values.max() <= 10
    assert np.mean(values[:, 3] - values[:, 2]) < -1.2
    assert np.mean(values[:, 5] - values[:, 4]) > 0.8
    assert abs(np.mean(values[:, 1] - values[:, 0])) < 0.5  # no pain effect planted
    assert sim.self_reports(sessions[0]) == sim.self_reports(sessions[0])


def test_planned_session_validates() -> None:
    with pytest.raises(ValueError):
        PlannedSession(10, 5)
    with pytest.raises(ValueError):
        PlannedSession(0, 5, kind="nap")
    with pytest.raises(ValueError):
        PlannedSession(0, 5, pressure=6)


# --------------------------------------------------------------------------------- sleep
def test_sleep_spans_cover_each_night_and_match_the_nightly_minutes(clean_sim) -> None:
    nights = clean_sim.nights()
    spans = clean_sim.sleep_spans()
    assert all(isinstance(s, SleepSpan) and s.end_ms > s.start_ms for s in spans)
    deep_by_third = np.zeros(3)
    rem_by_third = np.zeros(3)
    for i in range(nights.days):
        bed, wake = int(nights.bedtime_ms[i]), int(nights.wake_ms[i])
        own = [s for s in spans if bed <= s.start_ms < wake]
        assert own[0].start_ms == bed and own[-1].end_ms == wake
        assert all(a.end_ms == b.start_ms and a.stage != b.stage for a, b in zip(own, own[1:]))
        assert own[0].stage == Stage.AWAKE and own[-1].stage == Stage.AWAKE  # latency, final awakening
        minutes = {stage: sum(s.end_ms - s.start_ms for s in own if s.stage == stage) / MIN_MS for stage in Stage}
        assert minutes[Stage.DEEP] == nights.deep_min[i]
        assert minutes[Stage.REM] == nights.rem_min[i]
        assert minutes[Stage.LIGHT] == nights.light_min[i]
        assert minutes[Stage.AWAKE] == nights.awake_min[i]
        assert nights.tst_min[i] == pytest.approx(nights.time_in_bed_min[i] * nights.efficiency_pct[i] / 100)
        edges = bed + (wake - bed) * np.arange(4) // 3
        for s in own:
            for k in range(3):
                overlap = max(0, min(s.end_ms, edges[k + 1]) - max(s.start_ms, edges[k]))
                deep_by_third[k] += overlap * (s.stage == Stage.DEEP)
                rem_by_third[k] += overlap * (s.stage == Stage.REM)
    assert deep_by_third[0] > 2 * deep_by_third[2]
    assert rem_by_third[2] > 2 * rem_by_third[0]
    # ~90-min cycles: about 4–6 REM periods per night.
    n_rem = sum(1 for s in spans if s.stage == Stage.REM) / nights.days
    assert 3.5 <= n_rem <= 6.5


def test_nights_are_plausible(clean_sim) -> None:
    n = clean_sim.nights()
    assert n.night_date[0] == np.datetime64("2025-01-06")
    assert np.all((n.tst_min > 300) & (n.tst_min < 600))
    assert np.all((n.efficiency_pct > 70) & (n.efficiency_pct < 100))
    assert np.all(n.deep_min > 0) and np.all(n.rem_min > 0)
    assert np.allclose(n.deep_min + n.rem_min + n.light_min, n.tst_min)
    assert np.allclose(n.tst_min + n.awake_min, n.time_in_bed_min)
    assert np.all(n.sleep_latency_min >= 0.5) and np.all(n.waso_min >= 0)
    assert np.all(n.sleep_latency_min + n.waso_min < n.awake_min)  # plus a final awakening
    # Bedtime on the evening before the label date, wake on its morning (local time).
    tz = ZoneInfo(CLEAN.tz)
    for bed, wake, date in zip(n.bedtime_ms, n.wake_ms, n.night_date, strict=True):
        assert dt.datetime.fromtimestamp(wake / 1000, tz).date() == date.astype(dt.date)
        bed_hour = dt.datetime.fromtimestamp(bed / 1000, tz).hour
        assert bed_hour >= 21 or bed_hour < 2


@pytest.mark.parametrize(("label", "delta_min"), [("2025-03-30", -60), ("2025-10-26", +60)])
def test_dst_night_has_its_real_length_in_utc(label: str, delta_min: int) -> None:
    spec = PersonSpec(bedtime_jitter_min=0, wake_jitter_min=0, free_wake_weekdays=())
    night = dt.date.fromisoformat(label)
    sim = simulate(spec, local_midnight_ms(night - dt.timedelta(days=3)), 6, (), Effects(), seed=4)
    n = sim.nights()
    i = int(np.flatnonzero(n.night_date == np.datetime64(label))[0])
    usual_min = (spec.wake_local_min + 1440 - spec.bedtime_local_min)
    assert n.time_in_bed_min[i - 1] == usual_min
    assert n.time_in_bed_min[i] == usual_min + delta_min
    own = [s for s in sim.sleep_spans() if n.bedtime_ms[i] <= s.start_ms < n.wake_ms[i]]
    assert (own[-1].end_ms - own[0].start_ms) / MIN_MS == usual_min + delta_min
    tz = ZoneInfo(spec.tz)
    assert dt.datetime.fromtimestamp(n.wake_ms[i] / 1000, tz).strftime("%H:%M") == "06:45"
    assert dt.datetime.fromtimestamp(n.bedtime_ms[i] / 1000, tz).strftime("%H:%M") == "23:00"
    day_lengths_h = np.diff(sim.day_starts_ms()) / HOUR_MS
    assert sorted(set(day_lengths_h.tolist())) == sorted({24.0, 24.0 + delta_min / 60})


# --------------------------------------------------------------------------------- ring
def test_heart_rate_5min_has_288_slots_that_match_the_beats(clean_sim) -> None:
    day = int(clean_sim.day_starts_ms()[5])
    slots = clean_sim.heart_rate_5min(day)
    assert slots.shape == (288,) and slots.dtype.kind == "i"
    t_ms, rr = clean_sim.rr(day, day + DAY_MS)
    slot = (t_ms - day) // (5 * MIN_MS)
    # Time-weighted mean HR of a slot = beats per minute (a beat-weighted mean over-weights fast stretches).
    beat_hr = 60_000 * np.bincount(slot, minlength=288) / np.bincount(slot, rr, minlength=288)
    worn = slots > 0
    assert worn.mean() > 0.9
    per_min = clean_sim.heart_rate_1min(day, day + DAY_MS)
    assert per_min.shape == (1440,)
    fully_worn = np.all(per_min.reshape(288, 5) > 0, axis=1)  # partly worn slots average fewer minutes
    assert fully_worn.mean() > 0.85
    assert np.max(np.abs(slots[fully_worn] - beat_hr[fully_worn])) <= 1.5
    for a, b in clean_sim.ring_off_wrist_spans():
        if day <= a and b <= day + DAY_MS and b - a >= 10 * MIN_MS:
            assert np.all(per_min[(a - day) // MIN_MS + 1 : (b - day) // MIN_MS - 1] == 0)
    # Sleeping slots read lower than daytime ones.
    assert np.median(slots[worn][:48]) + 8 < np.median(slots[worn][144:240])


def test_heart_rate_5min_outside_the_range_reads_zero(clean_sim) -> None:
    assert np.all(clean_sim.heart_rate_5min(START_MS + 60 * DAY_MS) == 0)


def test_ring_hrv_30min_is_the_rmssd_target_of_worn_slots(clean_sim) -> None:
    day = int(clean_sim.day_starts_ms()[5])
    slots = clean_sim.hrv_30min(day)
    assert slots.shape == (48,) and slots.dtype.kind == "i"
    curves = clean_sim.target_curves(day, day + DAY_MS)
    worn_min = (clean_sim.heart_rate_1min(day, day + DAY_MS) > 0).reshape(48, 30).sum(axis=1)
    assert np.array_equal(slots == 0, worn_min < 15)  # no value for a slot mostly off the finger
    full = worn_min == 30
    target = np.exp(curves.ln_rmssd.reshape(48, 1800).mean(axis=1))
    assert full.mean() > 0.8 and np.max(np.abs(slots[full] - target[full])) <= 1.0
    # Nights read higher than days, as the RR-based RMSSD does.
    assert np.median(slots[:10][slots[:10] > 0]) > np.median(slots[24:40][slots[24:40] > 0])
    assert np.all(clean_sim.hrv_30min(START_MS + 60 * DAY_MS) == 0)


# --------------------------------------------------------------------------------- panel
def test_panel_row_equals_the_single_person_model() -> None:
    days = 14
    massage_days = [1, 4, 8, 11]
    sessions = [evening_session(d, pressure=2, hour=18) for d in massage_days]
    effects = Effects(night_ln_rmssd=0.2, night_tst_min=15.0, night_deep_min=10.0)
    mask = np.zeros(days, dtype=np.int64)
    mask[massage_days] = 2
    panel = simulate_nights(5, days, mask, effects, seed=17, spec=PersonSpec(), start_ms=START_MS)
    single = simulate(PersonSpec(), START_MS, days, sessions, effects, seed=17).nights()
    row = panel.person(0)
    names = ("bedtime_ms", "wake_ms", "tst_min", "deep_min", "rem_min", "resting_hr_bpm", "ln_rmssd", "massage_dose")
    for name in names:
        assert np.array_equal(getattr(row, name), getattr(single, name)), name
    assert np.array_equal(np.flatnonzero(single.massage_dose), np.array(massage_days) + 1)
    assert not np.array_equal(panel.ln_rmssd[0], panel.ln_rmssd[1])


def test_panel_statistics_follow_the_spec() -> None:
    spec = PersonSpec(weekly_ln_rmssd_amplitude=0.0, weekly_hr_amplitude_bpm=0.0)
    panel = simulate_nights(400, 60, np.zeros(60, dtype=bool), Effects(), seed=1, spec=spec)
    ln = panel.ln_rmssd
    assert abs(ln.mean() - spec.ln_rmssd) < 0.01
    assert abs(ln.std(axis=1, ddof=1).mean() - spec.ln_rmssd_sd) < 0.015
    dev = ln - ln.mean(axis=1, keepdims=True)
    lag1 = np.sum(dev[:, 1:] * dev[:, :-1]) / np.sum(dev * dev)
    assert abs(lag1 - spec.ar1_phi) < 0.06
    r = np.corrcoef(ln.ravel(), panel.resting_hr_bpm.ravel())[0, 1]
    assert -0.75 < r < -0.45  # coupling 0.6


def test_panel_next_night_effect_is_lag_one_and_absent_when_zero() -> None:
    days = 60
    rng = np.random.default_rng(0)
    mask = rng.random((200, days)) < 0.15
    planted = simulate_nights(200, days, mask, Effects(night_ln_rmssd=0.1, night_resting_hr_bpm=-1.0), seed=5)
    null = simulate_nights(200, days, mask, Effects(), seed=5)
    lag1 = np.zeros_like(mask)
    lag1[:, 1:] = mask[:, :-1]
    diff_ln = planted.ln_rmssd - null.ln_rmssd  # same seed: only the effect differs
    assert np.allclose(diff_ln[lag1], 0.1) and np.allclose(diff_ln[~lag1], 0.0)
    assert np.allclose((planted.resting_hr_bpm - null.resting_hr_bpm)[lag1], -1.0)
    assert np.array_equal(planted.massage_dose > 0, lag1)
    # With no effect, dosed and undosed nights do not differ beyond noise.
    gap = null.ln_rmssd[lag1].mean() - null.ln_rmssd[~lag1].mean()
    assert abs(gap) < 0.02


def test_panel_shapes_and_validation() -> None:
    panel = simulate_nights(3, 10, np.zeros((3, 10), dtype=bool), seed=0)
    assert isinstance(panel, NightlyPanel) and panel.n_people == 3
    assert panel.ln_rmssd.shape == (3, 10) and panel.night_date.shape == (10,)
    with pytest.raises(ValueError):
        simulate_nights(3, 10, np.zeros(9, dtype=bool))
    with pytest.raises(ValueError):
        panel.ln_rmssd[0, 0] = 1.0  # read-only


# --------------------------------------------------------------------------------- speed
def test_speed_one_day_of_beats_and_a_200_by_60_panel() -> None:
    sim = simulate(PersonSpec(), START_MS, 56, (), Effects.typical(), seed=3)
    t = time.perf_counter()
    t_ms, _ = sim.rr(START_MS + 10 * DAY_MS, START_MS + 11 * DAY_MS)
    beats_s = time.perf_counter() - t
    t = time.perf_counter()
    simulate_nights(200, 60, np.zeros(60, dtype=bool), Effects(), seed=3)
    panel_s = time.perf_counter() - t
    print(f"one day of beats ({t_ms.size}): {beats_s:.3f} s; 200x60 panel: {panel_s:.3f} s")
    assert beats_s < 1.0
    assert panel_s < 1.0
