"""The Evidence page's sentences and forest rows, on report dicts shaped like GET /api/v1/report."""

from __future__ import annotations

import math
import re
from typing import Any

from web import evidence_page as ep
from web import evidence_text as et

INTERNAL_KEY = re.compile(r"\b(acute|nights)\.[a-z_]+|ln_rmssd|_bpm|_min\b|_pct")


def report(**primary: Any) -> dict[str, Any]:
    night = {"metric": "ln_rmssd_night", "lag": 1, "n_massage": 12, "n_control": 30, "difference": 0.17,
             "ci95": [0.07, 0.26], "p": 0.004, "q": 0.02, "mde": 0.19, "sessions_needed": 6,
             "verdict": "improved", "primary": True}  # fmt: skip
    night.update(primary)
    return {
        "period": {"start": "2026-10-01", "end": "2026-11-30"},
        "sessions": {"massage": 12, "rest": 0},
        "nights": 60,
        "primary_endpoint": {"metric": "ln_rmssd_night", "lag": 1, "verdict": night["verdict"]},
        "acute": [
            {"metric": "hr_bpm", "kind": "massage", "n": 12, "mean_change": -4.13, "ci95": [-6.0, -2.2],
             "p": 0.001, "q": 0.01, "verdict": "no clear change"},
            {"metric": "mood", "kind": "massage", "n": 3, "mean_change": None, "ci95": None, "p": None,
             "q": None, "verdict": "not enough data"},
        ],  # fmt: skip
        "nights_after": [night, {"metric": "tst_min", "lag": 1, "n_massage": 12, "n_control": 30,
                                 "difference": 12.456, "ci95": [-5.2, 30.1], "p": 0.2, "q": 0.4, "mde": 25.0,
                                 "sessions_needed": None, "verdict": "no clear change", "primary": False}],  # fmt: skip
        "claims": [
            {"claim": "Reduced stress levels, relaxation", "metrics": ["acute.hr_bpm", "nights.ln_rmssd_night"],
             "verdict": "improved", "explanation": "x"},
            {"claim": "Improved mood", "metrics": ["acute.mood"], "verdict": "not enough data", "explanation": ""},
            {"claim": "Improved sleep", "metrics": ["nights.tst_min"], "verdict": "no clear change"},
            {"claim": "Stronger immune system", "metrics": [], "verdict": "not measured"},
        ],
    }


def test_hrv_headline_is_a_percentage_change_of_rmssd_with_its_range() -> None:
    h = et.headline(report())
    assert h.question == "Does massage change your night HRV (RMSSD) on the first night after it?"
    pct = 100 * math.expm1(0.17)  # 18.5 %
    assert f"{pct:.0f} % higher" not in h.answer  # percent written without a space before the unit
    assert f"{pct:.0f}% higher on average" in h.answer, h.answer
    assert "Verdict: improved" in h.answer
    assert f"from {100 * math.expm1(0.07):.0f}% higher to {100 * math.expm1(0.26):.0f}% higher" in h.sure
    assert "one side of no change" in h.sure
    assert "About 6 more massage sessions" in h.next_step
    assert "rest sessions" in h.next_step  # none logged


def test_uncertain_headline_says_not_sure_and_includes_no_change() -> None:
    h = et.headline(report(difference=-0.05, ci95=[-0.2, 0.1], verdict="no clear change", p=0.5))
    assert "lower on average" in h.answer and "no clear change yet" in h.answer
    assert "includes no change at all" in h.sure and "not sure" in h.sure


def test_new_keys_are_used_when_present() -> None:
    h = et.headline(report(verdict="cannot separate from day of week", reason="every session was on a Saturday",
                           adjusted_difference=0.05))  # fmt: skip
    assert "cannot separate from day of week" in h.answer
    assert "Every session was on a Saturday." in h.sure and "Vary the weekday" in h.next_step
    assert f"{100 * math.expm1(0.05):.0f}% higher" in h.answer  # the adjusted estimate, not the raw one


def test_not_enough_data_headline() -> None:
    h = et.headline(report(difference=None, ci95=None, verdict="not enough data", mde=None, sessions_needed=None))
    assert h.answer.startswith("Not enough data to answer yet (so far 12 nights")
    assert "too little data" in h.sure


def test_claim_sentences_in_natural_units_and_no_internal_keys() -> None:
    view = ep.page(report(), {"Stronger immune system": "no blood tests"})
    sentences = {c["claim"]: c["sentence"] for c in view["claims"]}
    assert sentences["Reduced stress levels, relaxation"].startswith("Your data support this: night HRV (RMSSD)")
    assert sentences["Improved mood"] == "Not enough data yet."
    assert "12 min higher" in sentences["Improved sleep"] and "from 5 min lower to 30 min higher" in sentences["Improved sleep"]
    assert view["unmeasured"] == [{"claim": "Stronger immune system", "key": "", "reason": "no blood tests"}]
    text = repr(view["headline"]) + repr(view["claims"]) + repr([r["label"] for r in view["forest"]])
    assert not INTERNAL_KEY.search(text), INTERNAL_KEY.search(text)
    # durations carry no decimals; heart rate one
    assert view["nights"][1]["effect"] == "+12 min" and view["acute"][0]["effect"] == "−4.1 bpm"
    assert view["acute"][0]["mde"] == "—" and view["nights"][1]["mde"] == "25 min"


