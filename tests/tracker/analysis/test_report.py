"""The assembled evidence report (tracker.analysis.report): JSON shape, wording, validation, speed."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from tracker.analysis.report import (
    ReportInputs,
    SessionInput,
    WindowSummary,
    build_report,
    night_series_from_mapping,
    session_day,
)
from tracker.analysis.sleep import NIGHT_METRICS
from tracker.model import SessionKind

TZ = "Europe/Berlin"
START = date(2024, 1, 1)
TOP_KEYS = {"person", "timezone", "period", "sessions", "nights", "primary_endpoint", "acute", "nights_after", "claims"}
ACUTE_KEYS = {"metric", "kind", "n", "mean_change", "ci95", "p", "q", "verdict", "mde", "sessions_needed", "reason"}
NIGHT_KEYS = {
    "metric", "lag", "n_massage", "n_control", "difference", "hedges_g", "ci95", "p", "q", "mde",
    "sessions_needed", "verdict", "primary", "adjusted_difference", "weekday_information", "reason", "statement",
}  # fmt: skip
CLAIM_KEYS = {"claim", "source", "metrics", "verdict", "explanation", "tested_as", "reason", "rest_sessions_needed"}
NIGHT_PARAMS = {
    "ln_rmssd_night": (3.8, 0.15),
    "resting_hr_bpm": (55.0, 3.0),
    "tst_min": (420.0, 40.0),
    "sleep_efficiency_pct": (88.0, 4.0),
    "waso_min": (40.0, 12.0),
    "deep_min": (80.0, 15.0),
    "rem_min": (95.0, 20.0),
}


def make_inputs(
    *,
    n_days: int = 365,
    n_massage: int = 100,
    n_rest: int = 0,
    seed: int = 1,
    lag1_effect: dict[str, float] | None = None,
    drop_metrics: tuple[str, ...] = (),
) -> ReportInputs:
    rng = np.random.default_rng(seed)
    zone = ZoneInfo(TZ)
    labels = [START + timedelta(days=i) for i in range(n_days)]
    day_idx = np.sort(rng.choice(np.arange(7, n_days - 1), size=n_massage + n_rest, replace=False))
    kinds = np.array([SessionKind.MASSAGE] * n_massage + [SessionKind.REST] * n_rest)
    rng.shuffle(kinds)
    massage_day = np.zeros(n_days, dtype=bool)
    massage_day[day_idx[kinds == SessionKind.MASSAGE]] = True
    metrics = {}
    for name, (mu, sd) in NIGHT_PARAMS.items():
        if name in drop_metrics:
            continue
        e = rng.normal(size=n_days)
        ar = np.empty(n_days)
        ar[0] = e[0]
        for t in range(1, n_days):
            ar[t] = 0.4 * ar[t - 1] + e[t]
        v = mu + sd * ar
        if lag1_effect and name in lag1_effect:
            v[1:][massage_day[:-1]] += lag1_effect[name]
        v[rng.random(n_days) < 0.05] = np.nan
        metrics[name] = v
    sessions = []
    for d, kind in zip(day_idx, kinds, strict=True):
        day = START + timedelta(days=int(d))
        start_ms = int(datetime(day.year, day.month, day.day, 17, 0, tzinfo=zone).timestamp() * 1000)
        pre = WindowSummary(hr_bpm=70 + rng.normal() * 3, ln_rmssd=3.5 + rng.normal() * 0.2, quality_ok=True)
        post = WindowSummary(
            hr_bpm=66 + rng.normal() * 3, ln_rmssd=3.7 + rng.normal() * 0.2, quality_ok=bool(rng.random() < 0.9)
        )
        sessions.append(
            SessionInput(
                start_ms=start_ms,
                end_ms=start_ms + int(rng.integers(30, 91)) * 60_000,
                kind=SessionKind(kind),
                technique=str(rng.choice(["swedish", "deep tissue"])),
                pressure=int(rng.integers(1, 4)),
                pain_before=5.0,
                pain_after=float(rng.integers(2, 7)),
                stress_before=6.0,
                stress_after=float(rng.integers(2, 8)),
                mood_before=5.0,
                mood_after=None,  # never rated afterwards → mood is not usable
                pre=pre,
                post=post,
            )
        )
    return ReportInputs(
        person="Ann",
        timezone=TZ,
        period_start=labels[0],
        period_end=labels[-1],
        sessions=tuple(sessions),
        nights=night_series_from_mapping(labels, metrics),
    )


def test_json_shape_and_no_nan() -> None:
    report = build_report(make_inputs(n_days=120, n_massage=20))
    d = report.to_dict()
    json.dumps(d, allow_nan=False)  # raises on NaN/inf
    assert TOP_KEYS <= set(d)
    assert d["person"] == "Ann" and d["timezone"] == TZ
    assert d["period"] == {"start": "2024-01-01", "end": "2024-04-29"}
    assert d["sessions"] == {"massage": 20, "rest": 0}
    assert 0 < d["nights"] <= 120
    assert d["primary_endpoint"]["metric"] == "ln_rmssd_night" and d["primary_endpoint"]["lag"] == 1
    assert all(ACUTE_KEYS <= set(r) for r in d["acute"])
    assert {r["kind"] for r in d["acute"]} == {"massage"}
    assert all(NIGHT_KEYS <= set(r) for r in d["nights_after"])
    assert {(r["metric"], r["lag"]) for r in d["nights_after"]} == {(m, lag) for m in NIGHT_METRICS for lag in (1, 2, 3)}
    assert all(CLAIM_KEYS <= set(c) for c in d["claims"])
    assert sum(r.get("primary", False) for r in d["nights_after"]) == 1
    assert d["dose_response"] is not None
    primary = next(r for r in d["nights_after"] if r["primary"])
    pe = d["primary_endpoint"]
    assert pe["estimate"] == primary["adjusted_difference"] and pe["ci95"] == primary["ci95"]
    assert pe["p_unadjusted"] == primary["p"] and pe["mde"] == primary["mde"] and pe["reason"]
    assert d["design"] == "observational" and d["sessions_without_nights"] == 0
    assert d["rest_comparison"]["usable"] is False and d["rest_comparison"]["rest_needed"] == 4
    assert all(r["reason"] for r in d["acute"]) and all(r["reason"] for r in d["nights_after"])


def test_wording_without_rest_controls_and_rows_with_them() -> None:
    d = build_report(make_inputs(n_days=120, n_massage=20)).to_dict()
    hr = next(r for r in d["acute"] if r["metric"] == "hr_bpm")
    assert hr["verdict"] == "improved" and hr["mean_change"] < 0
    assert "During your massage sessions" in hr["statement"]
    assert "it is not a massage effect" in hr["statement"]
    mood = next(r for r in d["acute"] if r["metric"] == "mood")
    assert mood["n"] == 0 and mood["verdict"] == "not enough data" and mood["mean_change"] is None
    stress_claim = next(c for c in d["claims"] if c["claim"].startswith("Reduced stress"))
    assert "during your sessions" in stress_claim["explanation"]

    d = build_report(make_inputs(n_days=120, n_massage=16, n_rest=8)).to_dict()
    assert d["sessions"] == {"massage": 16, "rest": 8}
    kinds = {(r["metric"], r["kind"]) for r in d["acute"]}
    assert ("hr_bpm", "massage_minus_rest") in kinds and ("hr_bpm", "rest") in kinds
    mmr = next(r for r in d["acute"] if r["metric"] == "hr_bpm" and r["kind"] == "massage_minus_rest")
    assert mmr["ci95"][0] < 0 < mmr["ci95"][1]  # same simulated change for both kinds


def test_planted_lag1_effect_end_to_end() -> None:
    inputs = make_inputs(n_days=150, n_massage=20, seed=5, lag1_effect={"ln_rmssd_night": 0.3, "resting_hr_bpm": 4.0})
    d = build_report(inputs).to_dict()
    rows = {(r["metric"], r["lag"]): r for r in d["nights_after"]}
    primary = rows[("ln_rmssd_night", 1)]
    assert primary["primary"] and primary["verdict"] == "improved"
    assert primary["ci95"][0] <= 0.3 <= primary["ci95"][1]
    rhr = rows[("resting_hr_bpm", 1)]
    assert rhr["difference"] > 0 and rhr["verdict"] == "worsened"  # higher resting HR is worse
    # CI coverage itself is validated over many simulated people in test_effects.py.
    assert rows[("tst_min", 1)]["verdict"] in ("no clear change", "not enough data")


def test_missing_metrics_are_not_measured() -> None:
    d = build_report(make_inputs(n_days=90, n_massage=10, drop_metrics=("deep_min", "rem_min"))).to_dict()
    for r in d["nights_after"]:
        if r["metric"] in ("deep_min", "rem_min"):
            assert r["verdict"] == "not measured" and r["difference"] is None
    bp = next(c for c in d["claims"] if c["claim"] == "Lower blood pressure")
    assert bp["verdict"] == "not measured"


def test_too_few_sessions_is_not_enough_data() -> None:
    d = build_report(make_inputs(n_days=60, n_massage=3)).to_dict()
    assert all(r["verdict"] == "not enough data" for r in d["acute"] if r["metric"] != "mood" or r["n"] == 0)
    assert all(r["verdict"] == "not enough data" for r in d["nights_after"])
    assert d["dose_response"] is None


def test_seeded_and_reproducible() -> None:
    inputs = make_inputs(n_days=90, n_massage=12)
    assert build_report(inputs, seed=3).to_dict() == build_report(inputs, seed=3).to_dict()


def test_session_day_rollover_and_dst() -> None:
    zone = ZoneInfo(TZ)

    def at(y: int, mo: int, d: int, h: int, mi: int = 0) -> int:
        return int(datetime(y, mo, d, h, mi, tzinfo=zone).timestamp() * 1000)

    assert session_day(at(2024, 3, 30, 18), TZ) == date(2024, 3, 30)
    assert session_day(at(2024, 3, 31, 0, 30), TZ) == date(2024, 3, 30)  # past midnight, before 04:00
    assert session_day(at(2024, 3, 31, 10), TZ) == date(2024, 3, 31)


def test_rejects_unknown_primary_endpoint() -> None:
    with pytest.raises(ValueError):
        build_report(make_inputs(n_days=30, n_massage=2), primary_metric="bogus")

