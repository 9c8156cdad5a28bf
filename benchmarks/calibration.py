"""Calibration of the evidence report on simulated people (issue 9): false calls, coverage, power.

    python benchmarks/calibration.py [--people 200] [--claim-people 60] [--seed 1] [--only-claims]

People come from tracker.physiology.scenarios: the nightly physiology model (weekly rhythm, AR(1)
day-to-day persistence) plus a slow accelerating trend, 8 % missing nights, 2 % artefact nights and
sessions whose timing is irregular or biased, in each trap of the issue. The primary endpoint (lag-1
nightly lnRMSSD) is computed exactly as the report does (`scenarios.primary_results`); claims come from
the full `build_report`. For each scenario it prints the rate of calls ("improved"/"worsened") on the
primary endpoint and on claims with a Wilson 95 % interval, claims called from within-session change
without valid rest controls (must be 0), CI coverage of the planted effect, power at the shown MDE
(the same people's noise with the MDE each was shown planted on top), and the share of planted
effects found. For the full reports it also prints the share of people with ANY claim called and with
ANY night row (nights_after[], 21 rows: 7 metrics × 3 lags) called, each with its Wilson interval, and
the mean share of night rows called per person. Targets (issue 9): no-effect scenarios ≤ 5 % false
primary calls and ≤ 5 % of people with any claim called (family-wise across the claims of a page),
0 claims without valid rest controls, coverage ≥ 94 %, power at the shown MDE ≥ 75 %, 0.5 SD with
30 sessions found ≥ 60 %. Also prints wall and CPU time.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import numpy as np
from scipy import stats

from tracker.analysis.report import build_report
from tracker.physiology.scenarios import Acute, ScenarioPanel, Timing, primary_results, scenario_panel
from tracker.physiology.spec import Effects, PersonSpec

CALLS = ("improved", "worsened")
ACUTE_ONLY_CLAIMS = ("Improved mood and well-being", "Less pain (muscle, back, joint and chronic pain, muscle soreness)")


def wilson(k: int, n: int) -> str:
    if n == 0:
        return "—"
    ci = stats.binomtest(k, n).proportion_ci(method="wilson")
    return f"{k / n:6.1%} [{ci.low:5.1%}, {ci.high:5.1%}]"


@dataclass
class Row:
    scenario: str
    people: int
    primary_calls: str = "—"
    claim_calls: str = "—"
    night_calls: str = "—"
    claims_without_rest: str = "—"
    coverage: str = "—"
    power_at_mde: str = "—"
    found: str = "—"
    note: str = ""


def primary_row(name: str, pan: ScenarioPanel, *, power: bool = False, planted: bool = False, seed: int = 0) -> Row:
    r = primary_results(pan, seed=seed)
    v = np.array(r.verdict)
    called = int(np.isin(v, CALLS).sum())
    row = Row(name, pan.n_people)
    truth = pan.planted_night_ln_rmssd
    has_ci = np.isfinite(r.ci_low)
    covered = int(((r.ci_low <= truth) & (truth <= r.ci_high))[has_ci].sum())
    row.coverage = wilson(covered, int(has_ci.sum()))
    if planted:
        row.found = wilson(called, pan.n_people)
    else:
        row.primary_calls = wilson(called, pan.n_people)
    if power:
        shown = np.isfinite(r.mde)
        r2 = primary_results(pan, add_effect=np.nan_to_num(r.mde), seed=seed)
        hits = int(np.isin(np.array(r2.verdict)[shown], CALLS).sum())
        row.power_at_mde = wilson(hits, int(shown.sum()))
    named = {"cannot separate from day of week": "cannot separate", "not enough data": "not enough data"}
    row.note = ", ".join(f"{lab} {np.mean(v == key):.0%}" for key, lab in named.items() if np.any(v == key))
    return row


def claims_row(name: str, pan: ScenarioPanel, people: int, *, with_nights: bool = True,
               planted_claim: str | None = None) -> Row:  # fmt: skip
    """Claims over `people` full reports: any claim called, any night row called, and claims called on
    within-session evidence without valid rest controls (mood and pain rest on within-session change
    alone). With `planted_claim` (a real effect planted), the share of people for whom that claim reads
    "improved" goes to "planted found" instead, and the primary endpoint's share to the note."""
    any_call = any_night = acute_without_rest = found = primary_found = 0
    row_share = 0.0
    for p in range(people):
        d = build_report(pan.inputs(p, with_nights=with_nights), seed=p).to_dict()
        calls = [c for c in d["claims"] if c["verdict"] in CALLS]
        any_call += bool(calls)
        night_called = [r["verdict"] in CALLS for r in d["nights_after"]]
        any_night += any(night_called)
        row_share += sum(night_called) / max(len(night_called), 1)
        usable = (d["rest_comparison"] or {}).get("usable", False)
        acute_without_rest += any(c["claim"] in ACUTE_ONLY_CLAIMS for c in calls) and not usable
        if planted_claim is not None:
            found += any(c["claim"] == planted_claim and c["verdict"] == "improved" for c in d["claims"])
            primary_found += d["primary_endpoint"]["verdict"] == "improved"
    row = Row(name, people)
    row.claims_without_rest = wilson(acute_without_rest, people)
    if planted_claim is None:
        row.claim_calls = wilson(any_call, people)
        row.night_calls = wilson(any_night, people)
        row.note = f"night rows called per row {row_share / people:.1%}"
    else:
        row.found = wilson(found, people) + " (claim)"
        row.note = f"primary endpoint improved {primary_found}/{people}"
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=200)
    ap.add_argument("--claim-people", type=int, default=60)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--only-claims", action="store_true", help="only the full-report (claims) scenarios")
    a = ap.parse_args()
    n, s = a.people, a.seed
    wall0, cpu0 = time.perf_counter(), time.process_time()
    weekend_better = PersonSpec(weekly_ln_rmssd_amplitude=-0.08)
    rows = [] if a.only_claims else [
        primary_row("random timing, no effect (90 nights, 12 sessions)", scenario_panel(n, 90, seed=s), power=True, seed=s),
        primary_row("every Saturday, weekend nights better, no effect",
                    scenario_panel(n, 90, timing=Timing(kind="weekday"), spec=weekend_better, seed=s), seed=s),
        primary_row("Saturdays (70 % of weeks), weekend nights better, no effect",
                    scenario_panel(n, 90, timing=Timing(kind="weekday", weekly_prob=0.7), spec=weekend_better, seed=s),
                    seed=s),
        primary_row("booked after a bad night, nights persist (φ 0.6), no effect",
                    scenario_panel(n, 90, timing=Timing(kind="after_bad_night"), spec=PersonSpec(ar1_phi=0.6), seed=s),
                    power=True, seed=s),
        primary_row("planted 0.5 SD, 30 sessions over 150 nights",
                    scenario_panel(n, 150, timing=Timing(sessions=30), effects=Effects(night_ln_rmssd=0.075), seed=s),
                    planted=True, seed=s),
        primary_row("planted 1 SD, 12 sessions over 90 nights",
                    scenario_panel(n, 90, effects=Effects(night_ln_rmssd=0.15), seed=s), planted=True, seed=s),
        primary_row("4 sessions over 60 nights, no effect", scenario_panel(n, 60, timing=Timing(sessions=4), seed=s),
                    seed=s),
    ]  # fmt: skip
    m = a.claim_people
    rows += [
        claims_row("no rest sessions, lying down lowers HR and lifts mood",
                   scenario_panel(m, 90, timing=Timing(), seed=s + 1), m),
        claims_row("rest at 22:30, massage at 17:00 (8 rest sessions)",
                   scenario_panel(m, 90, timing=Timing(rest_sessions=8, rest_start_h=22.5), seed=s + 2), m),
        claims_row("comparable rest sessions (8), no massage effect",
                   scenario_panel(m, 90, timing=Timing(rest_sessions=8), seed=s + 3), m),
        claims_row("planted 0.5 SD night HRV, 30 sessions / 150 nights: 'Reduced stress'",
                   scenario_panel(m, 150, timing=Timing(sessions=30), effects=Effects(night_ln_rmssd=0.075),
                                  seed=s + 6), m, planted_claim="Reduced stress levels, relaxation"),
    ]  # fmt: skip
    if a.only_claims:
        _print(rows, wall0, cpu0)
        return
    # Strap-only: 15 sessions with captures and self-reports, no nights, a large massage effect.
    strap = scenario_panel(m, 60, timing=Timing(sessions=15, rest_sessions=8), seed=s + 4,
                           acute=Acute(massage_hr_bpm=-4.0, massage_mood=1.5, massage_pain=-1.5))  # fmt: skip
    analysed = found = 0
    for p in range(m):
        d = build_report(strap.inputs(p, with_nights=False), seed=p).to_dict()
        rows_ = {(r["metric"], r["kind"]): r for r in d["acute"]}
        analysed += rows_[("hr_bpm", "massage")]["n"] == 15
        found += any(c["verdict"] == "improved" for c in d["claims"])
    strap_row = Row("strap-only, 15 sessions + 8 rest, large massage effect", m)
    strap_row.found = wilson(found, m)
    strap_row.note = f"all 15 sessions analysed for {analysed}/{m}"
    rows.append(strap_row)
    # 4 or 5 sessions: the sign-flip test cannot reach p < 0.05, so no call and no MDE.
    few = scenario_panel(m, 60, timing=Timing(sessions=5), seed=s + 5)
    no_mde = 0
    for p in range(m):
        d = build_report(few.inputs(p, with_nights=False), seed=p).to_dict()
        no_mde += all(r["mde"] is None and r["verdict"] == "not enough data" for r in d["acute"] if r["n"])
    few_row = Row("5 sessions, within-session rows", m)
    few_row.note = f"'not enough data' and no MDE on every row for {no_mde}/{m}"
    rows.append(few_row)

    _print(rows, wall0, cpu0)


def _print(rows: list[Row], wall0: float, cpu0: float) -> None:
    head = ("scenario", "people", "false primary calls", "any claim called", "any night row called",
            "claims w/o valid rest", "CI coverage", "power at shown MDE", "planted found", "note")  # fmt: skip
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in rows:
        cells = (r.scenario, str(r.people), r.primary_calls, r.claim_calls, r.night_calls, r.claims_without_rest,
                 r.coverage, r.power_at_mde, r.found, r.note)  # fmt: skip
        print("| " + " | ".join(cells) + " |")
    print(f"\nwall {time.perf_counter() - wall0:.1f} s, CPU {time.process_time() - cpu0:.1f} s")


if __name__ == "__main__":
    main()
