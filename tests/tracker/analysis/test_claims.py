"""Claims table and verdict rules (tracker.analysis.claims, tracker.analysis.verdicts)."""

from __future__ import annotations

import pytest

from tracker.analysis.acute import RestComparison, compare_rest
from tracker.analysis.claims import (
    ACUTE,
    CLAIMS,
    NIGHTS,
    SEED_BACK,
    SEED_GENERAL,
    SEED_JOINT,
    SEED_MEDICAL,
    assess_claims,
)
from tracker.analysis.verdicts import METRIC_DIRECTION, Verdict, acute_verdict, combine_verdicts, night_verdict

SEEDS = {SEED_GENERAL, SEED_MEDICAL, SEED_BACK, SEED_JOINT}


def _claim(key: str):
    return next(c for c in CLAIMS if c.key == key)


def test_claims_table_covers_every_seed_and_the_named_claims() -> None:
    keys = {c.key for c in CLAIMS}
    assert len(keys) == len(CLAIMS)  # deduplicated
    for expected in (
        "stress", "sleep", "blood_pressure", "energy", "pain", "mood", "anxiety", "circulation", "immunity",
        "posture", "flexibility", "headaches", "hormones", "depression", "heart",
    ):  # fmt: skip
        assert expected in keys
    assert {s for c in CLAIMS for s in c.sources} == SEEDS
    for c in CLAIMS:
        assert c.sources and set(c.sources) <= SEEDS
        assert c.evidence
        assert c.metrics or c.unmeasured_reason  # unmeasurable claims say why
        for ref in c.metrics:
            assert ref.family in (ACUTE, NIGHTS)
            assert ref.metric in METRIC_DIRECTION


def test_claim_metric_mapping() -> None:
    assert {r.label() for r in _claim("stress").metrics} == {
        "acute.ln_rmssd", "acute.hr_bpm", "acute.stress", "nights.ln_rmssd_night",
    }  # fmt: skip
    assert {r.metric for r in _claim("sleep").metrics} == {
        "tst_min", "sleep_efficiency_pct", "waso_min", "deep_min", "rem_min",
    }  # fmt: skip
    assert {r.label() for r in _claim("heart").metrics} == {"acute.hr_bpm", "nights.resting_hr_bpm"}
    assert {r.metric for r in _claim("pain").metrics} == {"pain"}
    assert {r.metric for r in _claim("mood").metrics} == {"mood"}
    # Only constructs actually measured: a mood rating is not depression, a stress rating not anxiety.
    for key in ("immunity", "circulation", "posture", "flexibility", "energy", "depression", "anxiety"):
        assert _claim(key).metrics == ()
    assert "mood rating is not" in _claim("depression").unmeasured_reason
    assert "cardiovascular health is not measured" in _claim("heart").tested_as
    for c in CLAIMS:
        assert (c.tested_as is not None) == bool(c.metrics)


def test_unmeasurable_claims_are_listed_not_dropped() -> None:
    out = assess_claims({})
    assert len(out) == len(CLAIMS)
    assert all(a.verdict is Verdict.NOT_MEASURED for a in out)
    bp = next(a for a in out if a.claim == _claim("blood_pressure").claim)
    assert bp.to_dict()["source"] == SEED_BACK
    assert "cannot be checked" in bp.explanation or "no data" in bp.explanation or "any data" in bp.explanation


def test_blood_pressure_is_measured_when_bp_rows_exist() -> None:
    out = assess_claims({(ACUTE, "sbp_mmhg"): Verdict.NO_CLEAR_CHANGE})
    bp = next(a for a in out if a.claim == _claim("blood_pressure").claim)
    assert bp.verdict is Verdict.NO_CLEAR_CHANGE


def _rest(n: int, start_h: float) -> RestComparison:
    return compare_rest([17.0] * 8, [60.0] * 8, [start_h] * n, [60.0] * n)


