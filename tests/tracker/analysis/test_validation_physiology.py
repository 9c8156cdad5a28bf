"""Validation of the statistics against the physiology model (not against the analysis's own assumptions).

* With zero planted effect, across 200 simulated people (60 nights, 8 massages each on random days), the
  primary endpoint (nightly lnRMSSD, first night after) is called improved or worsened in at most 5 %.
* A large planted next-night effect is found with the right sign and a CI that covers the true value.
* A planted acute effect, measured from the model's beats in the capture windows, is found with the
  right sign through the full report.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from tracker.analysis.adjusted import adjusted_effects, weekday_permutations
from tracker.analysis.hrv import ln_rmssd, mean_hr_bpm
from tracker.analysis.artifacts import gate_rr
from tracker.analysis.report import ReportInputs, SessionInput, WindowSummary, build_report
from tracker.analysis.verdicts import Verdict, night_verdict
from tracker.model import SessionKind
from tracker.physiology import Effects, PersonSpec, PlannedSession, simulate, simulate_nights
from tracker.timefmt import to_ms, zone

DAYS = 60


def _massage_days(n_people: int, per_person: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    mask = np.zeros((n_people, DAYS), dtype=bool)
    for p in range(n_people):
        mask[p, rng.choice(np.arange(29, DAYS - 1), per_person, replace=False)] = True
    return mask


def _primary(y: np.ndarray, massage_day: np.ndarray, seed: int):
    # Night index i ends on the morning of day i; a massage on day d is followed by night d + 1 (lag 1).
    # simulate_nights starts on Monday 2025-01-06: day 0 is a Monday.
    [effect] = adjusted_effects(y, weekday_permutations(massage_day, 0, seed=seed), lags=(1,))
    verdict = night_verdict(
        "ln_rmssd_night", n_values=int(np.isfinite(y).sum()), n_scored=effect.n_rows, n_lag=effect.n_lag,
        n_control=effect.n_other, ci95=effect.ci95, p=effect.p, q=effect.p, primary=True,
        separable=effect.separable, reachable=effect.reachable,
    )  # fmt: skip
    return effect, verdict


def test_no_planted_effect_few_false_verdicts_across_200_people() -> None:
    n = 200
    mask = _massage_days(n, 8, seed=7)
    panel = simulate_nights(n, DAYS, mask, Effects(), seed=3, spec=PersonSpec())
    called = 0
    for p in range(n):
        _effect, verdict = _primary(panel.ln_rmssd[p], mask[p], seed=p)
        called += verdict in (Verdict.IMPROVED, Verdict.WORSENED)
    assert called / n <= 0.05, f"{called} of {n} people got a verdict with no effect planted"


def test_large_planted_night_effect_is_found_with_ci_covering_truth() -> None:
    true_effect = 0.30  # ln units: about 2 night-to-night SDs, 35 % more RMSSD
    n = 40
    mask = _massage_days(n, 12, seed=11)
    panel = simulate_nights(n, DAYS, mask, Effects(night_ln_rmssd=true_effect), seed=5, spec=PersonSpec())
    covered = improved = 0
    for p in range(n):
        effect, verdict = _primary(panel.ln_rmssd[p], mask[p], seed=p)
        assert effect.estimate is not None and effect.estimate > 0
        lo, hi = effect.ci95
        covered += lo <= true_effect <= hi
        improved += verdict == Verdict.IMPROVED
    assert improved >= 0.8 * n
    assert covered >= 0.85 * n  # nominal 95 % (test inversion); 40 people


def test_planted_acute_effect_found_from_beats() -> None:
    tz = "Europe/Berlin"
    start = to_ms(dt.datetime(2025, 3, 3, tzinfo=zone(tz)))
    day_ms = 86_400_000
    sessions = [PlannedSession(start + d * day_ms + 17 * 3_600_000, start + d * day_ms + 18 * 3_600_000, "massage", 3)
                for d in range(1, 20, 2)]  # fmt: skip
    effects = Effects(acute_hr_bpm=-6.0, acute_ln_rmssd=0.3)
    sim = simulate(PersonSpec(tz=tz), start, 22, sessions, effects, seed=9)

    def window(lo: int, hi: int) -> WindowSummary:
        _t, rr = sim.rr(lo, hi)
        gate = gate_rr(rr, window_s=(hi - lo) / 1000)
        return WindowSummary(mean_hr_bpm(rr, gate.valid), ln_rmssd(rr, gate.valid), gate.quality_ok)

    inputs = [
        SessionInput(s.start_ms, s.end_ms, SessionKind.MASSAGE, pre=window(s.start_ms - 300_000, s.start_ms),
                     post=window(s.end_ms + 300_000, s.end_ms + 600_000))  # fmt: skip
        for s in sessions
    ]
    first = dt.date(2025, 3, 4)
    report = build_report(ReportInputs("sim", tz, first, first + dt.timedelta(days=20), tuple(inputs))).to_dict()
    rows = {r["metric"]: r for r in report["acute"] if r["kind"] == "massage"}
    assert rows["hr_bpm"]["n"] == 10 and rows["hr_bpm"]["mean_change"] < -3
    assert rows["hr_bpm"]["verdict"] == "improved"
    assert rows["ln_rmssd"]["mean_change"] > 0.1 and rows["ln_rmssd"]["verdict"] == "improved"
    # no rest controls: the wording must not claim causation
    assert all(r["statement"].startswith("During your massage sessions") and "it is not a massage effect" in r["statement"]
               for r in report["acute"] if r["n"])