def test_descriptive_within_session_sentence() -> None:
    claim = {"claim": "Lower heart rate", "metrics": ["acute.hr_bpm"], "verdict": "no clear change"}
    s = et.claim_sentence(claim, report())
    assert "during your sessions heart rate fell by 4.1 bpm" in s


def test_forest_rows_match_the_report_in_natural_units() -> None:
    rows = ep.forest_rows(report())
    assert [(r.group, r.metric) for r in rows] == [
        ("Reduced stress levels, relaxation", "hr_bpm"), ("Reduced stress levels, relaxation", "ln_rmssd_night"),
        ("Improved sleep", "tst_min"),
    ]  # the mood row has no interval, so it has no point
    hrv = rows[1]
    assert math.isclose(hrv.estimate, 100 * math.expm1(0.17)) and math.isclose(hrv.lo, 100 * math.expm1(0.07))
    assert math.isclose(hrv.mde_lo, 100 * math.expm1(-0.19)) and math.isclose(hrv.mde_hi, 100 * math.expm1(0.19))
    assert rows[0].mde_lo is None  # acute rows without `mde` in the JSON: no band, no invented number
    assert rows[2].unit == "min" and rows[2].lo == -5.2 and rows[2].lag == 1


def test_acute_mde_from_new_shape_draws_a_band() -> None:
    r = report()
    r["acute"][0]["mde"] = 2.5
    rows = ep.forest_rows(r)
    assert (rows[0].mde_lo, rows[0].mde_hi) == (-2.5, 2.5)


def test_massage_minus_rest_preferred_when_rest_sessions_exist() -> None:
    r = report()
    r["sessions"]["rest"] = 5
    r["acute"].append({"metric": "hr_bpm", "kind": "massage_minus_rest", "n": 12, "mean_change": -1.0,
                       "ci95": [-3.0, 1.0], "verdict": "no clear change"})  # fmt: skip
    rows = et.claim_rows(r["claims"][0], r)
    assert rows[0]["kind"] == "massage_minus_rest"
    assert et.row_sentence(rows[0]).startswith("the change in heart rate over a massage was 1.0 bpm lower than over a rest session")
    assert et.readable("Your data (acute.hr_bpm: x; nights.tst_min: y)") == "Your data (heart rate within sessions: x; total sleep: y)"


def test_format_signs_and_units() -> None:
    assert et.fmt("hr_bpm", -0.04) == "0.0 bpm"
    assert et.fmt("sleep_efficiency_pct", 3.25) == "+3.2 points"  # percentage points, not a relative %
    assert et.fmt("pain", None) == "—"


def test_claims_of_the_new_shape_say_what_was_tested_and_how_many_rest_sessions_to_log() -> None:
    r = report()
    claim = {"claim": "Reduced anxiety", "metrics": ["acute.hr_bpm"], "verdict": "cannot tell massage from lying still",
             "tested_as": "heart rate within sessions", "reason": "no comparable rest sessions",
             "rest_sessions_needed": 4}  # fmt: skip
    s = et.claim_sentence(claim, r)
    assert s.startswith("Cannot tell massage from lying still yet: during your sessions heart rate fell by 4.1 bpm")
    assert "Tested as: heart rate within sessions." in s and "No comparable rest sessions." in s
    assert "Log 4 rest sessions" in s
    row = {"metric": "hr_bpm", "kind": "massage_minus_rest", "verdict": "no clear change", "more_massage_needed": 3,
           "more_rest_needed": 5, "mean_change": -1.0, "ci95": [-3.0, 1.0]}  # fmt: skip
    assert "About 3 more massage and 5 more rest sessions" in et.surer(row, r)


def test_massage_minus_rest_only_when_the_rest_comparison_is_usable() -> None:
    r = report()
    r["sessions"]["rest"] = 5
    r["acute"].append({"metric": "hr_bpm", "kind": "massage_minus_rest", "n": 12, "mean_change": -1.0,
                       "ci95": [-3.0, 1.0], "verdict": "no clear change"})  # fmt: skip
    r["rest_comparison"] = {"usable": False}
    assert et.claim_rows(r["claims"][0], r)[0]["kind"] == "massage"
    r["rest_comparison"] = {"usable": True}
    assert et.claim_rows(r["claims"][0], r)[0]["kind"] == "massage_minus_rest"


def test_a_called_claim_leads_with_the_row_that_carries_the_call_not_the_session_change() -> None:
    r = report()
    r["acute"][0]["verdict"] = "improved"  # the change during sessions (lying down included), listed first
    claim = {"claim": "Reduced stress levels, relaxation", "metrics": ["acute.hr_bpm", "nights.ln_rmssd_night"],
             "verdict": "improved"}  # fmt: skip
    s = et.claim_sentence(claim, r)
    assert s.startswith("Your data support this: night HRV (RMSSD)"), s
    assert not s.startswith("Your data support this: during your sessions")
