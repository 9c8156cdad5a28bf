"""Tests for tracker.analysis.hrv: hand-computed cases, library reference values, spectra, windows."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import signal

from tracker.analysis.artifacts import gate_rr
from tracker.analysis.hrv import (
    HRV_KEYS,
    HrvResult,
    analyze_rr,
    dfa_alpha1,
    ln_rmssd,
    mean_hr_bpm,
    rmssd_ms,
    detrend_linear,
    stress_index,
    welch_psd,
    windowed_ln_rmssd,
)

REPO_ROOT = Path(__file__).resolve().parents[3]
VECTORS = REPO_ROOT / "tests" / "data" / "vectors" / "hrv"
RESULTS = VECTORS / "results"

EXPECTED_KEYS = {
    "n_beats", "n_flagged", "flagged_pct", "quality_ok", "mean_nn_ms", "sdnn_ms", "rmssd_ms", "ln_rmssd",
    "sdsd_ms", "pnn50_pct", "pnn20_pct", "mean_hr_bpm", "vlf_ms2", "lf_ms2", "hf_ms2", "lf_hf", "lf_nu",
    "hf_nu", "sd1_ms", "sd2_ms", "sd1_sd2", "dfa_alpha1", "stress_index",
}  # fmt: skip


def load_rr(name: str) -> np.ndarray:
    return np.loadtxt(VECTORS / name, delimiter=",", skiprows=1)


def load_json(name: str) -> dict[str, Any]:
    return json.loads((RESULTS / name).read_text())["results"]


def beats_from_modulation(duration_s: float, modulation: Any, mean_ms: float = 1000.0) -> np.ndarray:
    """RR series whose interval follows ``mean_ms + modulation(t_s)`` sampled at each beat's own time."""
    rr: list[float] = []
    t_s = 0.0
    while t_s < duration_s:
        value = mean_ms + modulation(t_s)
        rr.append(value)
        t_s += value / 1000.0
    return np.asarray(rr)


# ---------------------------------------------------------------- library reference values (1e-9)


@pytest.mark.parametrize("gate", [True, False])
@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        ("mean_nn_ms", "HRV_MeanNN"),
        ("sdnn_ms", "HRV_SDNN"),
        ("rmssd_ms", "HRV_RMSSD"),
        ("sdsd_ms", "HRV_SDSD"),
    ],
)
def test_time_domain_equals_neurokit2(ours: str, theirs: str, gate: bool) -> None:
    expected = load_json("neurokit2_0.2.13.json")["hrv_time(default)"][theirs]
    result = analyze_rr(load_rr("rr_clean.csv"), gate=gate)
    assert getattr(result, ours) == pytest.approx(expected, abs=1e-9, rel=0)


@pytest.mark.parametrize("gate", [True, False])
@pytest.mark.parametrize(("ours", "theirs"), [("sd1_ms", "HRV_SD1"), ("sd2_ms", "HRV_SD2"), ("sd1_sd2", "HRV_SD1SD2")])
def test_poincare_equals_neurokit2(ours: str, theirs: str, gate: bool) -> None:
    nk = load_json("neurokit2_0.2.13.json")["hrv_nonlinear(default; DFA alpha1 scales 4..11 beats)"]
    result = analyze_rr(load_rr("rr_clean.csv"), gate=gate)
    assert getattr(result, ours) == pytest.approx(nk[theirs], abs=1e-9, rel=0)


@pytest.mark.parametrize(("ours", "theirs"), [("pnn50_pct", "pnni_50"), ("pnn20_pct", "pnni_20")])
def test_pnn_equals_hrv_analysis_denominator_n_minus_1(ours: str, theirs: str) -> None:
    ha = load_json("hrvanalysis_1.0.5_py3.11.7.json")["get_time_domain_features(default pnni_as_percent=True)"]
    result = analyze_rr(load_rr("rr_clean.csv"))
    assert getattr(result, ours) == pytest.approx(ha[theirs], abs=1e-9, rel=0)