def test_without_comparable_rest_claims_cannot_tell_massage_from_lying_still() -> None:
    v = {(ACUTE, "hr_bpm"): Verdict.NEEDS_REST, (NIGHTS, "resting_hr_bpm"): Verdict.NOT_ENOUGH_DATA}
    heart = next(a for a in assess_claims(v, rest=_rest(0, 17.0)) if a.claim == _claim("heart").claim)
    assert heart.verdict is Verdict.NEEDS_REST
    assert "during your sessions" in heart.explanation
    assert "log 4 rest sessions" in heart.reason and heart.rest_sessions_needed == 4
    assert "attributable" not in heart.explanation
    # Rest sessions at bedtime are not comparable with 17:00 massages: the reason says which way.
    late = _rest(6, 22.5)
    assert not late.comparable and not late.usable
    assert "5.5 h later" in late.reason
    late_heart = next(a for a in assess_claims(v, rest=late) if a.claim == _claim("heart").claim)
    assert "5.5 h later" in late_heart.reason
    ok = _rest(5, 18.0)
    assert ok.comparable and ok.usable and ok.rest_needed == 0
    with_rest = next(a for a in assess_claims({(ACUTE, "hr_bpm"): Verdict.NO_CLEAR_CHANGE}, rest=ok)
                     if a.claim == _claim("heart").claim)  # fmt: skip
    assert "massage minus your rest sessions" in with_rest.explanation
    d = heart.to_dict()
    assert {"claim", "source", "metrics", "verdict", "explanation", "tested_as", "reason"} <= set(d)
    short = compare_rest([17.0] * 8, [60.0] * 8, [17.0] * 5, [30.0] * 5)
    assert not short.comparable and "50 % shorter" in short.reason


@pytest.mark.parametrize(
    ("verdicts", "expected"),
    [
        ([], Verdict.NOT_MEASURED),
        ([Verdict.NOT_MEASURED, Verdict.NOT_MEASURED], Verdict.NOT_MEASURED),
        ([Verdict.NOT_MEASURED, Verdict.NOT_ENOUGH_DATA], Verdict.NOT_ENOUGH_DATA),
        ([Verdict.NOT_ENOUGH_DATA, Verdict.NO_CLEAR_CHANGE], Verdict.NO_CLEAR_CHANGE),
        ([Verdict.NO_CLEAR_CHANGE, Verdict.IMPROVED], Verdict.IMPROVED),
        ([Verdict.WORSENED, Verdict.NOT_ENOUGH_DATA], Verdict.WORSENED),
        ([Verdict.IMPROVED, Verdict.WORSENED], Verdict.NO_CLEAR_CHANGE),
        ([Verdict.NEEDS_REST, Verdict.NOT_ENOUGH_DATA], Verdict.NEEDS_REST),
        ([Verdict.NEEDS_REST, Verdict.CANNOT_SEPARATE_WEEKDAY], Verdict.CANNOT_SEPARATE_WEEKDAY),
        ([Verdict.NEEDS_REST, Verdict.IMPROVED], Verdict.IMPROVED),
    ],
)
def test_combine_verdicts(verdicts: list[Verdict], expected: Verdict) -> None:
    assert combine_verdicts(verdicts) is expected


def test_verdict_direction_for_heart_rate() -> None:
    down = (-6.0, -2.0)
    up = (2.0, 6.0)
    assert acute_verdict("hr_bpm", n=10, n_available=10, ci95=down, q=0.01) is Verdict.IMPROVED
    assert acute_verdict("hr_bpm", n=10, n_available=10, ci95=up, q=0.01) is Verdict.WORSENED
    assert acute_verdict("ln_rmssd", n=10, n_available=10, ci95=up, q=0.01) is Verdict.IMPROVED
    kw = dict(n_values=60, n_scored=50, n_lag=8, n_control=30, p=0.01, q=0.05, primary=False)
    assert night_verdict("resting_hr_bpm", ci95=down, **kw) is Verdict.IMPROVED
    assert night_verdict("resting_hr_bpm", ci95=up, **kw) is Verdict.WORSENED
    assert night_verdict("waso_min", ci95=up, **kw) is Verdict.WORSENED
    assert night_verdict("tst_min", ci95=up, **kw) is Verdict.IMPROVED


