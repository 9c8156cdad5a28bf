"""`simulate()` and `Simulation`: one person's nights, hypnograms, beats, ring HR log and self-reports.

Building a `Simulation` is cheap (the nightly model, hypnograms, activity and wear schedules: a few
ms per week). Beats are generated lazily per 24-h chunk aligned to `start_ms` and kept in a small LRU
cache; every chunk has its own random streams, so results do not depend on the order of requests.
The ring's per-minute HR is the time-mean of the same 1-s HR curve that drives the beats (it agrees
with beats-per-minute counted from RR within ~1 bpm) and does not need the beats at all, so an 8-week
demo pulls 56 days of ring logs in ~1 s without generating 5 million beats.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from tracker.model import SleepSpan
from tracker.physiology.beats import (
    RR_MS_PER_TICK,
    ChunkCurves,
    DayPlan,
    chunk_beats,
    chunk_curves,
    chunk_heart_rate,
    night_corrections,
    session_profile,
)
from tracker.physiology.hypnogram import STAGE_OF_CODE, build_hypnogram, runs_of
from tracker.physiology.localtime import DAY_MS, MINUTE_MS, TzTable
from tracker.physiology.nightly import (
    EPOCH_MS,
    LEAD_NIGHTS,
    TAIL_NIGHTS,
    Nights,
    NightPlan,
    draw_nights,
)
from tracker.physiology.spec import (
    STREAM_BEATS,
    STREAM_CURVES,
    STREAM_DAY,
    STREAM_REPORT,
    STREAM_STAGES,
    Effects,
    PersonSpec,
    PlannedSession,
    SelfReport,
    rng_for,
)

_PERSON = 0  # a Simulation is person 0 of its seed (see simulate_nights)
_CHUNK_INDEX_OFFSET = 8  # stream indices must be non-negative; chunks start at −2
_BEAT_CACHE_CHUNKS = 16
_ACTIVITY_CLEAR_BEFORE_MS = 45 * MINUTE_MS  # no exercise just before a session …
_ACTIVITY_CLEAR_AFTER_MS = 75 * MINUTE_MS  # … or while its effect lasts


@dataclass(frozen=True, eq=False)
class TargetCurves:
    """The model's instantaneous truth on a 1-s grid (for tests and plots)."""

    t_ms: np.ndarray  # int64
    hr_bpm: np.ndarray
    ln_rmssd: np.ndarray
    in_bed: np.ndarray  # bool