def test_mean_hr_is_mean_of_instantaneous_hr() -> None:
    formulas = load_json("formulas_numpy.json")
    rr = load_rr("rr_clean.csv")
    expected = formulas["HR_mean_of_instantaneous_bpm(mean(60000/RR))"]
    assert analyze_rr(rr).mean_hr_bpm == pytest.approx(expected, abs=1e-9, rel=0)
    assert mean_hr_bpm(rr) == pytest.approx(expected, abs=1e-9, rel=0)
    assert expected != pytest.approx(formulas["HR_from_MeanNN_bpm(60000/MeanNN)"], abs=1e-3)


def test_ln_rmssd_and_stress_index_on_reference() -> None:
    formulas = load_json("formulas_numpy.json")
    result = analyze_rr(load_rr("rr_clean.csv"))
    assert result.ln_rmssd == pytest.approx(math.log(formulas["RMSSD"]), abs=1e-12)
    assert result.stress_index == pytest.approx(formulas["Baevsky_SI"], abs=1e-9, rel=0)
    assert result.stress_index == pytest.approx(231.11, abs=0.005)


def test_reference_artefacts_recover_rmssd() -> None:
    expected = load_json("artifacts_python3.11.7_neurokit20.2.13.json")["median_filter_drop_pairs"]
    result = analyze_rr(load_rr("rr_artifacts.csv"))
    assert result.n_flagged == 6 and result.n_beats == 300 and result.quality_ok is True
    assert result.rmssd_ms == pytest.approx(29.98, abs=0.005)
    assert result.rmssd_ms == pytest.approx(expected["RMSSD"], abs=1e-9, rel=0)
    assert result.sdnn_ms == pytest.approx(expected["SDNN"], abs=1e-9, rel=0)
    assert result.mean_nn_ms == pytest.approx(expected["MeanNN"], abs=1e-9, rel=0)
    assert result.pnn50_pct == pytest.approx(expected["pNN50"], abs=1e-9, rel=0)
    # Ungated, the artefacts blow RMSSD up (science.md §2: 100.77 ms).
    raw = analyze_rr(load_rr("rr_artifacts.csv"), gate=False)
    raw_expected = load_json("artifacts_python3.11.7_neurokit20.2.13.json")["raw(with artefacts)"]
    assert raw.rmssd_ms == pytest.approx(raw_expected["RMSSD"], abs=1e-9, rel=0)


# ---------------------------------------------------------------- hand-computed time domain


@pytest.mark.parametrize(
    ("rr", "expected"),
    [
        (
            # diffs 10, −20, 30; mean 1005
            [1000.0, 1010.0, 990.0, 1020.0],
            {
                "mean_nn_ms": 1005.0,
                "sdnn_ms": math.sqrt((25 + 25 + 225 + 225) / 3),
                "rmssd_ms": math.sqrt((100 + 400 + 900) / 3),
                "sdsd_ms": math.sqrt(((10 - 20 / 3) ** 2 + (-20 - 20 / 3) ** 2 + (30 - 20 / 3) ** 2) / 2),
                "pnn50_pct": 0.0,
                "pnn20_pct": 100 / 3,  # |−20| is a tie, not counted: strict ">"
                "mean_hr_bpm": (60 + 60000 / 1010 + 60000 / 990 + 60000 / 1020) / 4,
            },
        ),
        (
            # diffs 50, 50, 51: only the 51 counts for pNN50
            [800.0, 850.0, 900.0, 951.0],
            {"pnn50_pct": 100 / 3, "pnn20_pct": 100.0, "rmssd_ms": math.sqrt((2500 + 2500 + 2601) / 3)},
        ),
        (
            # mean HR is not 60000/MeanNN: mean(60, 120) = 90, not 80 (within-range but the gate would flag 500)
            [1000.0, 500.0],
            {"mean_hr_bpm": 90.0, "mean_nn_ms": 750.0, "rmssd_ms": 500.0, "ln_rmssd": math.log(500.0)},
        ),
    ],
)
def test_time_domain_hand_cases(rr: list[float], expected: dict[str, float]) -> None:
    result = analyze_rr(rr, gate=False)
    for key, value in expected.items():
        assert getattr(result, key) == pytest.approx(value, rel=1e-12), key


