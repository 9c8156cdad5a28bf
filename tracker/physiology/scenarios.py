"""Simulated people in the situations real users are in, for calibration tests and the benchmark.

`scenario_panel()` draws many people at once from the nightly model (`simulate_nights`) and adds the
nuisance a careful user's data has: the weekly rhythm and day-to-day autocorrelation of the model, a
slow accelerating trend, missing nights, artefact nights, and sessions whose timing is irregular or
biased (always on one weekday; booked the day after a bad night). Within-session changes come from a
lying-down effect that massage and rest share (the massage-specific part is planted separately, zero
by default), optionally with a time-of-day difference between rest and massage sessions.

Night i of a panel is labelled `start_date + i` (the morning it ends); a session on local day d acts
on night d + 1. Everything is seeded; person p draws from its own streams.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

import numpy as np

from tracker.analysis.report import ReportInputs, SessionInput, WindowSummary, night_series_from_mapping
from tracker.analysis.sleep import NIGHT_METRICS
from tracker.model import SessionKind
from tracker.physiology.nightly import simulate_nights
from tracker.physiology.spec import Effects, PersonSpec

START_DATE = dt.date(2025, 1, 6)  # a Monday; night 0 ends that morning
_MS_PER_DAY = 86_400_000
_EPOCH = dt.date(1970, 1, 1)


@dataclass(frozen=True, slots=True)
class Nuisance:
    """What makes real data hard. Defaults: a realistic careful user."""

    trend_sd: float = 0.6  # total drift over the period, in night-to-night SDs, accelerating (t²)
    missing_night_prob: float = 0.08
    artefact_night_prob: float = 0.02
    artefact_size_sd: float = 6.0


@dataclass(frozen=True, slots=True)
class Timing:
    """When sessions happen. kind: "random" (irregular days), "weekday" (on `weekday`, each week with
    probability `weekly_prob`), "after_bad_night" (booked on a day whose previous night was in the
    person's worst `bad_share`, with probability `book_prob`)."""

    kind: str = "random"
    sessions: int = 12
    weekday: int = 5  # 0 = Monday; 5 = Saturday
    weekly_prob: float = 1.0
    bad_share: float = 0.25
    book_prob: float = 0.7
    massage_start_h: float = 17.0
    rest_start_h: float = 17.0
    duration_min: float = 60.0
    rest_sessions: int = 0


@dataclass(frozen=True, slots=True)
class Acute:
    """Within-session changes (post − pre). Lying down is shared by both kinds; `massage_*` is extra."""

    lying_hr_bpm: float = -4.0
    lying_ln_rmssd: float = 0.10
    lying_stress: float = -1.0
    lying_mood: float = 0.8
    lying_pain: float = -0.5
    # Bedtime sessions start calmer: HR and stress fall less (per hour after 17:00, up to 6 h).
    evening_hr_bpm_per_h: float = 0.6
    evening_stress_per_h: float = 0.2
    massage_hr_bpm: float = 0.0
    massage_ln_rmssd: float = 0.0
    massage_stress: float = 0.0
    massage_mood: float = 0.0
    massage_pain: float = 0.0


@dataclass(frozen=True, slots=True, eq=False)
class ScenarioPanel:
    start_date: dt.date
    nights: dict[str, np.ndarray]  # metric → (P, T), NaN = missing night
    massage_day: np.ndarray  # (P, T) bool
    sessions: tuple[tuple[SessionInput, ...], ...]  # per person
    planted_night_ln_rmssd: float  # true lag-1 effect on nightly lnRMSSD

    @property
    def n_people(self) -> int:
        return int(self.massage_day.shape[0])

    def inputs(self, p: int, *, with_nights: bool = True) -> ReportInputs:
        t = self.massage_day.shape[1]
        labels = [self.start_date + dt.timedelta(days=i) for i in range(t)]
        metrics = {k: v[p] for k, v in self.nights.items()} if with_nights else {}
        return ReportInputs(
            person=f"sim{p}", timezone="UTC", period_start=labels[0], period_end=labels[-1],
            sessions=self.sessions[p],
            nights=night_series_from_mapping(labels if with_nights else [], metrics),
        )  # fmt: skip


def _schedule(timing: Timing, latent: np.ndarray, rng: np.random.Generator, days: int) -> np.ndarray:
    """(P, T) massage days (the last 3 days stay free so every session has its nights)."""
    n_people = latent.shape[0]
    md = np.zeros((n_people, days), dtype=bool)
    usable = days - 3
    if timing.kind == "random":
        keys = rng.random((n_people, usable))
        chosen = np.argsort(keys, axis=1)[:, : timing.sessions]
        np.put_along_axis(md[:, :usable], chosen, True, axis=1)
    elif timing.kind == "weekday":
        wd = (START_DATE.weekday() + np.arange(usable)) % 7
        on = (wd == timing.weekday)[None, :] & (rng.random((n_people, usable)) < timing.weekly_prob)
        md[:, :usable] = on
    elif timing.kind == "after_bad_night":
        # Night d ends the morning of day d: a bad night d makes a booking on day d likely.
        cut = np.quantile(latent[:, :usable], timing.bad_share, axis=1, keepdims=True)
        md[:, :usable] = (latent[:, :usable] <= cut) & (rng.random((n_people, usable)) < timing.book_prob)
    else:
        raise ValueError(f"unknown timing kind {timing.kind!r}")
    return md


def _acute_sessions(
    md_row: np.ndarray, timing: Timing, acute: Acute, rng: np.random.Generator
) -> tuple[SessionInput, ...]:
    out = []
    rest_days = np.flatnonzero(~md_row[:-3])
    rest_days = rng.choice(rest_days, size=min(timing.rest_sessions, rest_days.size), replace=False)
    plan = [(int(d), SessionKind.MASSAGE, timing.massage_start_h) for d in np.flatnonzero(md_row)]
    plan += [(int(d), SessionKind.REST, timing.rest_start_h) for d in rest_days]
    for day, kind, start_h in sorted(plan):
        massage = kind == SessionKind.MASSAGE
        evening = float(np.clip(start_h - 17.0, 0.0, 6.0))
        start_ms = ((START_DATE - _EPOCH).days + day) * _MS_PER_DAY + int(start_h * 3_600_000)
        end_ms = start_ms + int(timing.duration_min * 60_000)
        hr_pre = 66.0 + rng.normal(0, 4) - 1.5 * evening
        ln_pre = 3.5 + rng.normal(0, 0.15)
        d_hr = acute.lying_hr_bpm + acute.evening_hr_bpm_per_h * evening + rng.normal(0, 2.0)
        d_ln = acute.lying_ln_rmssd + rng.normal(0, 0.08)
        d_s = acute.lying_stress + acute.evening_stress_per_h * evening + rng.normal(0, 1.0)
        d_m, d_p = acute.lying_mood + rng.normal(0, 1.0), acute.lying_pain + rng.normal(0, 0.8)
        if massage:
            d_hr, d_ln = d_hr + acute.massage_hr_bpm, d_ln + acute.massage_ln_rmssd
            d_s, d_m, d_p = d_s + acute.massage_stress, d_m + acute.massage_mood, d_p + acute.massage_pain
        before = np.array([3.0, 5.0 - 0.3 * evening, 6.0]) + rng.normal(0, 1.0, 3)
        after = before + np.array([d_p, d_s, d_m])
        score = np.clip(np.rint(np.r_[before, after]), 0, 10)
        out.append(
            SessionInput(
                start_ms=start_ms, end_ms=end_ms, kind=kind,
                pain_before=score[0], pain_after=score[3], stress_before=score[1], stress_after=score[4],
                mood_before=score[2], mood_after=score[5],
                pre=WindowSummary(hr_bpm=hr_pre, ln_rmssd=ln_pre, quality_ok=True),
                post=WindowSummary(hr_bpm=hr_pre + d_hr, ln_rmssd=ln_pre + d_ln, quality_ok=True),
            )  # fmt: skip
        )
    return tuple(out)


def scenario_panel(
    n_people: int,
    days: int,
    *,
    timing: Timing = Timing(),
    nuisance: Nuisance = Nuisance(),
    acute: Acute = Acute(),
    effects: Effects = Effects(),
    spec: PersonSpec = PersonSpec(),  # noqa: B008  (frozen, so one shared default is safe)
    seed: int = 0,
) -> ScenarioPanel:
    """`n_people` simulated people over `days` nights in one situation (see module docstring)."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 9, days]))
    # Pass 1 (no sessions) gives the latent nights the booking reacts to; the latent state does not
    # depend on the schedule (fixed random streams), so pass 2 with the schedule is the same person.
    first = simulate_nights(n_people, days, np.zeros(days, dtype=bool), replace(effects), seed=seed, spec=spec)
    md = _schedule(timing, first.ln_rmssd - spec.ln_rmssd, rng, days)
    panel = simulate_nights(n_people, days, md, effects, seed=seed, spec=spec)
    nights: dict[str, np.ndarray] = {}
    frac = np.arange(days) / max(days - 1, 1)
    drift = nuisance.trend_sd * frac**2 * rng.choice([-1.0, 1.0], size=(n_people, 1))
    missing = rng.random((n_people, days)) < nuisance.missing_night_prob
    artefact = (rng.random((n_people, days)) < nuisance.artefact_night_prob) & ~missing
    art_sign = rng.choice([-1.0, 1.0], size=(n_people, days))
    source = {
        "ln_rmssd_night": (panel.ln_rmssd, spec.ln_rmssd_sd),
        "resting_hr_bpm": (panel.resting_hr_bpm, -spec.resting_hr_sd_bpm),
        "tst_min": (panel.tst_min, 25.0),
        "sleep_efficiency_pct": (panel.efficiency_pct, spec.sleep_efficiency_sd_pct),
        "waso_min": (panel.waso_min, 0.0),
        "deep_min": (panel.deep_min, 0.0),
        "rem_min": (panel.rem_min, 0.0),
    }
    for name in NIGHT_METRICS:
        values, sd = source[name]
        v = np.array(values, dtype=np.float64) + drift * sd
        if name in ("ln_rmssd_night", "resting_hr_bpm"):
            v = v + artefact * art_sign * nuisance.artefact_size_sd * abs(sd)
        nights[name] = np.where(missing, np.nan, v)
    sessions = tuple(_acute_sessions(md[p], timing, acute, rng) for p in range(n_people))
    return ScenarioPanel(START_DATE, nights, md, sessions, effects.night_ln_rmssd * effects.pressure_gain[2])


@dataclass(frozen=True, slots=True, eq=False)
class PrimaryResults:
    """The primary endpoint (lag-1 nightly lnRMSSD) of every person of a panel, as the report computes it."""

    estimate: np.ndarray  # (P,) NaN where none
    ci_low: np.ndarray
    ci_high: np.ndarray
    p: np.ndarray
    mde: np.ndarray
    verdict: tuple[str, ...]


def primary_results(panel: ScenarioPanel, *, add_effect: np.ndarray | None = None, seed: int = 0) -> PrimaryResults:
    """Run the report's primary-endpoint analysis (`adjusted.adjusted_effects` on lag-1 lnRMSSD with the
    report's weekday-keeping permutations and `verdicts.night_verdict`) for every person. `add_effect[p]`
    is added to person p's lag-1 nights (to measure power at a given effect on the same noise)."""
    from tracker.analysis.adjusted import adjusted_effects, weekday_permutations
    from tracker.analysis.verdicts import night_verdict

    n = panel.n_people
    out = {k: np.full(n, np.nan) for k in ("estimate", "ci_low", "ci_high", "p", "mde")}
    verdicts = []
    for p in range(n):
        md = panel.massage_day[p]
        y = panel.nights["ln_rmssd_night"][p].copy()
        if add_effect is not None:
            y[1:] += add_effect[p] * md[:-1]
        perms = weekday_permutations(md, panel.start_date.weekday(), seed=seed * 100_003 + p)
        e = adjusted_effects(y, perms, lags=(1,))[0]
        verdicts.append(str(night_verdict(
            "ln_rmssd_night", n_values=int(np.isfinite(y).sum()), n_scored=e.n_rows, n_lag=e.n_lag,
            n_control=e.n_other, ci95=e.ci95, p=e.p, q=e.p, primary=True, separable=e.separable,
            reachable=e.reachable,
        )))  # fmt: skip
        for key, val in (("estimate", e.estimate), ("p", e.p), ("mde", e.mde)):
            out[key][p] = np.nan if val is None else val
        if e.ci95 is not None:
            out["ci_low"][p], out["ci_high"][p] = e.ci95
    return PrimaryResults(verdict=tuple(verdicts), **out)