def test_verdicts_never_overclaim() -> None:
    # CI excludes zero but the multiplicity-adjusted test fails → no clear change, and vice versa.
    assert acute_verdict("hr_bpm", n=10, n_available=10, ci95=(-6.0, -2.0), q=0.08) is Verdict.NO_CLEAR_CHANGE
    assert acute_verdict("hr_bpm", n=10, n_available=10, ci95=(-6.0, 1.0), q=0.001) is Verdict.NO_CLEAR_CHANGE
    kw = dict(n_values=60, n_scored=50, n_lag=8, n_control=30, ci95=(0.1, 0.3))
    assert night_verdict("tst_min", p=0.01, q=0.2, primary=False, **kw) is Verdict.NO_CLEAR_CHANGE
    assert night_verdict("tst_min", p=0.01, q=0.2, primary=True, **kw) is Verdict.IMPROVED  # pre-declared
    assert night_verdict("tst_min", p=0.06, q=0.06, primary=True, **kw) is Verdict.NO_CLEAR_CHANGE
    # Too little data, and no data at all.
    assert acute_verdict("pain", n=3, n_available=10, ci95=(-3.0, -1.0), q=0.001) is Verdict.NOT_ENOUGH_DATA
    assert acute_verdict("pain", n=0, n_available=0, ci95=None, q=None) is Verdict.NOT_MEASURED
    few = dict(kw, n_lag=3)
    assert night_verdict("tst_min", p=0.01, q=0.01, primary=True, **few) is Verdict.NOT_ENOUGH_DATA
    short = dict(kw, n_scored=13)
    assert night_verdict("tst_min", p=0.01, q=0.01, primary=True, **short) is Verdict.NOT_ENOUGH_DATA
    assert night_verdict("tst_min", p=None, q=None, primary=True, **dict(kw, n_values=0)) is Verdict.NOT_MEASURED
    # Weekday and massage inseparable: a named verdict, never a call.
    assert night_verdict("tst_min", p=0.001, q=0.001, primary=True, separable=False, **kw) is (
        Verdict.CANNOT_SEPARATE_WEEKDAY
    )
    # An exact test that cannot reach p < 0.05 (sign flip, n = 5) is "not enough data".
    assert acute_verdict("pain", n=5, n_available=5, ci95=(-3.0, -1.0), q=0.01, reachable=False) is (
        Verdict.NOT_ENOUGH_DATA
    )


def test_holm_adjust_plain_and_weighted() -> None:
    from tracker.analysis.familywise import holm_adjust

    assert holm_adjust([0.01, 0.04, 0.03, 0.2]) == pytest.approx([0.04, 0.09, 0.09, 0.2])
    # Weighted: order by p/w; each step multiplies by the weight still unrejected.
    assert holm_adjust([0.02, 0.004, 0.03], [0.5, 0.25, 0.25]) == pytest.approx([0.03, 0.016, 0.03])


def test_a_claim_needs_its_row_to_survive_the_correction_over_all_claim_rows() -> None:
    sleep = _claim("sleep").claim
    nights = ("tst_min", "sleep_efficiency_pct", "waso_min", "deep_min", "rem_min", "resting_hr_bpm")
    v = {(NIGHTS, m): Verdict.NO_CLEAR_CHANGE for m in nights}
    v[(NIGHTS, "ln_rmssd_night")] = Verdict.NO_CLEAR_CHANGE
    p = {k: 0.5 for k in v}
    v[(NIGHTS, "tst_min")] = Verdict.IMPROVED
    p[(NIGHTS, "tst_min")] = 0.02  # called at its own level (BH over night rows), not over 7 claim rows
    primary = (NIGHTS, "ln_rmssd_night")

    def verdict_of(claim: str, **kw: object) -> Verdict:
        return next(a for a in assess_claims(v, p_values=p, **kw) if a.claim == claim).verdict  # type: ignore[arg-type]

    hinted = next(a for a in assess_claims(v, p_values=p, primary=primary) if a.claim == sleep)
    assert hinted.verdict is Verdict.NO_CLEAR_CHANGE and hinted.outcomes_tested == 7
    assert "a hint in total sleep did not survive the correction for testing 7 outcomes" in hinted.reason
    assert hinted.to_dict()["exploratory_hints"] == ["total sleep"]
    p[(NIGHTS, "tst_min")] = 0.001  # 0.001 / (0.5 / 6) · 1 = 0.012 < 0.05: survives
    assert verdict_of(sleep, primary=primary) is Verdict.IMPROVED
    # The primary row carries its claim at p < 0.025 as the first test (half the weight) ...
    v[(NIGHTS, "tst_min")], p[(NIGHTS, "tst_min")] = Verdict.NO_CLEAR_CHANGE, 0.5
    v[(NIGHTS, "ln_rmssd_night")], p[(NIGHTS, "ln_rmssd_night")] = Verdict.IMPROVED, 0.02
    stress = _claim("stress").claim
    assert verdict_of(stress, primary=primary) is Verdict.IMPROVED
    # ... but, unweighted among 7 rows, p = 0.02 would not be enough.
    assert verdict_of(stress) is Verdict.NO_CLEAR_CHANGE