def test_differences_only_over_pairs_with_both_beats_valid() -> None:
    rr = [1000.0, 1010.0, 5000.0, 1020.0, 1000.0]
    valid = np.array([True, True, False, True, True])
    # Pairs (0,1) → 10 and (3,4) → −20; 1010→1020 across the gap is not a successive difference.
    assert rmssd_ms(rr, valid) == pytest.approx(math.sqrt((100 + 400) / 2))
    assert ln_rmssd(rr, valid) == pytest.approx(0.5 * math.log(250.0))
    assert mean_hr_bpm(rr, valid) == pytest.approx((60 + 60000 / 1010 + 60000 / 1020 + 60) / 4)


def test_gate_removes_a_spike_from_rmssd() -> None:
    rr = np.array([1000.0, 1010.0] * 20)
    rr[21] = 1500.0
    gated = analyze_rr(rr)
    assert gated.n_flagged == 1
    assert gated.rmssd_ms == pytest.approx(10.0)
    assert analyze_rr(rr, gate=False).rmssd_ms > 100.0


# ---------------------------------------------------------------- None, never NaN


def test_too_short_series_give_none() -> None:
    one = analyze_rr([1000.0])
    assert one.mean_nn_ms == 1000.0 and one.mean_hr_bpm == 60.0
    for key in ("sdnn_ms", "rmssd_ms", "ln_rmssd", "sdsd_ms", "pnn50_pct", "sd1_ms", "sd2_ms", "stress_index",
                "dfa_alpha1", "hf_ms2", "lf_ms2", "vlf_ms2", "lf_hf", "lf_nu"):  # fmt: skip
        assert getattr(one, key) is None, key

    empty = analyze_rr([])
    assert empty.n_beats == 0 and empty.quality_ok is False
    assert all(v is None for k, v in empty.to_dict().items() if k not in {"n_beats", "n_flagged", "flagged_pct", "quality_ok"})


def test_minimum_durations_for_spectral_bands_and_dfa() -> None:
    rng = np.random.default_rng(1)
    rr_50 = 1000.0 + rng.normal(0, 20, 50)  # 50 s: no HF, no DFA (< 64 beats)
    r50 = analyze_rr(rr_50)
    assert r50.hf_ms2 is None and r50.dfa_alpha1 is None and r50.rmssd_ms is not None

    rr_100 = 1000.0 + rng.normal(0, 20, 100)  # 100 s: HF (≥ 60 s) but not LF (< 120 s); DFA ok
    r100 = analyze_rr(rr_100)
    assert r100.hf_ms2 is not None and r100.lf_ms2 is None and r100.vlf_ms2 is None
    assert r100.lf_hf is None and r100.lf_nu is None and r100.dfa_alpha1 is not None

    ref = analyze_rr(load_rr("rr_clean.csv"))  # 270 s: LF and HF, no VLF (< 300 s)
    assert ref.lf_ms2 is not None and ref.hf_ms2 is not None and ref.vlf_ms2 is None

    rr_400 = 1000.0 + rng.normal(0, 20, 400)  # 400 s: all three bands
    assert analyze_rr(rr_400).vlf_ms2 is not None


def test_constant_series_gives_none_not_nan() -> None:
    result = analyze_rr(np.full(400, 1000.0))
    d = result.to_dict()
    json.dumps(d, allow_nan=False)
    assert result.rmssd_ms == 0.0 and result.ln_rmssd is None
    assert result.sd1_ms == 0.0 and result.sd2_ms == 0.0
    assert (result.vlf_ms2, result.lf_ms2, result.hf_ms2) == (0.0, 0.0, 0.0)
    assert result.sd1_sd2 is None and result.stress_index is None and result.dfa_alpha1 is None
    assert result.lf_hf is None and result.lf_nu is None and result.hf_nu is None


