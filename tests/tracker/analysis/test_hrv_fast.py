"""The fast HRV code paths equal straightforward implementations: DFA α1, the spline, band power, the median.

Each reference below is written the obvious way (a loop per box, scipy's CubicSpline, np.trapezoid over a
mask, np.median per window), so a shortcut in tracker/analysis that changes a result fails here.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.interpolate import CubicSpline

from tracker.analysis import dfa
from tracker.analysis.artifacts import RR_MAX_MS, RR_MIN_MS, local_median_ms
from tracker.analysis.hrv import analyze_rr, frequency_domain, time_domain
from tracker.analysis.spectral import band_power, not_a_knot_spline, rfft_freqs_hz


def reference_dfa_alpha1(rr: np.ndarray) -> float:
    """DFA α1 as documented: boxes of 4..16 beats from the start and from the end, polyfit per box."""
    y = np.cumsum(rr - rr.mean())
    log_n, log_f = [], []
    for n in range(4, 17):
        m = y.size // n
        k = np.arange(n, dtype=float)
        squares = []
        for start in [i * n for i in range(m)] + [y.size - m * n + i * n for i in range(m)]:
            box = y[start : start + n]
            line = np.polyval(np.polyfit(k, box, 1), k)
            squares.append(np.sum((box - line) ** 2))
        log_n.append(math.log(n))
        log_f.append(0.5 * math.log(sum(squares) / (2 * m * n)))
    return float(np.polyfit(log_n, log_f, 1)[0])


@pytest.mark.parametrize("n_beats", [64, 65, 79, 128, 300, 479, 500, 1001, 2500])
@pytest.mark.parametrize("kind", ["white", "brownian", "rsa"])
def test_fast_dfa_equals_reference_on_random_series(n_beats: int, kind: str) -> None:
    rng = np.random.default_rng(n_beats * 7 + len(kind))
    if kind == "white":
        rr = 900.0 + 40.0 * rng.standard_normal(n_beats)
    elif kind == "brownian":
        rr = 900.0 + np.cumsum(5.0 * rng.standard_normal(n_beats))
    else:
        rr = 850.0 + 35.0 * np.sin(np.arange(n_beats) / 2.3) + 10.0 * rng.standard_normal(n_beats)
    ours = dfa.dfa_alpha1(rr)
    assert ours is not None
    assert ours == pytest.approx(reference_dfa_alpha1(rr), abs=1e-9, rel=0)


@pytest.mark.parametrize("block", [1, 5, 16, 97])
def test_fast_dfa_is_the_same_across_block_seams(block: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # Long series are processed in blocks of box starts; tiny blocks put seams everywhere.
    rr = 1000.0 + 30.0 * np.random.default_rng(block).standard_normal(700)
    whole = dfa.dfa_alpha1(rr)
    monkeypatch.setattr(dfa, "DFA_STARTS_PER_BLOCK", block)
    assert dfa.dfa_alpha1(rr) == pytest.approx(whole, abs=1e-12, rel=0)
    assert dfa.dfa_alpha1(rr) == pytest.approx(reference_dfa_alpha1(rr), abs=1e-9, rel=0)


def test_fast_dfa_of_a_flat_or_non_finite_series_is_none() -> None:
    assert dfa.dfa_alpha1(np.full(100, 900.0)) is None
    rr = 900.0 + np.arange(100.0)
    rr[50] = math.nan
    assert dfa.dfa_alpha1(rr) is None


@pytest.mark.parametrize("n_knots", [4, 5, 37, 500])
def test_spline_equals_scipy_cubic_spline_inside_and_beyond_the_ends(n_knots: int) -> None:
    rng = np.random.default_rng(n_knots)
    x = np.cumsum(rng.uniform(0.5, 1.3, n_knots))
    y = 900.0 + 50.0 * rng.standard_normal(n_knots)
    x_new = np.concatenate(([x[0] - 0.7], np.arange(x[0], x[-1], 0.25), x, [x[-1], x[-1] + 0.4]))
    expected = CubicSpline(x, y, bc_type="not-a-knot")(x_new)
    np.testing.assert_allclose(not_a_knot_spline(x, y, x_new), expected, rtol=1e-12, atol=1e-9)


def test_spline_needs_four_knots() -> None:
    with pytest.raises(ValueError):
        not_a_knot_spline(np.arange(3.0), np.ones(3), np.arange(3.0))


@pytest.mark.parametrize("nfft", [1024, 4096, 999])
@pytest.mark.parametrize("band", [(0.0033, 0.04), (0.04, 0.15), (0.15, 0.40), (0.39, 0.395), (1.0, 3.0)])
def test_band_power_equals_trapezoid_over_the_masked_bins(nfft: int, band: tuple[float, float]) -> None:
    f = rfft_freqs_hz(nfft, 4.0)
    psd = np.random.default_rng(nfft).uniform(0.0, 100.0, f.size)
    m = (f >= band[0]) & (f < band[1])
    expected = float(np.trapezoid(psd[m], f[m])) if np.count_nonzero(m) >= 2 else 0.0
    assert band_power(f, psd, band) == pytest.approx(expected, rel=1e-12, abs=1e-12)


def reference_local_median(rr: np.ndarray) -> np.ndarray:
    padded = np.pad(rr, 5, mode="reflect")
    out = np.empty(rr.size)
    for i in range(rr.size):
        window = padded[i : i + 11]
        kept = window[(window >= RR_MIN_MS) & (window <= RR_MAX_MS)]
        out[i] = np.median(kept) if kept.size else np.nan
    return out


@pytest.mark.parametrize("n_beats", [1, 2, 5, 6, 7, 11, 12, 300])
@pytest.mark.parametrize("with_out_of_range", [False, True])
def test_local_median_equals_per_window_median(n_beats: int, with_out_of_range: bool) -> None:
    rng = np.random.default_rng(n_beats)
    rr = 900.0 + 60.0 * rng.standard_normal(n_beats)
    if with_out_of_range:
        rr[rng.choice(n_beats, max(1, n_beats // 10), replace=False)] = 2600.0
    np.testing.assert_array_equal(local_median_ms(rr), reference_local_median(rr))


def test_time_and_frequency_domain_alone_equal_the_ungated_analysis() -> None:
    rng = np.random.default_rng(5)
    rr = 900.0 + 30.0 * np.sin(np.arange(400) / 1.7) + 15.0 * rng.standard_normal(400)
    full = analyze_rr(rr, gate=False).to_dict()
    parts = {**time_domain(rr), **frequency_domain(rr)}
    assert set(parts) < set(full)
    assert parts == {key: full[key] for key in parts}
    assert parts["hf_ms2"] is not None and parts["rmssd_ms"] is not None
