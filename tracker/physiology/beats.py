"""Instantaneous targets and beat-level RR generation for one 24-h chunk.

Target curves (1-s grid): the heart's mean rate and its vagal tone (lnRMSSD) at every second.
* In bed: the night's mean asleep HR / lnRMSSD plus a stage offset (deep: HR −2.5 bpm, lnRMSSD +0.12;
  REM: +2.5 bpm, −0.10; awake in bed: +5 bpm, −0.20) and an HR drift from +2 bpm at bedtime to −2 bpm
  at wake, minus the night's mean of those offsets over asleep epochs, so the mean over time asleep
  equals the nightly value exactly (before the zero-mean wander below).
* Out of bed: the morning's night values + `day_hr_offset_bpm` / `day_ln_rmssd_offset`, a circadian
  term (±2.5 bpm, peak 16:00 local), a +6 bpm bump after waking (20-min decay), activity bouts
  (+inc bpm, lnRMSSD −0.02 per bpm) and session effects (see `Effects`).
* Both: slow zero-mean wander (HR SD 1.5 bpm awake / 0.9 asleep, 5-min time constant; lnRMSSD SD
  0.05, 10 min); targets are smoothed over 35 s so stage changes are not steps.

Beats: RR_j = μ + A·sin φ_resp + L·m·sin φ_LF + σ·ε at the midpoint of interval j, with μ = 60000/HR.
Breathing (~0.24 Hz asleep, 0.28 awake) and LF (~0.095 Hz) have slowly wandering frequencies. For
successive beats T = μ apart, E[ΔRR²] = 2A²·sin²(π f_r T) + 2L²m²·sin²(π f_LF T) + 2σ², so A is solved
per beat to make RMSSD equal exp(lnRMSSD target) with a share `white_noise_fraction` from σ.
Each chunk is scaled (by ~1 ± 1e-4) to span exactly 24 h, so chunk k's beats are independent of any
other chunk (lazy, order-free generation): a beat sits exactly on every chunk boundary. Ectopic beats
(premature by 22–40 % + compensatory pause) and strap artefacts (missed beat = two intervals merged,
extra beat = one split) conserve time. Beat times are quantised to 1/1024 s as a BLE strap sends them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tracker.physiology.hypnogram import AWAKE, DEEP, LIGHT, REM
from tracker.physiology.localtime import DAY_MS, TzTable
from tracker.physiology.nightly import EPOCH_MS
from tracker.physiology.spec import PersonSpec

TICKS_PER_S = 1024  # BLE Heart Rate Measurement RR unit
CHUNK_S = DAY_MS // 1000
CHUNK_TICKS = CHUNK_S * TICKS_PER_S
RR_MS_PER_TICK = 1000.0 / 1024.0  # exact in binary floating point

STAGE_HR_BPM = np.zeros(4)
STAGE_HR_BPM[[AWAKE, LIGHT, DEEP, REM]] = [5.0, 0.0, -2.5, 2.5]
STAGE_LN_RMSSD = np.zeros(4)
STAGE_LN_RMSSD[[AWAKE, LIGHT, DEEP, REM]] = [-0.20, 0.0, 0.12, -0.10]
HR_NIGHT_DRIFT_BPM = 2.0  # +2 at bedtime … −2 at wake
_CIRCADIAN_BPM = 2.5
_CIRCADIAN_PEAK_H = 16.0
_WAKE_BUMP_BPM = 6.0
_WAKE_BUMP_TAU_MS = 20 * 60_000
_ACTIVITY_RAMP_MS = 2 * 60_000
_ACTIVITY_RECOVERY_MS = 3 * 60_000
_ACTIVITY_LN_PER_BPM = -0.02
_SESSION_RAMP_MS = 3 * 60_000
_SMOOTH_S = 35
_TARGET_STEP_S = 5
_LF_HZ = 0.095


@dataclass(frozen=True, eq=False)
class DayPlan:
    """Everything the target curves need, over the internal nights J of one person."""

    spec: PersonSpec
    table: TzTable
    bed_ms: np.ndarray  # (J,)
    wake_ms: np.ndarray
    hr_night_bpm: np.ndarray
    ln_night: np.ndarray
    hyp: np.ndarray  # int8, all hypnograms concatenated
    hyp_offset: np.ndarray  # (J,) index of each night's first epoch in `hyp`
    hr_corr_bpm: np.ndarray  # (J,) mean stage + drift offset over asleep epochs
    ln_corr: np.ndarray
    act_start_ms: np.ndarray  # (M,) activity bouts
    act_end_ms: np.ndarray
    act_hr_bpm: np.ndarray
    sess_start_ms: np.ndarray  # (S,) sessions
    sess_end_ms: np.ndarray
    sess_hr_bpm: np.ndarray  # HR change at full effect (rest + gain·acute)
    sess_ln: np.ndarray
    hold_ms: float
    decay_ms: float


def night_corrections(hyp: np.ndarray) -> tuple[float, float]:
    """Mean stage (+ drift) offsets over the asleep epochs of one hypnogram: (HR bpm, lnRMSSD)."""
    n = hyp.size
    asleep = hyp != AWAKE
    if not asleep.any():
        return 0.0, 0.0
    x_mid = (np.arange(n) + 0.5) / n
    hr = STAGE_HR_BPM[hyp] + HR_NIGHT_DRIFT_BPM * (1.0 - 2.0 * x_mid)
    return float(hr[asleep].mean()), float(STAGE_LN_RMSSD[hyp][asleep].mean())


def target_curves(plan: DayPlan, t_ms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Deterministic targets (HR bpm, lnRMSSD, in-bed flag) at sorted UTC instants `t_ms` (no wander)."""
    t = np.asarray(t_ms, dtype=np.int64)
    j = np.searchsorted(plan.bed_ms, t, side="right") - 1
    if (j < 0).any():
        raise ValueError("time before the simulated range")
    in_bed = t < plan.wake_ms[j]
    if (~in_bed & (j >= plan.bed_ms.size - 1)).any():
        raise ValueError("time after the simulated range")
    spec = plan.spec
    hr = np.empty(t.shape)
    ln = np.empty(t.shape)

    # In bed: stage offsets, minus the night's asleep mean of them.
    jb, tb = j[in_bed], t[in_bed]
    bed, wake = plan.bed_ms[jb], plan.wake_ms[jb]
    code = plan.hyp[plan.hyp_offset[jb] + (tb - bed) // EPOCH_MS]
    x = (tb - bed) / (wake - bed)
    drift_bpm = HR_NIGHT_DRIFT_BPM * (1.0 - 2.0 * x)
    hr[in_bed] = plan.hr_night_bpm[jb] + STAGE_HR_BPM[code] + drift_bpm - plan.hr_corr_bpm[jb]
    ln[in_bed] = plan.ln_night[jb] + STAGE_LN_RMSSD[code] - plan.ln_corr[jb]

    # Out of bed: the morning's state plus the day's circadian rhythm and the bump after waking.
    up = ~in_bed
    ju, tu = j[up], t[up]
    local_h = ((tu + plan.table.offset_ms(tu)) % DAY_MS) / 3_600_000.0
    circadian = _CIRCADIAN_BPM * np.sin(2.0 * np.pi * (local_h - (_CIRCADIAN_PEAK_H - 6.0)) / 24.0)
    bump = _WAKE_BUMP_BPM * np.exp(-(tu - plan.wake_ms[ju]) / _WAKE_BUMP_TAU_MS)
    hr[up] = plan.hr_night_bpm[ju] + spec.day_hr_offset_bpm + circadian + bump
    ln[up] = plan.ln_night[ju] + spec.day_ln_rmssd_offset + _ACTIVITY_LN_PER_BPM * 0.5 * bump

    # Activity bouts: ramp up over 2 min, hold, recover with a 3-min time constant. Each event only
    # touches the slice of (sorted) `t` it can affect.
    for s, e, inc in zip(plan.act_start_ms, plan.act_end_ms, plan.act_hr_bpm, strict=True):
        a, b = np.searchsorted(t, [s, e + 10 * _ACTIVITY_RECOVERY_MS])
        if a == b:
            continue
        ts = t[a:b]
        during = np.clip((ts - s) / _ACTIVITY_RAMP_MS, 0.0, 1.0) * (ts < e)
        ramp_end = min(1.0, (e - s) / _ACTIVITY_RAMP_MS)
        after = np.where(ts >= e, ramp_end * np.exp(-np.maximum(ts - e, 0) / _ACTIVITY_RECOVERY_MS), 0.0)
        d_hr = inc * (during + after)
        hr[a:b] += d_hr
        ln[a:b] += _ACTIVITY_LN_PER_BPM * d_hr
    # Sessions: ramp in (3 min), hold `hold_ms` after the end, then decay.
    sessions = zip(plan.sess_start_ms, plan.sess_end_ms, plan.sess_hr_bpm, plan.sess_ln, strict=True)
    for s, e, d_hr_full, d_ln_full in sessions:
        if d_hr_full == 0 and d_ln_full == 0:
            continue
        a, b = np.searchsorted(t, [s, e + plan.hold_ms + 12 * plan.decay_ms])
        if a == b:
            continue
        r = session_profile(t[a:b], int(s), int(e), plan.hold_ms, plan.decay_ms)
        hr[a:b] += d_hr_full * r
        ln[a:b] += d_ln_full * r
    return hr, ln, in_bed


def session_profile(t_ms: np.ndarray, start_ms: int, end_ms: int, hold_ms: float, decay_ms: float) -> np.ndarray:
    """Fraction (0…1) of a session's full acute effect present at `t_ms`."""
    t = np.asarray(t_ms, dtype=np.int64)
    r_end = 1.0 - np.exp(-(end_ms - start_ms) / _SESSION_RAMP_MS)
    during = (1.0 - np.exp(-np.maximum(t - start_ms, 0) / _SESSION_RAMP_MS)) * ((t >= start_ms) & (t < end_ms))
    after_hold = np.maximum(t - end_ms - hold_ms, 0.0)
    after = r_end * np.exp(-after_hold / decay_ms) * (t >= end_ms)
    return during + after


def _ou(rng: np.random.Generator, n: int, tau_steps: float) -> np.ndarray:
    """Unit-variance Ornstein–Uhlenbeck-like noise (AR(1) with time constant `tau_steps`), numpy only:
    white noise convolved with a truncated exponential kernel."""
    kernel = np.exp(-np.arange(int(6 * tau_steps) + 1) / tau_steps)
    white = rng.standard_normal(n + kernel.size - 1)
    return np.convolve(white, kernel, mode="valid") / np.sqrt(np.sum(kernel * kernel))


def _box(x: np.ndarray, width: int) -> np.ndarray:
    """Centred moving average with edge padding (same length)."""
    half = width // 2
    padded = np.concatenate([np.full(half, x[0]), x, np.full(half, x[-1])])
    c = np.concatenate([[0.0], np.cumsum(padded)])
    return (c[width:] - c[:-width]) / width


@dataclass(frozen=True, eq=False)
class ChunkCurves:
    """1-s curves over one chunk, CHUNK_S + 1 points (both ends included)."""

    hr_bpm: np.ndarray
    ln_rmssd: np.ndarray
    in_bed: np.ndarray
    resp_hz: np.ndarray
    resp_phase: np.ndarray
    lf_phase: np.ndarray
    lf_gain: np.ndarray


_COARSE_S = 10  # slow processes are drawn on a 10-s grid and interpolated to 1 s (cheap, smooth)


def _slow(rng: np.random.Generator, tau_s: float) -> np.ndarray:
    coarse_n = CHUNK_S // _COARSE_S + 2
    coarse = _ou(rng, coarse_n, tau_s / _COARSE_S)
    return np.interp(np.arange(CHUNK_S + 1, dtype=float), _COARSE_S * np.arange(coarse_n, dtype=float), coarse)


def _smooth_targets(plan: DayPlan, chunk_start_ms: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Deterministic targets on the chunk's 1-s grid: evaluated every 5 s, smoothed over 35 s (so stage
    changes are not steps) and interpolated; every feature of the targets is ≥ 30 s long, so the
    coarser evaluation changes nothing that matters and is 5× cheaper."""
    n5 = CHUNK_S // _TARGET_STEP_S + 1
    t5_ms = chunk_start_ms + 1000 * _TARGET_STEP_S * np.arange(n5, dtype=np.int64)
    hr5, ln5, in_bed5 = target_curves(plan, t5_ms)
    grid_s = np.arange(CHUNK_S + 1, dtype=float)
    t5_s = _TARGET_STEP_S * np.arange(n5, dtype=float)
    width = _SMOOTH_S // _TARGET_STEP_S
    hr = np.interp(grid_s, t5_s, _box(hr5, width))
    ln = np.interp(grid_s, t5_s, _box(ln5, width))
    in_bed = np.repeat(in_bed5, _TARGET_STEP_S)[: CHUNK_S + 1]
    return hr, ln, in_bed


def _hr_with_wander(hr_det: np.ndarray, in_bed: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    hr_wander = 1.5 * _slow(rng, 300.0) * np.where(in_bed, 0.6, 1.0)
    return np.clip(hr_det + hr_wander, 35.0, 200.0)


def chunk_heart_rate(plan: DayPlan, chunk_start_ms: int, rng: np.random.Generator) -> np.ndarray:
    """HR (bpm, with wander) on the chunk's 1-s grid. It draws first from `rng`, so the ring's minute
    log (which needs only this) and the beats (`chunk_curves` continues the stream) agree exactly."""
    hr_det, _, in_bed = _smooth_targets(plan, chunk_start_ms)
    return _hr_with_wander(hr_det, in_bed, rng)


def chunk_curves(plan: DayPlan, chunk_start_ms: int, rng: np.random.Generator) -> ChunkCurves:
    """Targets with wander, plus breathing and LF processes, on the chunk's 1-s grid."""
    hr_det, ln_det, in_bed = _smooth_targets(plan, chunk_start_ms)
    hr = _hr_with_wander(hr_det, in_bed, rng)
    ln = ln_det + 0.05 * _slow(rng, 600.0)
    resp_hz = np.where(in_bed, plan.spec.resp_rate_sleep_hz, plan.spec.resp_rate_awake_hz)
    resp_hz = _box(resp_hz, 121) + 0.015 * _slow(rng, 60.0)
    lf_hz = _LF_HZ + 0.01 * _slow(rng, 120.0)
    lf_gain = np.clip(1.0 + 0.35 * _slow(rng, 60.0), 0.2, 2.5)
    phase0 = rng.uniform(0.0, 2.0 * np.pi, 2)
    resp_phase = phase0[0] + 2.0 * np.pi * np.concatenate([[0.0], np.cumsum(resp_hz[:-1])])
    lf_phase = phase0[1] + 2.0 * np.pi * np.concatenate([[0.0], np.cumsum(lf_hz[:-1])])
    return ChunkCurves(hr, ln, in_bed, resp_hz, resp_phase, lf_phase, lf_gain)


def chunk_beats(plan: DayPlan, curves: ChunkCurves, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(beat ticks since chunk start (int64, last = CHUNK_TICKS), rr_ticks (int64)) for one chunk."""
    spec = plan.spec
    grid_s = np.arange(curves.hr_bpm.size, dtype=float)
    rate = curves.hr_bpm / 60.0
    beats_by_s = np.concatenate([[0.0], np.cumsum(0.5 * (rate[1:] + rate[:-1]))])
    n_beats = int(round(beats_by_s[-1]))
    mid_s = np.interp(np.arange(n_beats) + 0.5, beats_by_s, grid_s)

    def at(x: np.ndarray) -> np.ndarray:
        return np.interp(mid_s, grid_s, x)

    mu_ms = 60_000.0 / at(curves.hr_bpm)
    rmssd_ms = np.exp(at(curves.ln_rmssd))
    period_s = mu_ms / 1000.0
    lf_gain = at(curves.lf_gain)
    s_hf = np.sin(np.pi * at(curves.resp_hz) * period_s) ** 2
    s_lf = np.sin(np.pi * _LF_HZ * period_s) ** 2
    rho = spec.lf_to_hf_amplitude
    w = spec.white_noise_fraction
    a_hf = rmssd_ms * np.sqrt((1.0 - w) / (2.0 * s_hf + 2.0 * rho * rho * lf_gain * lf_gain * s_lf))
    sigma = rmssd_ms * np.sqrt(w / 2.0)
    rr = (
        mu_ms
        + a_hf * np.sin(at(curves.resp_phase))
        + rho * lf_gain * a_hf * np.sin(at(curves.lf_phase))
        + sigma * rng.standard_normal(n_beats)
    )
    rr = np.maximum(rr, 250.0)
    rr *= DAY_MS / rr.sum()  # exactly 24 h per chunk

    rr = _ectopics_and_artefacts(rr, spec, rng)
    ticks = np.rint(np.cumsum(rr) * (TICKS_PER_S / 1000.0)).astype(np.int64)
    ticks[-1] = CHUNK_TICKS
    rr_ticks = np.diff(ticks, prepend=0)
    return ticks, rr_ticks


def _ectopics_and_artefacts(rr_ms: np.ndarray, spec: PersonSpec, rng: np.random.Generator) -> np.ndarray:
    """Insert ectopic beats and strap artefacts at the spec's per-beat rates (total time conserved)."""
    n = rr_ms.size
    p_ect, p_art = spec.ectopic_rate_per_beat, spec.artefact_rate_per_beat
    u = rng.random(n)
    if p_ect + p_art == 0 or n < 8:
        return rr_ms
    idx = np.flatnonzero(u < p_ect + p_art)
    idx = idx[(idx >= 1) & (idx <= n - 3)]
    idx = idx[np.diff(idx, prepend=-10) >= 3]  # events never touch each other
    ectopic = u[idx] < p_ect
    kind_u, frac_u = rng.random(idx.size), rng.random(idx.size)
    rr = rr_ms.copy()
    e = idx[ectopic]
    c = 0.60 + 0.18 * frac_u[ectopic]  # premature interval as a fraction of the sinus one
    rr[e + 1] += (1.0 - c) * rr[e]  # compensatory pause: the pair keeps its length
    rr[e] *= c
    art, art_kind, art_frac = idx[~ectopic], kind_u[~ectopic], frac_u[~ectopic]
    missed = art[art_kind < 0.5]
    rr[missed] += rr[missed + 1]
    rr[missed + 1] = np.nan
    extra = art[art_kind >= 0.5]
    f = 0.3 + 0.4 * art_frac[art_kind >= 0.5]
    tails = (1.0 - f) * rr[extra]
    rr[extra] *= f
    rr = np.insert(rr, extra + 1, tails)
    return rr[~np.isnan(rr)]