def test_failed_quality_gate_suppresses_spectra_only() -> None:
    rr = load_rr("rr_clean.csv").copy()
    rr[::10] = 2500.0  # 10 % out of range
    result = analyze_rr(rr)
    assert result.quality_ok is False and result.n_flagged == 30
    assert result.rmssd_ms is not None and result.sd1_ms is not None
    assert result.lf_ms2 is None and result.hf_ms2 is None and result.lf_hf is None


def test_gate_false_rejects_non_finite_or_non_positive() -> None:
    with pytest.raises(ValueError):
        analyze_rr([1000.0, math.nan, 1000.0], gate=False)
    with pytest.raises(ValueError):
        analyze_rr([1000.0, 0.0, 1000.0], gate=False)
    # Gated, the same NaN is just a flagged beat.
    assert analyze_rr([1000.0, math.nan, 1000.0]).n_flagged == 1


# ---------------------------------------------------------------- frequency domain


def test_pure_rsa_sine_at_0_25_hz_is_hf() -> None:
    rr = beats_from_modulation(360.0, lambda t: 40.0 * math.sin(2 * math.pi * 0.25 * t))
    r = analyze_rr(rr)
    total = r.vlf_ms2 + r.lf_ms2 + r.hf_ms2
    assert r.hf_ms2 / total > 0.95
    assert r.hf_nu > 95.0 and r.lf_hf < 0.05
    # A sinusoid of amplitude A carries A²/2 = 800 ms²; allow for beat-time sampling and the spline.
    assert r.hf_ms2 == pytest.approx(800.0, rel=0.15)


def test_mayer_wave_at_0_1_hz_is_lf() -> None:
    rr = beats_from_modulation(360.0, lambda t: 30.0 * math.sin(2 * math.pi * 0.1 * t))
    r = analyze_rr(rr)
    assert r.lf_nu > 95.0 and r.lf_hf > 20.0


def test_spectrum_close_to_plain_formula_reference() -> None:
    # The reference uses mean removal instead of a linear detrend: only a loose sanity check.
    ref = load_json("formulas_numpy.json")["frequency"]["welch_cubic4Hz_detrend=mean_seg=256s"]
    r = analyze_rr(load_rr("rr_clean.csv"))
    assert r.lf_ms2 == pytest.approx(ref["LF_ms2"], rel=0.05)
    assert r.hf_ms2 == pytest.approx(ref["HF_ms2"], rel=0.05)
    assert r.lf_nu == pytest.approx(ref["LFnu_LF/(LF+HF)*100"], abs=1.0)
    assert r.lf_nu + r.hf_nu == pytest.approx(100.0)
    assert r.lf_hf == pytest.approx(r.lf_ms2 / r.hf_ms2)


@pytest.mark.parametrize(("n", "nperseg", "nfft"), [(1200, 1024, 4096), (1080, 1024, 4096), (300, 300, 4096), (5000, 1024, 1024), (999, 999, 999)])
def test_welch_psd_equals_scipy(n: int, nperseg: int, nfft: int) -> None:
    x = np.random.default_rng(n).normal(0, 30, n) + np.linspace(0, 50, n)
    f_ours, p_ours = welch_psd(x, 4.0, nperseg, nfft)
    f_ref, p_ref = signal.welch(x, fs=4.0, window="hann", nperseg=nperseg, noverlap=nperseg // 2, nfft=nfft,
                                detrend="constant", scaling="density")  # fmt: skip
    np.testing.assert_allclose(f_ours, f_ref, rtol=0, atol=1e-15)
    np.testing.assert_allclose(p_ours, p_ref, rtol=1e-10, atol=1e-12 * p_ref.max())