class Simulation:
    """One simulated person over `days` local days from `start_ms`. Build it with `simulate()`."""

    def __init__(
        self,
        spec: PersonSpec,
        start_ms: int,
        days: int,
        sessions: tuple[PlannedSession, ...],
        effects: Effects,
        seed: int,
    ) -> None:
        self.spec = spec
        self.start_ms = start_ms
        self.days = days
        self.sessions = sessions
        self.effects = effects
        self.seed = seed
        # Beats and HR are defined for [t_min_ms, t_max_ms): from a day before start to a day after
        # the last simulated day (so captures around the edges and the last night's morning work).
        self.t_min_ms = start_ms - DAY_MS
        self.t_max_ms = start_ms + (days + 1) * DAY_MS
        n_internal = days + LEAD_NIGHTS + TAIL_NIGHTS
        self._table = TzTable(
            spec.tz, start_ms - (LEAD_NIGHTS + 2) * DAY_MS, start_ms + (days + TAIL_NIGHTS + 2) * DAY_MS
        )
        self._first_day = int(self._table.local_day(start_ms))
        first_label = self._first_day - LEAD_NIGHTS
        dose = np.zeros((1, n_internal))
        for s in sessions:
            j = int(self._table.local_day(s.start_ms)) - first_label + 1  # the night after the session day
            if 0 <= j < n_internal:
                dose[0, j] = max(dose[0, j], effects.gain(s))
        self._nights = draw_nights(spec, self._table, first_label, dose, effects, seed, np.array([_PERSON]))
        self._plan = self._day_plan(self._nights)
        self._beats: OrderedDict[int, tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._minute_hr: dict[int, np.ndarray] = {}
        self._minute_ln: dict[int, np.ndarray] = {}
        # The strap and ring emulators may ask from different threads; generation is deterministic, the
        # lock only keeps the LRU bookkeeping consistent (and avoids doing the same chunk twice).
        self._lock = threading.RLock()

    # ----------------------------------------------------------------------------------- building
    def _day_plan(self, nights: NightPlan) -> DayPlan:
        spec, n_internal = self.spec, nights.bedtime_ms.shape[1]
        bed, wake = nights.bedtime_ms[0], nights.wake_ms[0]
        hyps, hr_corr, ln_corr = [], np.zeros(n_internal), np.zeros(n_internal)
        for j in range(n_internal):
            hyp = build_hypnogram(
                rng_for(self.seed, _PERSON, STREAM_STAGES, j),
                int(nights.latency_ep[0, j]),
                int(nights.waso_ep[0, j]),
                int(nights.final_ep[0, j]),
                int(nights.deep_ep[0, j]),
                int(nights.rem_ep[0, j]),
                int(nights.light_ep[0, j]),
            )
            assert hyp.size == (wake[j] - bed[j]) // EPOCH_MS
            hyps.append(hyp)
            hr_corr[j], ln_corr[j] = night_corrections(hyp)
        hyp_offset = np.concatenate([[0], np.cumsum([h.size for h in hyps])[:-1]]).astype(np.int64)

        sess = sorted(self.sessions, key=lambda s: s.start_ms)
        sess_start = np.array([s.start_ms for s in sess], dtype=np.int64)
        sess_end = np.array([s.end_ms for s in sess], dtype=np.int64)
        fx = self.effects
        sess_hr = np.array([fx.rest_hr_bpm + fx.gain(s) * fx.acute_hr_bpm for s in sess], dtype=float)
        sess_ln = np.array([fx.rest_ln_rmssd + fx.gain(s) * fx.acute_ln_rmssd for s in sess], dtype=float)

        # Activity bouts and ring off-wrist spans of the day after each night (until the next bedtime).
        act: list[tuple[int, int, float]] = []
        off: list[tuple[int, int]] = []
        for j in range(n_internal - 1):
            rng = rng_for(self.seed, _PERSON, STREAM_DAY, j)
            day_from, day_to = int(wake[j]), int(bed[j + 1])
            n_bouts = rng.poisson(spec.activity_bouts_per_day)
            first_ms = day_from + 30 * MINUTE_MS
            starts = rng.uniform(first_ms, max(first_ms, day_to - 90 * MINUTE_MS), n_bouts)
            durations = np.minimum(25.0 * np.exp(0.5 * rng.standard_normal(n_bouts)), 120.0) * MINUTE_MS
            increments = rng.uniform(15.0, 45.0, n_bouts)
            for s, d, inc in zip(starts, durations, increments, strict=True):
                s_ms, e_ms = int(s), int(s + d)
                clash = (sess_start - _ACTIVITY_CLEAR_BEFORE_MS < e_ms) & (sess_end + _ACTIVITY_CLEAR_AFTER_MS > s_ms)
                if not clash.any():
                    act.append((s_ms, e_ms, float(inc)))
            shower, charge, u = rng.random(), rng.random(), rng.uniform(size=4)
            if shower < spec.ring_shower_prob_per_day:
                s_ms = day_from + int((5 + 35 * u[0]) * MINUTE_MS)
                off.append((s_ms, s_ms + int((10 + 15 * u[1]) * MINUTE_MS)))
            if charge < spec.ring_charge_prob_per_day:
                s_ms = day_to - int((60 + 120 * u[2]) * MINUTE_MS)
                off.append((s_ms, s_ms + int((45 + 45 * u[3]) * MINUTE_MS)))
        act.sort()
        self._off_wrist = _merge_spans(off)
        return DayPlan(
            spec=spec,
            table=self._table,
            bed_ms=bed,
            wake_ms=wake,
            hr_night_bpm=nights.resting_hr_bpm[0],
            ln_night=nights.ln_rmssd[0],
            hyp=np.concatenate(hyps),
            hyp_offset=hyp_offset,
            hr_corr_bpm=hr_corr,
            ln_corr=ln_corr,
            act_start_ms=np.array([a[0] for a in act], dtype=np.int64),
            act_end_ms=np.array([a[1] for a in act], dtype=np.int64),
            act_hr_bpm=np.array([a[2] for a in act], dtype=float),
            sess_start_ms=sess_start,
            sess_end_ms=sess_end,
            sess_hr_bpm=sess_hr,
            sess_ln=sess_ln,
            hold_ms=fx.acute_hold_min * MINUTE_MS,
            decay_ms=fx.acute_decay_min * MINUTE_MS,
        )

    # ----------------------------------------------------------------------------------- nights
    def nights(self) -> Nights:
        """True per-night values for the `days` nights ending on the mornings of the simulated days."""
        return Nights.from_plan_row(self._nights, 0, LEAD_NIGHTS, self.days)

    def day_starts_ms(self) -> np.ndarray:
        """UTC ms of local midnight of each simulated day (shape (days,)); DST days are 23 or 25 h."""
        return self._table.local_midnight_ms(self._first_day + np.arange(self.days))

    def hypnogram(self, night: int) -> tuple[int, np.ndarray]:
        """(bedtime_ms, stage code per 30-s epoch: 0 awake, 1 light, 2 deep, 3 REM) of reported night `night`."""
        if not 0 <= night < self.days:
            raise IndexError(night)
        j = night + LEAD_NIGHTS
        start = int(self._plan.hyp_offset[j])
        n = int((self._plan.wake_ms[j] - self._plan.bed_ms[j]) // EPOCH_MS)
        return int(self._plan.bed_ms[j]), self._plan.hyp[start : start + n]

    def sleep_spans(self) -> list[SleepSpan]:
        """Stage runs of every reported night, bedtime to wake, contiguous, in time order."""
        spans: list[SleepSpan] = []
        for i in range(self.days):
            bed_ms, hyp = self.hypnogram(i)
            starts, ends, codes = runs_of(hyp)
            spans.extend(
                SleepSpan(bed_ms + int(s) * EPOCH_MS, bed_ms + int(e) * EPOCH_MS, STAGE_OF_CODE[int(c)])
                for s, e, c in zip(starts, ends, codes, strict=True)
            )
        return spans

    # ----------------------------------------------------------------------------------- beats
    def _chunk_of(self, t_ms: int) -> int:
        return (t_ms - self.start_ms) // DAY_MS

    def _curves(self, k: int) -> ChunkCurves:
        rng = rng_for(self.seed, _PERSON, STREAM_CURVES, k + _CHUNK_INDEX_OFFSET)
        curves = chunk_curves(self._plan, self.start_ms + k * DAY_MS, rng)
        with self._lock:
            self._minute_hr.setdefault(k, curves.hr_bpm[:-1].reshape(-1, 60).mean(axis=1))
            self._minute_ln.setdefault(k, curves.ln_rmssd[:-1].reshape(-1, 60).mean(axis=1))
        return curves

    def _minute_hr_of(self, k: int) -> np.ndarray:
        """Mean HR (bpm) of each minute of chunk k (1440 values), without generating beats."""
        with self._lock:
            hit = self._minute_hr.get(k)
            if hit is None:
                rng = rng_for(self.seed, _PERSON, STREAM_CURVES, k + _CHUNK_INDEX_OFFSET)
                hr = chunk_heart_rate(self._plan, self.start_ms + k * DAY_MS, rng)
                hit = self._minute_hr[k] = hr[:-1].reshape(-1, 60).mean(axis=1)
            return hit

    def _chunk_beats(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(t_ms int64, rr_ticks int16) of the intervals generated by chunk k (ending in (start, start + 24 h])."""
        with self._lock:
            return self._chunk_beats_locked(k)

    def _chunk_beats_locked(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        hit = self._beats.get(k)
        if hit is not None:
            self._beats.move_to_end(k)
            return hit
        curves = self._curves(k)
        rng = rng_for(self.seed, _PERSON, STREAM_BEATS, k + _CHUNK_INDEX_OFFSET)
        ticks, rr_ticks = chunk_beats(self._plan, curves, rng)
        chunk_start = self.start_ms + k * DAY_MS
        t_ms = chunk_start + (ticks * 1000 + 512) // 1024  # nearest ms
        value = (t_ms, rr_ticks.astype(np.int16))
        self._beats[k] = value
        if len(self._beats) > _BEAT_CACHE_CHUNKS:
            self._beats.popitem(last=False)
        return value

    def _check_range(self, t0_ms: int, t1_ms: int) -> None:
        if t1_ms < t0_ms:
            raise ValueError("t1_ms must not be before t0_ms")
        if t0_ms < self.t_min_ms or t1_ms > self.t_max_ms:
            raise ValueError(f"[{t0_ms}, {t1_ms}) is outside the simulated range [{self.t_min_ms}, {self.t_max_ms})")

    def rr_ticks(self, t0_ms: int, t1_ms: int) -> tuple[np.ndarray, np.ndarray]:
        """Beats whose ending beat time is in [t0_ms, t1_ms): (t_ms int64, rr_ticks int64 in 1/1024 s)."""
        self._check_range(t0_ms, t1_ms)
        t_parts, rr_parts = [], []
        # Chunk k holds intervals ending in (chunk start, chunk start + 24 h].
        k_lo = -((self.start_ms - t0_ms) // DAY_MS) - 1
        k_hi = -((self.start_ms - t1_ms) // DAY_MS) - 1
        for k in range(k_lo, k_hi + 1):
            t_ms, rr = self._chunk_beats(k)
            a, b = np.searchsorted(t_ms, [t0_ms, t1_ms], side="left")
            t_parts.append(t_ms[a:b])
            rr_parts.append(rr[a:b].astype(np.int64))
        if not t_parts:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        return np.concatenate(t_parts), np.concatenate(rr_parts)

    def rr(self, t0_ms: int, t1_ms: int) -> tuple[np.ndarray, np.ndarray]:
        """Beats whose ending beat time is in [t0_ms, t1_ms): (t_ms int64, rr_ms float64).

        rr_ms is defined as rr_ticks · 1000/1024 (exact), so it equals what a strap sends; t_ms is the
        beat time rounded to the nearest ms. Includes ectopic beats and artefacts at the spec's rates.
        """
        t_ms, ticks = self.rr_ticks(t0_ms, t1_ms)
        return t_ms, ticks * RR_MS_PER_TICK

    def target_curves(self, t0_ms: int, t1_ms: int) -> TargetCurves:
        """The instantaneous targets driving the beats (with wander), at whole seconds in [t0_ms, t1_ms)
        counted from the chunk grid (start_ms + whole seconds)."""
        self._check_range(t0_ms, t1_ms)
        parts: list[tuple[np.ndarray, ...]] = []
        for k in range(self._chunk_of(t0_ms), self._chunk_of(max(t0_ms, t1_ms - 1)) + 1):
            c = self._curves(k)
            t = self.start_ms + k * DAY_MS + 1000 * np.arange(c.hr_bpm.size - 1, dtype=np.int64)
            keep = (t >= t0_ms) & (t < t1_ms)
            parts.append((t[keep], c.hr_bpm[:-1][keep], c.ln_rmssd[:-1][keep], c.in_bed[:-1][keep]))
        return TargetCurves(*(np.concatenate(x) for x in zip(*parts, strict=True)))

    # ----------------------------------------------------------------------------------- ring
    def ring_off_wrist_spans(self) -> list[tuple[int, int]]:
        """[start_ms, end_ms) spans when the ring is off (shower, charging); its log reads 0 there."""
        return [(int(a), int(b)) for a, b in zip(*self._off_wrist, strict=True)]

    def _minute_ln_of(self, k: int) -> np.ndarray:
        """Mean lnRMSSD target of each minute of chunk k (1440 values)."""
        with self._lock:
            hit = self._minute_ln.get(k)
        if hit is None:
            self._curves(k)  # fills the cache
            hit = self._minute_ln[k]
        return hit

    def _minute_means(self, m0: int, n: int, of_chunk: Callable[[int], np.ndarray] | None = None) -> np.ndarray:
        """Mean HR (float bpm; or what `of_chunk` gives per minute of a chunk) of n whole minutes from
        minute index m0 (relative to start_ms); NaN when off-wrist or outside the simulated range."""
        of_chunk = of_chunk or self._minute_hr_of
        minutes = m0 + np.arange(n, dtype=np.int64)
        out = np.full(n, np.nan)
        lo = self.t_min_ms // MINUTE_MS - self.start_ms // MINUTE_MS
        hi = self.t_max_ms // MINUTE_MS - self.start_ms // MINUTE_MS
        inside = (minutes >= lo) & (minutes < hi)
        if inside.any():
            chunk = minutes // 1440
            for k in np.unique(chunk[inside]):
                sel = inside & (chunk == k)
                out[sel] = of_chunk(int(k))[minutes[sel] - 1440 * k]
        mid_ms = self.start_ms + minutes * MINUTE_MS + MINUTE_MS // 2
        starts, ends = self._off_wrist
        i = np.searchsorted(starts, mid_ms, side="right") - 1
        worn = ~((i >= 0) & (mid_ms < ends[np.maximum(i, 0)]))
        out[~worn] = np.nan
        return out

    def heart_rate_1min(self, t0_ms: int, t1_ms: int) -> np.ndarray:
        """Mean HR (int bpm) of each whole minute in [t0_ms, t1_ms) as a ring logs it; 0 = no reading.

        t0_ms and t1_ms must be whole minutes (start_ms is one too)."""
        if (t0_ms - self.start_ms) % MINUTE_MS or (t1_ms - self.start_ms) % MINUTE_MS or t1_ms < t0_ms:
            raise ValueError("heart_rate_1min needs whole-minute bounds, t0_ms <= t1_ms")
        hr = self._minute_means((t0_ms - self.start_ms) // MINUTE_MS, (t1_ms - t0_ms) // MINUTE_MS)
        return np.where(np.isnan(hr), 0, np.rint(np.nan_to_num(hr))).astype(np.int64)

    def heart_rate_5min(self, day_start_ms: int) -> np.ndarray:
        """288 slot values (int bpm, 0 = no reading) from `day_start_ms`, the mean HR of each 5-min slot
        as a Colmi-style ring logs it. A slot reads 0 when fewer than 3 of its minutes were worn or it
        lies outside the simulated range. Pass local midnight (see `day_starts_ms`); on a DST day the
        288 slots still cover 24 real hours."""
        if (day_start_ms - self.start_ms) % MINUTE_MS:
            raise ValueError("day_start_ms must be a whole minute")
        hr = self._minute_means((day_start_ms - self.start_ms) // MINUTE_MS, 288 * 5).reshape(288, 5)
        worn = (~np.isnan(hr)).sum(axis=1)
        mean = np.nanmean(np.where(worn[:, None] > 0, hr, 0.0), axis=1)
        return np.where(worn >= 3, np.rint(mean), 0).astype(np.int64)

    def hrv_30min(self, day_start_ms: int) -> np.ndarray:
        """48 slot values (int ms, 0 = no value) from `day_start_ms`: the HRV a Colmi-style ring reports
        for each 30-min slot. Modelled as exp(mean lnRMSSD target) over the slot's worn minutes, with no
        estimation error of the ring's own (a real ring's number is noisier and its method unpublished);
        0 when fewer than 15 minutes were worn or the slot lies outside the simulated range."""
        if (day_start_ms - self.start_ms) % MINUTE_MS:
            raise ValueError("day_start_ms must be a whole minute")
        ln = self._minute_means((day_start_ms - self.start_ms) // MINUTE_MS, 48 * 30, self._minute_ln_of)
        ln = ln.reshape(48, 30)
        worn = (~np.isnan(ln)).sum(axis=1)
        mean = np.nanmean(np.where(worn[:, None] > 0, ln, 0.0), axis=1)
        return np.where(worn >= 15, np.clip(np.rint(np.exp(mean)), 1, 255), 0).astype(np.int64)

    # ----------------------------------------------------------------------------------- reports
    def self_reports(self, session: PlannedSession) -> SelfReport:
        """Before/after pain, stress and mood (0–10) for `session`: a baseline, the day's state (a
        worse night → more stress, lower mood), noise, and after a massage the planted deltas × the
        pressure gain. Rest sessions get only noise. Deterministic per (seed, session start)."""
        rng = rng_for(self.seed, _PERSON, STREAM_REPORT, session.start_ms)
        j = int(self._table.local_day(session.start_ms)) - (self._first_day - LEAD_NIGHTS)
        z = float(self._nights.latent_z[0, j]) if 0 <= j < self._nights.latent_z.shape[1] else 0.0
        spec, fx, gain = self.spec, self.effects, self.effects.gain(session)
        before = np.array([spec.pain_baseline, spec.stress_baseline - 1.0 * z, spec.mood_baseline + 0.8 * z])
        before = before + rng.normal(0.0, [1.0, 1.2, 1.0])
        after = before + gain * np.array([fx.pain_delta, fx.stress_delta, fx.mood_delta]) + rng.normal(0.0, 0.6, 3)

        def score(x: float) -> int:
            return int(np.clip(np.rint(x), 0, 10))

        return SelfReport(
            pain_before=score(before[0]),
            pain_after=score(after[0]),
            stress_before=score(before[1]),
            stress_after=score(after[1]),
            mood_before=score(before[2]),
            mood_after=score(after[2]),
        )

    def session_effect_profile(self, session: PlannedSession, t_ms: np.ndarray) -> np.ndarray:
        """Fraction (0…1) of `session`'s full acute effect present at `t_ms` (for plots and tests)."""
        return session_profile(t_ms, session.start_ms, session.end_ms, self._plan.hold_ms, self._plan.decay_ms)


def _merge_spans(spans: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    spans = sorted(spans)
    merged: list[list[int]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return np.array([m[0] for m in merged], dtype=np.int64), np.array([m[1] for m in merged], dtype=np.int64)


def simulate(
    spec: PersonSpec,
    start_ms: int,
    days: int,
    sessions: Iterable[PlannedSession] = (),
    effects: Effects = Effects(),
    seed: int = 0,
) -> Simulation:
    """Simulate one person for `days` local days from `start_ms` (usually local midnight; must be a whole
    minute). Same arguments → identical output. Cheap: beats are generated only when asked for."""
    if days < 1:
        raise ValueError("days must be positive")
    if seed < 0:
        raise ValueError("seed must be a non-negative int")
    if start_ms % MINUTE_MS:
        raise ValueError("start_ms must be a whole minute")
    return Simulation(spec, int(start_ms), int(days), tuple(sessions), effects, int(seed))
