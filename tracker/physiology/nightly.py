"""The nightly latent model, shared by `Simulation.nights()` and the fast many-people panel.

One night = one row of the model. A night is labelled by the local date of the morning it ends. For
each person, nights are drawn from their own random stream (seed, person, STREAM_NIGHTS), so person p
of `simulate_nights(..., seed=s)` is the same night series as `simulate(..., seed=s)` for p = 0 (with
the same spec, start, effects and massage days): the fast path and the beat-level path are one model.

Per night t (z = standardised latent state, ε = standard normal draws):

* recovery state   z_t = φ·z_{t−1} + √(1−φ²)·ε_t                      (stationary AR(1), variance 1)
* lnRMSSD_t        = ln_rmssd + a_w·W[weekday] + sd_ln·z_t + night_ln_rmssd·dose_t
* resting HR_t     = resting_hr + a_hr·(−W[weekday]) + sd_hr·(−c·z_t + √(1−c²)·u_t)
                     + night_resting_hr_bpm·dose_t                     (u: a second, independent AR(1))
* bedtime, wake    local wall-clock times with jitter; alarm mornings wake at a fixed time, free
                   mornings after `sleep_need / efficiency`; converted to UTC per night, so a night
                   across a DST change is an hour shorter or longer in real time.
* efficiency_t     = efficiency + sd_eff·ε + night_efficiency_pct·dose_t   (clipped to 50–99.5 %)
* stage minutes    TST split into deep / REM / light with noisy fractions (+ night_deep_min·dose_t);
                   wake time in bed split into sleep latency, WASO and a short final awakening.

dose_t is the pressure gain of a massage on the day before the morning of night t (0 when none), so
next-night effects are exactly lag-1 and do not leak into the AR(1) state. Stage counts are whole
30-s epochs, which the hypnogram realises exactly; nightly HR and lnRMSSD are the means over time
asleep that the beat generator's target curves realise by construction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields

import numpy as np

from tracker.physiology.localtime import DAY_MS, MINUTE_MS, TzTable, weekday
from tracker.physiology.spec import STREAM_NIGHTS, Effects, PersonSpec, rng_for

EPOCH_MS = 30_000  # sleep staging resolution (AASM epoch)
LEAD_NIGHTS = 2  # internal nights before the first reported one (beats before start_ms need them)
TAIL_NIGHTS = 4  # internal nights after the last reported one
_N_DRAWS = 10  # standard normals per person-night; fixed so adding people never reshuffles anyone
# Zero-mean weekly pattern by weekday of the morning (Mon … Sun): Friday and Saturday nights are worse.
_WEEKLY = np.array([0.375, 0.375, 0.375, 0.25, 0.25, -1.0, -0.625])
_FINAL_AWAKE_MIN = 1.0  # typical final awakening before getting up


@dataclass(frozen=True, slots=True)
class NightPlan:
    """Internal: every night-level number of P people over J internal nights, arrays (P, J)."""

    label_day: np.ndarray  # (J,) days since 1970-01-01 of each night's morning
    bedtime_ms: np.ndarray
    wake_ms: np.ndarray
    latency_ep: np.ndarray
    waso_ep: np.ndarray
    final_ep: np.ndarray
    deep_ep: np.ndarray
    rem_ep: np.ndarray
    light_ep: np.ndarray
    resting_hr_bpm: np.ndarray
    ln_rmssd: np.ndarray
    latent_z: np.ndarray
    dose: np.ndarray


def _ar1(innovations: np.ndarray, phi: float) -> np.ndarray:
    """Stationary unit-variance AR(1) along the last axis."""
    z = np.empty_like(innovations)
    z[..., 0] = innovations[..., 0]
    scale = np.sqrt(1.0 - phi * phi)
    for t in range(1, innovations.shape[-1]):
        z[..., t] = phi * z[..., t - 1] + scale * innovations[..., t]
    return z


def draw_nights(
    spec: PersonSpec,
    table: TzTable,
    first_label_day: int,
    dose: np.ndarray,
    effects: Effects,
    seed: int,
    persons: np.ndarray,
) -> NightPlan:
    """Draw the nightly model for people `persons` (their stream ids) over nights labelled
    `first_label_day + arange(J)`; `dose` is (P, J), the massage pressure gain acting on each night."""
    n_people, n_nights = dose.shape
    eps = np.empty((n_people, n_nights, _N_DRAWS))
    for row, person in enumerate(persons):
        eps[row] = rng_for(seed, int(person), STREAM_NIGHTS, 0).standard_normal((n_nights, _N_DRAWS))
    label_day = first_label_day + np.arange(n_nights, dtype=np.int64)
    wd = weekday(label_day)
    free = np.isin(wd, np.asarray(spec.free_wake_weekdays, dtype=np.int64))
    week = _WEEKLY[wd]

    z = _ar1(eps[..., 0], spec.ar1_phi)
    u = _ar1(eps[..., 1], spec.ar1_phi)
    c = spec.hr_hrv_coupling
    ln_rmssd = (
        spec.ln_rmssd
        + spec.weekly_ln_rmssd_amplitude * week
        + spec.ln_rmssd_sd * z
        + effects.night_ln_rmssd * dose
    )
    resting_hr = (
        spec.resting_hr_bpm
        - spec.weekly_hr_amplitude_bpm * week
        + spec.resting_hr_sd_bpm * (-c * z + np.sqrt(1.0 - c * c) * u)
        + effects.night_resting_hr_bpm * dose
    )

    efficiency = np.clip(
        spec.sleep_efficiency_pct + spec.sleep_efficiency_sd_pct * eps[..., 4] + effects.night_efficiency_pct * dose,
        50.0,
        99.5,
    )
    # Bedtime: whole local minutes relative to local midnight of the label day (so usually negative).
    bed_wall_min = np.rint(
        spec.bedtime_local_min - 1440.0 + spec.free_bedtime_shift_min * free + spec.bedtime_jitter_min * eps[..., 2]
    ).astype(np.int64)
    bedtime_ms = table.wall_to_utc_ms((label_day * 1440 + bed_wall_min) * MINUTE_MS)
    alarm_wall_min = np.rint(spec.wake_local_min + spec.wake_jitter_min * eps[..., 3]).astype(np.int64)
    alarm_wake_ms = table.wall_to_utc_ms((label_day * 1440 + alarm_wall_min) * MINUTE_MS)
    # Free mornings: sleep until the need is met (real elapsed time, so DST does not shorten it).
    free_tib_min = np.rint(spec.sleep_need_min / (efficiency / 100.0) + 20.0 * eps[..., 8]).astype(np.int64)
    wake_ms = np.where(free, bedtime_ms + free_tib_min * MINUTE_MS, alarm_wake_ms)
    wake_ms = wake_ms + np.rint(effects.night_tst_min * dose / (efficiency / 100.0)).astype(np.int64) * MINUTE_MS
    wake_ms = np.maximum(wake_ms, bedtime_ms + 180 * MINUTE_MS)  # at least 3 h in bed

    tib_ep = (wake_ms - bedtime_ms) // EPOCH_MS
    tst_ep = np.rint(tib_ep * efficiency / 100.0).astype(np.int64)
    awake_ep = tib_ep - tst_ep
    # Every night starts and ends awake (≥ 1 epoch each; efficiency ≤ 99.5 % and TIB ≥ 3 h leave ≥ 2
    # wake epochs); what the latency and final awakening leave over is WASO.
    final_ep = np.clip(np.rint(2.0 * _FINAL_AWAKE_MIN * (1.0 + np.abs(eps[..., 9]))).astype(np.int64), 1, awake_ep - 1)
    latency_min = spec.sleep_latency_min * np.exp(0.4 * eps[..., 5])
    latency_ep = np.clip(np.rint(2.0 * latency_min).astype(np.int64), 1, awake_ep - final_ep)
    waso_ep = awake_ep - latency_ep - final_ep

    deep_frac = np.clip(spec.deep_fraction + 0.025 * eps[..., 6], 0.03, 0.35)
    rem_frac = np.clip(spec.rem_fraction + 0.03 * eps[..., 7], 0.05, 0.35)
    deep_want = np.rint(tst_ep * deep_frac + 2.0 * effects.night_deep_min * dose)
    deep_ep = np.clip(deep_want, 0, np.floor(0.45 * tst_ep)).astype(np.int64)
    rem_ep = np.clip(np.rint(tst_ep * rem_frac), 0, np.floor(0.4 * tst_ep)).astype(np.int64)
    light_ep = tst_ep - deep_ep - rem_ep

    return NightPlan(
        label_day=label_day,
        bedtime_ms=bedtime_ms,
        wake_ms=wake_ms,
        latency_ep=latency_ep,
        waso_ep=waso_ep,
        final_ep=final_ep,
        deep_ep=deep_ep,
        rem_ep=rem_ep,
        light_ep=light_ep,
        resting_hr_bpm=resting_hr,
        ln_rmssd=ln_rmssd,
        latent_z=z,
        dose=dose,
    )


@dataclass(frozen=True, eq=False)
class Nights:
    """True per-night values; arrays of shape (days,) (or (n_people, days) in a `NightlyPanel`).

    Night i is labelled `night_date[i]`, the local date of the morning it ends. Minutes are whole 30-s
    epochs. `time_in_bed_min` = wake − bedtime in real (UTC) time; `efficiency_pct` = TST / TIB · 100;
    `awake_min` = latency + WASO + final awakening = TIB − TST. `resting_hr_bpm` and `ln_rmssd` are the
    means of the model's instantaneous targets over time asleep (the Oura "lowest 5-min HR" convention
    reads ~3–5 bpm lower). `massage_dose` is the pressure gain of the massage on the previous day (0 =
    none), i.e. the lag-1 exposure.
    """

    night_date: np.ndarray  # datetime64[D], shape (days,)
    bedtime_ms: np.ndarray  # int64 UTC
    wake_ms: np.ndarray  # int64 UTC
    time_in_bed_min: np.ndarray
    tst_min: np.ndarray
    efficiency_pct: np.ndarray
    sleep_latency_min: np.ndarray
    waso_min: np.ndarray
    deep_min: np.ndarray
    light_min: np.ndarray
    rem_min: np.ndarray
    awake_min: np.ndarray
    resting_hr_bpm: np.ndarray
    ln_rmssd: np.ndarray
    massage_dose: np.ndarray

    @classmethod
    def _from_plan(cls, plan: NightPlan, first: int, days: int) -> dict[str, np.ndarray]:
        cols = slice(first, first + days)

        def take(a: np.ndarray) -> np.ndarray:
            return a[:, cols]

        tib_ep = take(plan.wake_ms - plan.bedtime_ms) / EPOCH_MS
        tst_ep = take(plan.deep_ep + plan.rem_ep + plan.light_ep)
        values = {
            "night_date": plan.label_day[cols].astype("datetime64[D]"),
            "bedtime_ms": take(plan.bedtime_ms),
            "wake_ms": take(plan.wake_ms),
            "time_in_bed_min": tib_ep / 2.0,
            "tst_min": tst_ep / 2.0,
            "efficiency_pct": 100.0 * tst_ep / tib_ep,
            "sleep_latency_min": take(plan.latency_ep) / 2.0,
            "waso_min": take(plan.waso_ep) / 2.0,
            "deep_min": take(plan.deep_ep) / 2.0,
            "light_min": take(plan.light_ep) / 2.0,
            "rem_min": take(plan.rem_ep) / 2.0,
            "awake_min": (tib_ep - tst_ep) / 2.0,
            "resting_hr_bpm": take(plan.resting_hr_bpm),
            "ln_rmssd": take(plan.ln_rmssd),
            "massage_dose": take(plan.dose),
        }
        for a in values.values():
            a.flags.writeable = False
        return values

    @classmethod
    def from_plan_row(cls, plan: NightPlan, row: int, first: int, days: int) -> Nights:
        values = cls._from_plan(plan, first, days)
        return cls(**{k: (v if k == "night_date" else v[row]) for k, v in values.items()})

    @property
    def days(self) -> int:
        return int(self.night_date.shape[0])


@dataclass(frozen=True, eq=False)
class NightlyPanel(Nights):
    """`Nights` for many people: every array except `night_date` has shape (n_people, days)."""

    @property
    def n_people(self) -> int:
        return int(self.ln_rmssd.shape[0])

    def person(self, p: int) -> Nights:
        """Row p as a `Nights` record (shape (days,))."""
        values = {f.name: getattr(self, f.name) for f in fields(Nights)}
        return Nights(**{k: (v if k == "night_date" else v[p]) for k, v in values.items()})


def default_start_ms(tz: str) -> int:
    """Local midnight of Monday 2025-01-06 in `tz` (a fixed, clock-free default start)."""
    day = (dt.date(2025, 1, 6) - dt.date(1970, 1, 1)).days
    table = TzTable(tz, day * DAY_MS - DAY_MS, day * DAY_MS + DAY_MS)
    return int(table.local_midnight_ms(day))


def pressure_doses(pressure: np.ndarray, effects: Effects) -> np.ndarray:
    """Pressure 0 (no massage) / 1…5 → massage dose (pressure gain); booleans mean pressure 3."""
    p = np.asarray(pressure)
    if p.dtype == bool:
        p = np.where(p, 3, 0)
    p = p.astype(np.int64)
    if p.size and (p.min() < 0 or p.max() > 5):
        raise ValueError("session pressures must be 0 (none) or 1…5")
    gains = np.concatenate([[0.0], np.asarray(effects.pressure_gain, dtype=float)])
    return gains[p]


def simulate_nights(
    n_people: int,
    days: int,
    session_mask: np.ndarray,
    effects: Effects = Effects(),
    seed: int = 0,
    spec: PersonSpec = PersonSpec(),
    start_ms: int | None = None,
) -> NightlyPanel:
    """Nightly true values for `n_people` people × `days` nights, vectorised (no beats, no hypnograms).

    `session_mask`: shape (days,) (same schedule for everyone) or (n_people, days); element [p, i] says
    whether person p had a massage on local day i (the day starting at local midnight `start_ms` + i
    days): False/True (pressure 3) or an int pressure 0 (none) / 1…5. Next-night effects then act on
    reported night i + 1. `start_ms` defaults to local midnight of Monday 2025-01-06 in `spec.tz`;
    night 0 is the night that ends on the morning of the first day. Person p is drawn from stream p,
    so row 0 equals `simulate(spec, start_ms, days, <the same massages>, effects, seed).nights()`.
    """
    if n_people < 1 or days < 1:
        raise ValueError("n_people and days must be positive")
    if seed < 0:
        raise ValueError("seed must be a non-negative int")
    start = default_start_ms(spec.tz) if start_ms is None else int(start_ms)
    mask_dose = pressure_doses(np.asarray(session_mask), effects)
    if mask_dose.shape not in ((days,), (n_people, days)):
        raise ValueError(f"session_mask must have shape ({days},) or ({n_people}, {days}), got {mask_dose.shape}")
    n_internal = days + LEAD_NIGHTS + TAIL_NIGHTS
    dose = np.zeros((n_people, n_internal))
    # A massage on local day i acts on the night whose morning is day i + 1 (internal index i + 1 + LEAD).
    dose[:, LEAD_NIGHTS + 1 : LEAD_NIGHTS + 1 + days] = np.broadcast_to(mask_dose, (n_people, days))
    table = TzTable(spec.tz, start - (LEAD_NIGHTS + 2) * DAY_MS, start + (days + TAIL_NIGHTS + 2) * DAY_MS)
    first_day = int(table.local_day(start))
    plan = draw_nights(spec, table, first_day - LEAD_NIGHTS, dose, effects, seed, np.arange(n_people))
    return NightlyPanel(**Nights._from_plan(plan, LEAD_NIGHTS, days))