@pytest.mark.parametrize("n", [2, 3, 1000, 4001])
def test_linear_detrend_equals_scipy(n: int) -> None:
    x = 900.0 + 0.3 * np.arange(n) + np.random.default_rng(n).normal(0, 20, n)
    np.testing.assert_allclose(detrend_linear(x), signal.detrend(x, type="linear"), rtol=0, atol=1e-9)


def test_spectrum_bridges_flagged_beats() -> None:
    clean = analyze_rr(load_rr("rr_clean.csv"))
    gated = analyze_rr(load_rr("rr_artifacts.csv"))
    assert gated.hf_ms2 == pytest.approx(clean.hf_ms2, rel=0.05)
    assert gated.lf_ms2 == pytest.approx(clean.lf_ms2, rel=0.10)


# ---------------------------------------------------------------- nonlinear


@pytest.mark.parametrize(
    ("make", "alpha"),
    [
        (lambda rng: 1000.0 + 30.0 * rng.standard_normal(4000), 0.5),  # white noise
        (lambda rng: 1000.0 + np.cumsum(rng.standard_normal(4000)), 1.5),  # Brownian motion
    ],
)
def test_dfa_alpha1_on_known_processes(make: Any, alpha: float) -> None:
    rr = make(np.random.default_rng(7))
    assert dfa_alpha1(rr) == pytest.approx(alpha, abs=0.1)


def test_dfa_is_scale_and_offset_invariant_and_needs_64_beats() -> None:
    rr = 900.0 + 25.0 * np.random.default_rng(3).standard_normal(300)
    assert dfa_alpha1(2.0 * rr + 100.0) == pytest.approx(dfa_alpha1(rr), abs=1e-9)
    assert dfa_alpha1(rr[:63]) is None
    assert dfa_alpha1(rr[:64]) is not None


@pytest.mark.parametrize(
    ("rr", "expected"),
    [
        # bins 20,20,20,22 → AMo 75 %; Mo = median 1005 ms; MxDMn 0.1 s
        ([1000.0, 1000.0, 1010.0, 1100.0], 75.0 / (2 * 1.005 * 0.1)),
        # bins anchored at multiples of 50 ms: 949 | 951, 990 → AMo 66.7 % (anchored at the minimum: 100 %)
        ([949.0, 951.0, 990.0], (200 / 3) / (2 * 0.951 * 0.041)),
    ],
)
def test_stress_index_hand_cases(rr: list[float], expected: float) -> None:
    assert stress_index(rr) == pytest.approx(expected, rel=1e-12)


def test_poincare_over_valid_pairs_only() -> None:
    rr = load_rr("rr_artifacts.csv")
    g = gate_rr(rr)
    pairs = g.valid[:-1] & g.valid[1:]
    x, y = rr[:-1][pairs], rr[1:][pairs]
    result = analyze_rr(rr)
    assert result.sd1_ms == pytest.approx(np.std((x - y) / math.sqrt(2), ddof=1), rel=1e-12)
    assert result.sd2_ms == pytest.approx(np.std((x + y) / math.sqrt(2), ddof=1), rel=1e-12)
    assert result.sd1_ms == pytest.approx(result.sdsd_ms / math.sqrt(2), rel=1e-12)


# ---------------------------------------------------------------- result object


def test_to_dict_has_exactly_the_keys_and_is_json_serialisable() -> None:
    for rr in (load_rr("rr_clean.csv"), load_rr("rr_artifacts.csv"), [1000.0], []):
        d = analyze_rr(rr).to_dict()
        assert set(d) == EXPECTED_KEYS
        assert tuple(d) == HRV_KEYS
        text = json.dumps(d, allow_nan=False)
        assert json.loads(text) == d
        for key, value in d.items():
            assert value is None or type(value) in (int, float, bool), (key, type(value))
    d = analyze_rr(load_rr("rr_clean.csv")).to_dict()
    assert type(d["n_beats"]) is int and type(d["quality_ok"]) is bool and type(d["rmssd_ms"]) is float


