"""Inputs of the physiology model: who the person is, what happens to them, and the true effects.

Everything here is a frozen dataclass with units in the field names. Defaults describe a healthy,
moderately fit adult (Europe/Berlin) and are taken from the ranges in research/science.md §3–§5:
nightly lnRMSSD ≈ 3.8 (RMSSD ≈ 45 ms) with a night-to-night SD of 0.15, sleeping HR ≈ 56 bpm, 7.5 h
sleep need, 90 % sleep efficiency, ~18 % deep and ~22 % REM sleep.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

# Random-number streams: every independent piece of randomness gets its own stream, keyed by
# (seed, person, stream, index), so that what is drawn for one night or one day never depends on what
# else was asked for first (lazy, cached generation stays reproducible).
STREAM_NIGHTS = 1  # the nightly latent state and schedule (index 0: one draw per person)
STREAM_STAGES = 2  # the hypnogram of one night (index = internal night)
STREAM_DAY = 3  # activity bouts and ring off-wrist spans of one day (index = internal night before it)
STREAM_CURVES = 4  # slow wander, breathing and LF processes of one 24-h beat chunk (index = chunk + 8)
STREAM_BEATS = 5  # beat-to-beat noise, ectopic beats and artefacts of one chunk (index = chunk + 8)
STREAM_REPORT = 6  # self-reports of one session (index = session start_ms)


def rng_for(seed: int, person: int, stream: int, index: int) -> np.random.Generator:
    """A generator for one (seed, person, stream, index) cell; all four must be non-negative ints."""
    return np.random.default_rng(np.random.SeedSequence([seed, person, stream, index]))


@dataclass(frozen=True, slots=True)
class PersonSpec:
    """One simulated person. Nightly values are means over time asleep (see `Nights`)."""

    tz: str = "Europe/Berlin"
    # Nightly latent state. HR and lnRMSSD deviations share the AR(1) "recovery" factor; the
    # correlation between −HR and lnRMSSD night deviations is `hr_hrv_coupling`.
    resting_hr_bpm: float = 56.0  # mean HR over time asleep on an average night
    resting_hr_sd_bpm: float = 2.0  # night-to-night SD
    ln_rmssd: float = 3.8  # mean lnRMSSD (ln ms) over time asleep on an average night
    ln_rmssd_sd: float = 0.15  # night-to-night SD (ln units)
    ar1_phi: float = 0.4  # lag-1 autocorrelation of the nightly latent state
    hr_hrv_coupling: float = 0.6
    # Weekly rhythm (weekday of the morning a night ends): Fri/Sat nights run lower HRV and higher HR
    # (later, more social evenings). Amplitudes scale a zero-mean pattern; 0 switches it off.
    weekly_ln_rmssd_amplitude: float = 0.04
    weekly_hr_amplitude_bpm: float = 1.0
    # Schedule, in local wall-clock minutes after midnight. On "free" mornings (weekdays 0=Mon … 6=Sun
    # of the morning) the person goes to bed later and sleeps until their sleep need is met; on other
    # mornings an alarm sets the wake time.
    bedtime_local_min: float = 23 * 60.0
    bedtime_jitter_min: float = 25.0
    wake_local_min: float = 6 * 60.0 + 45.0
    wake_jitter_min: float = 10.0
    free_wake_weekdays: tuple[int, ...] = (5, 6)
    free_bedtime_shift_min: float = 45.0
    sleep_need_min: float = 450.0
    sleep_efficiency_pct: float = 90.0
    sleep_efficiency_sd_pct: float = 3.0
    sleep_latency_min: float = 12.0
    deep_fraction: float = 0.18  # of total sleep time
    rem_fraction: float = 0.22
    # Daytime (awake, out of bed) relative to the night that ended that morning.
    day_hr_offset_bpm: float = 14.0
    day_ln_rmssd_offset: float = -0.45
    activity_bouts_per_day: float = 2.5  # walks, stairs, cycling: +15…45 bpm for ~10–60 min
    # Beat level. RMSSD² is split into a respiratory (HF) part, an LF (~0.1 Hz) part and white noise.
    resp_rate_sleep_hz: float = 0.24
    resp_rate_awake_hz: float = 0.28
    lf_to_hf_amplitude: float = 0.8
    white_noise_fraction: float = 0.15  # share of RMSSD² from beat-to-beat white noise
    ectopic_rate_per_beat: float = 3e-4  # premature beat + compensatory pause
    artefact_rate_per_beat: float = 1e-3  # strap detection errors, half missed beats, half extra beats
    # Ring wear: a shower after waking on most days, a charge in the evening on some days.
    ring_shower_prob_per_day: float = 0.8
    ring_charge_prob_per_day: float = 0.25
    # Self-report baselines (0–10 scales).
    pain_baseline: float = 3.0
    stress_baseline: float = 5.0
    mood_baseline: float = 6.0

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA time zone {self.tz!r}") from None
        if not 0.0 <= self.ar1_phi < 1.0:
            raise ValueError(f"ar1_phi must be in [0, 1), got {self.ar1_phi}")
        if not 0.0 <= self.hr_hrv_coupling <= 1.0:
            raise ValueError(f"hr_hrv_coupling must be in [0, 1], got {self.hr_hrv_coupling}")
        if not 30.0 <= self.resting_hr_bpm <= 110.0:
            raise ValueError(f"resting_hr_bpm out of range: {self.resting_hr_bpm}")
        if not 1.0 <= self.ln_rmssd <= 6.0:
            raise ValueError(f"ln_rmssd out of range: {self.ln_rmssd}")
        if self.ln_rmssd_sd < 0 or self.resting_hr_sd_bpm < 0:
            raise ValueError("night-to-night SDs must be non-negative")
        if not 0.0 <= self.white_noise_fraction < 1.0:
            raise ValueError("white_noise_fraction must be in [0, 1)")
        if not (0.0 <= self.ectopic_rate_per_beat < 0.05 and 0.0 <= self.artefact_rate_per_beat < 0.05):
            raise ValueError("ectopic/artefact rates must be in [0, 0.05) per beat")
        if not 0.0 < self.deep_fraction + self.rem_fraction < 0.8:
            raise ValueError("deep_fraction + rem_fraction must be in (0, 0.8)")
        if not 50.0 <= self.sleep_efficiency_pct <= 99.5:
            raise ValueError("sleep_efficiency_pct must be in [50, 99.5]")
        if any(not 0 <= d <= 6 for d in self.free_wake_weekdays):
            raise ValueError("free_wake_weekdays are 0 (Monday) … 6 (Sunday)")


_KINDS = ("massage", "rest")


@dataclass(frozen=True, slots=True)
class PlannedSession:
    """A massage or a rest control (lying still, same length) from `start_ms` to `end_ms` (UTC)."""

    start_ms: int
    end_ms: int
    kind: str = "massage"  # "massage" | "rest" (tracker.model.SessionKind values compare equal)
    pressure: int = 3  # 1 (light) … 5 (very firm); scales massage-specific effects, see Effects

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValueError(f"session kind must be 'massage' or 'rest', got {self.kind!r}")
        if self.end_ms <= self.start_ms:
            raise ValueError("session end_ms must be after start_ms")
        if self.start_ms < 0:
            raise ValueError("session start_ms must be a non-negative epoch ms")
        if not 1 <= self.pressure <= 5:
            raise ValueError(f"pressure must be 1…5, got {self.pressure}")

    @property
    def is_massage(self) -> bool:
        return self.kind == "massage"


@dataclass(frozen=True, slots=True)
class Effects:
    """True effects planted in the simulation; every zero means "no such effect".

    Acute (signed changes; negative `*_hr_bpm` lowers HR):
      * `rest_hr_bpm`, `rest_ln_rmssd`: lying still, for both session kinds (posture, quiet).
      * `acute_hr_bpm`, `acute_ln_rmssd`: the massage-specific part on top of rest, at pressure 3.
      The effect ramps in during the session (time constant 3 min), holds for `acute_hold_min` after
      the end and then decays exponentially with `acute_decay_min`. With the default hold of 5 min the
      standard post window (first 5 min after the end) sees exactly the planted value, so
      mean(post − pre) = rest + acute for massage and = rest for a rest session (≥ 20-min sessions).
    Next night (the night that ends the morning after the massage day — "lag 1" with nights labelled by
    their morning date), massage sessions only, additive and not carried over by the AR(1) state:
      * `night_ln_rmssd` (ln units), `night_resting_hr_bpm`, `night_tst_min` (the person sleeps that much
        longer: a later wake-up at the same efficiency), `night_efficiency_pct` (fewer wake epochs; this
        also lengthens TST by time-in-bed × Δ/100), `night_deep_min` (moved from light sleep).
    Self-reports after a massage (points on 0–10 scales): `pain_delta`, `stress_delta`, `mood_delta`.
    `pressure_gain[p-1]` scales every massage-specific effect by pressure p (moderate pressure works
    best, light and very firm less: Diego & Field 2009); rest effects do not depend on pressure.
    """

    acute_hr_bpm: float = 0.0
    acute_ln_rmssd: float = 0.0
    rest_hr_bpm: float = 0.0
    rest_ln_rmssd: float = 0.0
    acute_hold_min: float = 5.0
    acute_decay_min: float = 20.0
    night_ln_rmssd: float = 0.0
    night_resting_hr_bpm: float = 0.0
    night_tst_min: float = 0.0
    night_efficiency_pct: float = 0.0
    night_deep_min: float = 0.0
    pain_delta: float = 0.0
    stress_delta: float = 0.0
    mood_delta: float = 0.0
    pressure_gain: tuple[float, float, float, float, float] = field(default=(0.6, 0.85, 1.0, 1.0, 0.85))

    def __post_init__(self) -> None:
        if len(self.pressure_gain) != 5:
            raise ValueError("pressure_gain needs one gain per pressure level 1…5")
        if self.acute_hold_min < 0 or self.acute_decay_min <= 0:
            raise ValueError("acute_hold_min must be ≥ 0 and acute_decay_min > 0")

    @classmethod
    def typical(cls) -> Effects:
        """Literature-sized effects (science.md §4): most of the acute change is lying still; no
        measurable next-night change; self-reported stress, pain and mood improve."""
        return cls(
            acute_hr_bpm=-2.0,
            acute_ln_rmssd=0.06,
            rest_hr_bpm=-4.0,
            rest_ln_rmssd=0.10,
            pain_delta=-1.0,
            stress_delta=-1.5,
            mood_delta=1.0,
        )

    def gain(self, session: PlannedSession) -> float:
        """Multiplier of massage-specific effects for `session` (0 for a rest session)."""
        return float(self.pressure_gain[session.pressure - 1]) if session.is_massage else 0.0


@dataclass(frozen=True, slots=True)
class SelfReport:
    """Before/after ratings of one session, integers 0–10 (pain and stress: 0 = none; mood: 10 = best)."""

    pain_before: int
    pain_after: int
    stress_before: int
    stress_after: int
    mood_before: int
    mood_after: int