def test_result_is_frozen() -> None:
    result = analyze_rr(load_rr("rr_clean.csv"))
    assert isinstance(result, HrvResult)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.rmssd_ms = 1.0  # type: ignore[misc]
    assert result.gate is not None and result.gate.coverage_pct == 100.0
    assert analyze_rr(load_rr("rr_clean.csv"), gate=False).quality_ok is None


def test_window_s_reaches_the_quality_gate() -> None:
    rr = load_rr("rr_clean.csv")  # ≈ 270 s of beats
    assert analyze_rr(rr, window_s=300.0).quality_ok is True  # 90 % coverage
    short = analyze_rr(rr, window_s=400.0)  # 67 % coverage
    assert short.quality_ok is False and short.lf_ms2 is None and short.rmssd_ms is not None


# ---------------------------------------------------------------- windows over a night


def _night(n_beats: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    rr = 1000.0 + 30.0 * np.sin(np.arange(n_beats) * 2 * np.pi / 4.0) + rng.normal(0, 15, n_beats)
    rr[rng.choice(n_beats, n_beats // 200, replace=False)] *= 1.6  # 0.5 % artefacts
    start_ms = 1_730_000_223_456  # 123.456 s into a 5-min window: the first window is only 59 % covered
    t_ms = start_ms + np.cumsum(rr)
    return t_ms, rr


def test_windowed_ln_rmssd_matches_per_window_computation() -> None:
    t_ms, rr = _night(6000, seed=5)
    window_ms = 300_000
    out = windowed_ln_rmssd(t_ms, rr, window_ms)
    valid = gate_rr(rr).valid  # the gate is applied globally, then restricted to each window
    assert out.n_beats.sum() == rr.size
    assert np.all(out.window_start_ms % window_ms == 0)
    assert out.window_start_ms.dtype == np.int64
    for k, start in enumerate(out.window_start_ms):
        w = (t_ms >= start) & (t_ms < start + window_ms)
        assert out.n_beats[k] == w.sum()
        assert out.ln_rmssd[k] == pytest.approx(ln_rmssd(rr[w], valid[w]), rel=1e-12)
        assert out.mean_hr_bpm[k] == pytest.approx(mean_hr_bpm(rr[w], valid[w]), rel=1e-12)
        coverage = min(1.0, rr[w & valid].sum() / window_ms)
        flagged = (~valid[w]).mean()
        assert bool(out.quality_ok[k]) is bool(coverage >= 0.8 and flagged <= 0.05)
        if start >= t_ms[0] and start + window_ms <= t_ms[-1]:
            assert out.quality_ok[k]  # full windows of this clean-ish night pass
    assert not out.quality_ok[0]  # partial first window


def test_windowed_ln_rmssd_flags_bad_windows() -> None:
    t_ms, rr = _night(1200, seed=6)
    rr = rr.copy()
    w = (t_ms >= 1_730_000_400_000) & (t_ms < 1_730_000_700_000)
    idx = np.flatnonzero(w)
    rr[idx[::10]] = 2600.0  # 10 % of one window out of range; t_ms unchanged
    out = windowed_ln_rmssd(t_ms, rr, 300_000)
    k = int(np.flatnonzero(out.window_start_ms == 1_730_000_400_000)[0])
    assert not out.quality_ok[k]
    assert np.isfinite(out.ln_rmssd[out.quality_ok]).all()


def test_windowed_ln_rmssd_empty_and_bad_input() -> None:
    out = windowed_ln_rmssd([], [], 300_000)
    assert all(a.size == 0 for a in out)
    with pytest.raises(ValueError):
        windowed_ln_rmssd([2.0, 1.0], [1000.0, 1000.0], 300_000)
    with pytest.raises(ValueError):
        windowed_ln_rmssd([1.0, 2.0], [1000.0, 1000.0], 0)
