"""Heart-rate variability of one RR series. Pure: numpy/scipy and stdlib only; no I/O, no clock, no logging.

Conventions (science.md §0–§3); every number is in the unit its name says.

Artefacts
    `analyze_rr(gate=True)` first runs `tracker.analysis.artifacts.gate_rr` (range 300–2000 ms, 11-beat
    local median, 20 %). Beat-level metrics use the valid beats; difference-based metrics (RMSSD, SDSD,
    pNNx, SD1, SD2) use only successive pairs ``(i, i+1)`` whose two beats are both valid, so a flagged beat
    removes the two differences it takes part in and never creates a new difference across the gap.
    ``gate=False`` treats every beat as valid (to compare with other tools); the input must then be finite
    and positive, and ``quality_ok`` is None (not assessed). Metrics are reported even when the quality gate
    fails (the counts go with them) — except the spectrum, see below.

Time domain (identical to neurokit2 0.2.13 / hrv-analysis 1.0.5 on the reference series)
    MeanNN = mean RR; SDNN = SD of RR with ddof=1; RMSSD = sqrt(mean(ΔRR²)) over the valid differences;
    lnRMSSD = natural log of RMSSD in ms (None when RMSSD is 0); SDSD = SD of ΔRR with ddof=1 (neurokit2's
    convention); pNN50/pNN20 = 100·#{|ΔRR| > 50 / 20 ms}/D with a strict ``>`` and D = number of valid
    differences (N−1 on a clean series: hrv-analysis's/pyhrv's convention, not neurokit2's N);
    mean HR = mean of the instantaneous HR 60000/RR (hrv-analysis's ``mean_hr``), not 60000/MeanNN.
    Needs ≥1 valid beat for MeanNN/HR, ≥2 for SDNN, ≥1 valid difference for RMSSD/pNNx, ≥2 for SDSD.

Frequency domain (only within this pipeline; never compare ms² across tools)
    Beat times are the cumulative sum of the RR intervals (a beat is stamped at the end of its interval, as
    in neurokit2), so flagged beats keep the time axis true. The valid beats are joined by a not-a-knot
    cubic spline of RR (ms) over beat time (the spline bridges flagged beats), resampled at 4 Hz from the
    first to the last valid beat, linearly detrended over the whole record, then Welch: Hann window of 1024
    samples (256 s) or the whole record if shorter, 50 % overlap, per-segment mean removal (scipy's default),
    nfft = max(4096, nperseg) zero-padding for a fine frequency grid, one-sided density in ms²/Hz.
    Band power = trapezoid over the bins with lo <= f < hi: VLF 0.0033–0.04, LF 0.04–0.15, HF 0.15–0.40 Hz.
    Minimum clean data (sum of the valid RR): HF ≥ 60 s, LF ≥ 120 s, VLF ≥ 300 s (Task Force 1996: about ten
    periods of the slowest frequency; VLF from less than 5 min is not interpretable). LF/HF and n.u.
    (LF/(LF+HF)·100, HF likewise) need both LF and HF. When the gate is on and ``quality_ok`` is False,
    no spectral value is reported: the spline would be bridging too much missing data. A constant series
    has band powers of exactly 0 (and no ratios) rather than the rounding dust of the spline.
    The linear detrend is the only difference from formulas_numpy.json's "welch_cubic4Hz_detrend=mean"
    pipeline (on rr_clean: LF 252.49 / HF 479.10 ms² in both to four digits).

Nonlinear
    SD1 = SD((x−y)/√2), SD2 = SD((x+y)/√2) with ddof=1 over the valid pairs (x = RR_i, y = RR_{i+1}),
    computed directly like neurokit2 (not via the SDNN/SDSD identity); needs ≥2 valid pairs.
    DFA α1: the valid beats (flagged ones removed) are integrated, y_k = Σ(RR − mean); for every box size
    n = 4..16 beats the series is cut into non-overlapping boxes from the start *and* from the end (so the
    tail is not wasted), a least-squares line is removed per box, F(n) = RMS of the residuals over all boxes,
    and α1 is the least-squares slope of log F against log n. Needs ≥ 64 valid beats (at least four boxes
    of the largest size). Values depend on box sizes and tool; never compare α1 across tools.
    Baevsky stress index: valid beats binned in 50-ms bins anchored at multiples of 50 ms
    ([850, 900), [900, 950), ...); AMo = % of beats in the fullest bin; Mo = median RR in s (Kubios);
    MxDMn = (max − min) RR in s; SI = AMo / (2·Mo·MxDMn). Needs ≥ 2 valid beats and MxDMn > 0. Because
    MxDMn uses the extremes, only meaningful on gated data.

Window summaries
    `rmssd_ms`, `ln_rmssd` and `mean_hr_bpm` are cheap single-number versions for a given validity mask;
    `windowed_ln_rmssd` computes them for every fixed window of a night in one vectorised pass, with the
    gate applied once over the whole night (see its docstring).

Missing values are None, never NaN or a made-up number (the arrays of `windowed_ln_rmssd` use NaN, but
only where that window's ``quality_ok`` is False).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from tracker.analysis.artifacts import (
    MAX_FLAGGED_PCT,
    MIN_COVERAGE_PCT,
    GateResult,
    artefact_mask,
    as_rr_array,
    gate_rr,
    valid_pairs,
)

# DFA and the spectral helpers live in their own modules; re-exported here, where callers look for them.
from tracker.analysis.dfa import DFA_ALPHA1_BOX_BEATS, DFA_MIN_BEATS, dfa_alpha1  # noqa: F401
from tracker.analysis.spectral import band_power, detrend_linear, not_a_knot_spline, welch_psd  # noqa: F401

RESAMPLE_HZ = 4.0
WELCH_NPERSEG = 1024  # 256 s at 4 Hz
WELCH_NFFT_MIN = 4096  # zero-padding: 4 Hz / 4096 ≈ 0.001 Hz grid for the trapezoid rule
VLF_BAND_HZ = (0.0033, 0.04)
LF_BAND_HZ = (0.04, 0.15)
HF_BAND_HZ = (0.15, 0.40)
MIN_HF_S = 60.0
MIN_LF_S = 120.0
MIN_VLF_S = 300.0
STRESS_BIN_MS = 50.0

HRV_KEYS: tuple[str, ...] = (
    "n_beats",
    "n_flagged",
    "flagged_pct",
    "quality_ok",
    "mean_nn_ms",
    "sdnn_ms",
    "rmssd_ms",
    "ln_rmssd",
    "sdsd_ms",
    "pnn50_pct",
    "pnn20_pct",
    "mean_hr_bpm",
    "vlf_ms2",
    "lf_ms2",
    "hf_ms2",
    "lf_hf",
    "lf_nu",
    "hf_nu",
    "sd1_ms",
    "sd2_ms",
    "sd1_sd2",
    "dfa_alpha1",
    "stress_index",
)


@dataclass(frozen=True)
class HrvResult:
    """All HRV metrics of one series; None where a metric is not computable (see the module docstring).

    ``gate`` keeps the full `GateResult` (mask, coverage) when the gate ran; it is not part of `to_dict`.
    """

    n_beats: int
    n_flagged: int
    flagged_pct: float
    quality_ok: bool | None
    mean_nn_ms: float | None = None
    sdnn_ms: float | None = None
    rmssd_ms: float | None = None
    ln_rmssd: float | None = None
    sdsd_ms: float | None = None
    pnn50_pct: float | None = None
    pnn20_pct: float | None = None
    mean_hr_bpm: float | None = None
    vlf_ms2: float | None = None
    lf_ms2: float | None = None
    hf_ms2: float | None = None
    lf_hf: float | None = None
    lf_nu: float | None = None
    hf_nu: float | None = None
    sd1_ms: float | None = None
    sd2_ms: float | None = None
    sd1_sd2: float | None = None
    dfa_alpha1: float | None = None
    stress_index: float | None = None
    gate: GateResult | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict with exactly the keys in `HRV_KEYS` (plain int/float/bool/None, never NaN)."""
        return {key: getattr(self, key) for key in HRV_KEYS}


class WindowedLnRmssd(NamedTuple):
    """Per-window summary arrays from `windowed_ln_rmssd` (one entry per window that holds a beat)."""

    window_start_ms: np.ndarray  # multiples of window_ms on the t_ms axis; int64 when window_ms is whole
    ln_rmssd: np.ndarray  # float64; NaN only where quality_ok is False (no valid pair, or RMSSD 0)
    mean_hr_bpm: np.ndarray  # float64; NaN only where quality_ok is False (no valid beat)
    n_beats: np.ndarray  # int64, all beats in the window, flagged ones included
    quality_ok: np.ndarray  # bool: ≤5 % flagged, coverage ≥80 % of window_ms, finite values


# ----------------------------------------------------------------------------------------------------
# small helpers


def _num(x: float | np.floating | None) -> float | None:
    """Plain float, or None for a missing or non-finite value (so NaN/inf never leave this module)."""
    if x is None:
        return None
    value = float(x)
    return value if math.isfinite(value) else None


def _ratio(num: float | None, den: float | None) -> float | None:
    if num is None or den is None or den == 0:
        return None
    return _num(num / den)


def _valid_mask(rr: np.ndarray, valid: np.ndarray | Sequence[bool] | None) -> np.ndarray:
    if valid is None:
        return np.ones(rr.size, dtype=bool)
    mask = np.asarray(valid, dtype=bool)
    if mask.shape != rr.shape:
        raise ValueError(f"valid has shape {mask.shape}, rr_ms has {rr.shape}")
    return mask


def _valid_diffs_ms(rr: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Successive differences RR_{i+1} − RR_i over the pairs whose two beats are valid."""
    if rr.size < 2:
        return np.empty(0)
    return np.diff(rr)[valid_pairs(valid)]


# ----------------------------------------------------------------------------------------------------
# cheap summaries (nightly windows, capture summaries)


def rmssd_ms(rr_ms: np.ndarray | Sequence[float], valid: np.ndarray | None = None) -> float | None:
    """RMSSD (ms) over the successive pairs whose beats are both valid; None without a valid pair.

    ``valid`` is a mask such as ``gate_rr(rr_ms).valid``; None means every beat counts (no gating here).
    """
    rr = as_rr_array(rr_ms)
    d = _valid_diffs_ms(rr, _valid_mask(rr, valid))
    return _num(np.sqrt(np.mean(d * d))) if d.size else None


def ln_rmssd(rr_ms: np.ndarray | Sequence[float], valid: np.ndarray | None = None) -> float | None:
    """Natural log of `rmssd_ms`; None when RMSSD is missing or 0."""
    value = rmssd_ms(rr_ms, valid)
    return math.log(value) if value else None


def mean_hr_bpm(rr_ms: np.ndarray | Sequence[float], valid: np.ndarray | None = None) -> float | None:
    """Mean of the instantaneous heart rate 60000/RR (bpm) over the valid beats; None without one."""
    rr = as_rr_array(rr_ms)
    rv = rr[_valid_mask(rr, valid)]
    if rv.size == 0:
        return None
    return _num(np.mean(60000.0 / rv))


def windowed_ln_rmssd(
    t_ms: np.ndarray | Sequence[float], rr_ms: np.ndarray | Sequence[float], window_ms: float
) -> WindowedLnRmssd:
    """lnRMSSD, mean HR, beat count and quality for consecutive fixed windows over a whole night.

    ``t_ms[i]`` is the time stamp of beat ``i`` (non-decreasing, e.g. epoch ms); ``rr_ms[i]`` its interval.
    Windows are ``[k·window_ms, (k+1)·window_ms)`` on the t_ms axis (so 5-min windows line up with the
    clock), and only windows holding at least one beat are returned.

    The gate is applied **once, globally** over the whole series and then restricted to each window: the
    local median of a beat near a window edge then uses its true neighbours instead of reflect-padding
    at an arbitrary boundary, and the work is one vectorised pass. A difference counts for a window only
    when both of its beats are valid and lie in that window. Per window, ``quality_ok`` applies the
    same thresholds as `gate_rr`: ≤5 % of its beats flagged and the clean beats' summed RR ≥ 80 % of
    ``window_ms``. Everything is computed with bincount over window indices (no Python loop over windows).
    """
    t = np.asarray(t_ms, dtype=np.float64)
    rr = as_rr_array(rr_ms)
    if t.shape != rr.shape:
        raise ValueError(f"t_ms has shape {t.shape}, rr_ms has {rr.shape}")
    if not window_ms > 0:
        raise ValueError(f"window_ms must be positive, got {window_ms!r}")
    if rr.size == 0:
        empty_f = np.empty(0)
        return WindowedLnRmssd(
            np.empty(0, np.int64), empty_f, empty_f.copy(), np.empty(0, np.int64), np.empty(0, bool)
        )
    if not np.all(np.isfinite(t)) or np.any(np.diff(t) < 0):
        raise ValueError("t_ms must be finite and non-decreasing")

    valid = artefact_mask(rr)
    slot = np.floor(t / window_ms).astype(np.int64)
    # t is sorted, so slot is non-decreasing: new window wherever it changes.
    starts = np.flatnonzero(np.r_[True, slot[1:] != slot[:-1]])
    idx = np.cumsum(np.r_[False, slot[1:] != slot[:-1]])
    n_win = starts.size

    n_beats = np.bincount(idx, minlength=n_win)
    n_valid = np.bincount(idx, weights=valid, minlength=n_win)
    rr_clean = np.where(valid, rr, 0.0)
    clean_ms = np.bincount(idx, weights=rr_clean, minlength=n_win)
    inst_hr = np.divide(60000.0, rr, out=np.zeros_like(rr), where=valid)
    hr_sum = np.bincount(idx, weights=inst_hr, minlength=n_win)

    pair_ok = valid_pairs(valid) & (idx[1:] == idx[:-1])
    d = np.where(pair_ok, np.diff(rr), 0.0)
    n_pairs = np.bincount(idx[1:], weights=pair_ok, minlength=n_win)
    sum_d2 = np.bincount(idx[1:], weights=d * d, minlength=n_win)

    with np.errstate(divide="ignore", invalid="ignore"):
        rmssd = np.sqrt(sum_d2 / n_pairs)
        ln = np.where(rmssd > 0, np.log(rmssd), np.nan)
        hr = hr_sum / n_valid
    flagged_pct = 100.0 * (n_beats - n_valid) / n_beats
    coverage_pct = np.minimum(100.0, 100.0 * clean_ms / window_ms)
    quality = (
        (flagged_pct <= MAX_FLAGGED_PCT)
        & (coverage_pct >= MIN_COVERAGE_PCT)
        & np.isfinite(ln)
        & np.isfinite(hr)
    )
    if float(window_ms).is_integer():  # the usual case (epoch ms, 300 000-ms windows): exact integers
        window_start_ms = slot[starts] * np.int64(window_ms)
    else:
        window_start_ms = slot[starts] * float(window_ms)
    return WindowedLnRmssd(
        window_start_ms=window_start_ms,
        ln_rmssd=ln,
        mean_hr_bpm=hr,
        n_beats=n_beats.astype(np.int64),
        quality_ok=quality,
    )


# ----------------------------------------------------------------------------------------------------
# the three metric families


def _sample_sd(x: np.ndarray) -> float:
    """SD with ddof=1, the same operations as ``np.std(x, ddof=1)`` (bit-identical) without its overhead."""
    dev = x - x.sum() / x.size
    return math.sqrt(float((dev * dev).sum()) / (x.size - 1))


def _time_domain(rr: np.ndarray, valid: np.ndarray) -> dict[str, float | None]:
    rv = rr[valid]
    d = _valid_diffs_ms(rr, valid)
    out: dict[str, float | None] = dict.fromkeys(
        ("mean_nn_ms", "sdnn_ms", "rmssd_ms", "ln_rmssd", "sdsd_ms", "pnn50_pct", "pnn20_pct", "mean_hr_bpm")
    )
    # Method calls and math.sqrt instead of np.mean/np.std: the same arithmetic, a fraction of the call cost,
    # which is what a 5-minute window pays for.
    if rv.size >= 1:
        out["mean_nn_ms"] = _num(rv.sum() / rv.size)
        out["mean_hr_bpm"] = _num((60000.0 / rv).sum() / rv.size)
    if rv.size >= 2:
        out["sdnn_ms"] = _num(_sample_sd(rv))
    if d.size >= 1:
        rmssd = _num(math.sqrt(float((d * d).sum()) / d.size))
        out["rmssd_ms"] = rmssd
        out["ln_rmssd"] = math.log(rmssd) if rmssd else None
        abs_d = np.abs(d)
        # Strict ">" (a 50-ms tie is not counted); denominator = number of valid differences.
        out["pnn50_pct"] = _num(100.0 * np.count_nonzero(abs_d > 50.0) / d.size)
        out["pnn20_pct"] = _num(100.0 * np.count_nonzero(abs_d > 20.0) / d.size)
    if d.size >= 2:
        out["sdsd_ms"] = _num(_sample_sd(d))
    return out


def _beat_times_s(rr: np.ndarray) -> np.ndarray:
    """Time of each beat (s) as the cumulative sum of intervals; non-finite/negative RR add no time."""
    step = np.where(np.isfinite(rr) & (rr > 0), rr, 0.0)
    return np.cumsum(step) / 1000.0


def _psd_ms2_per_hz(rr: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Welch PSD (ms²/Hz) of the 4-Hz cubic-spline tachogram (flagged beats bridged), linearly detrended."""
    t_s = _beat_times_s(rr)[valid]
    rv = rr[valid]
    n = int(np.floor((t_s[-1] - t_s[0]) * RESAMPLE_HZ)) + 1
    grid_s = t_s[0] + np.arange(n) / RESAMPLE_HZ
    tachogram = not_a_knot_spline(t_s, rv, grid_s)
    tachogram = detrend_linear(tachogram)
    nperseg = min(WELCH_NPERSEG, n)
    return welch_psd(tachogram, RESAMPLE_HZ, nperseg, max(WELCH_NFFT_MIN, nperseg))


def _frequency_domain(rr: np.ndarray, valid: np.ndarray) -> dict[str, float | None]:
    out: dict[str, float | None] = dict.fromkeys(("vlf_ms2", "lf_ms2", "hf_ms2", "lf_hf", "lf_nu", "hf_nu"))
    clean_s = float(rr[valid].sum()) / 1000.0
    if clean_s < MIN_HF_S or np.count_nonzero(valid) < 4:
        return out
    rv = rr[valid]
    if rv.min() == rv.max():
        # A constant series has no variability; the spline + detrend would only leave rounding dust
        # (~1e-26 ms²) whose ratios (LF/HF, n.u.) would be made-up numbers.
        hf = lf = vlf = 0.0
    else:
        f_hz, psd = _psd_ms2_per_hz(rr, valid)
        hf = _num(band_power(f_hz, psd, HF_BAND_HZ))
        lf = _num(band_power(f_hz, psd, LF_BAND_HZ))
        vlf = _num(band_power(f_hz, psd, VLF_BAND_HZ))
    lf = lf if clean_s >= MIN_LF_S else None
    vlf = vlf if clean_s >= MIN_VLF_S else None
    out.update(vlf_ms2=vlf, lf_ms2=lf, hf_ms2=hf)
    if lf is not None and hf is not None:
        out["lf_hf"] = _ratio(lf, hf)
        out["lf_nu"] = _ratio(100.0 * lf, lf + hf)
        out["hf_nu"] = _ratio(100.0 * hf, lf + hf)
    return out


def time_domain(rr_ms: np.ndarray | Sequence[float], valid: np.ndarray | None = None) -> dict[str, float | None]:
    """Time-domain metrics alone (the `analyze_rr` keys), over ``valid`` beats (None: every beat; no gate).

    With `frequency_domain`, the part of `analyze_rr` that other tools' ``hrv_time`` + ``hrv_frequency``
    compute: benchmarks/hrv.py times this pair against neurokit2's like for like.
    """
    rr = as_rr_array(rr_ms)
    return _time_domain(rr, _valid_mask(rr, valid))


def frequency_domain(
    rr_ms: np.ndarray | Sequence[float], valid: np.ndarray | None = None
) -> dict[str, float | None]:
    """Frequency-domain metrics alone, over ``valid`` beats (None: every beat; no gate); see `time_domain`."""
    rr = as_rr_array(rr_ms)
    return _frequency_domain(rr, _valid_mask(rr, valid))


def stress_index(rr_ms: np.ndarray | Sequence[float]) -> float | None:
    """Baevsky stress index AMo/(2·Mo·MxDMn) of cleaned beats (50-ms bins anchored at multiples of 50 ms)."""
    rv = as_rr_array(rr_ms)
    if rv.size < 2 or not np.all(np.isfinite(rv)):
        return None
    mxdmn_s = (float(rv.max()) - float(rv.min())) / 1000.0
    if mxdmn_s <= 0:
        return None
    bins = np.floor(rv / STRESS_BIN_MS).astype(np.int64)
    amo_pct = 100.0 * np.bincount(bins - bins.min()).max() / rv.size
    # Median from one partial sort: np.median's arithmetic (mean of the two middle values), less overhead.
    mid = np.partition(rv, [(rv.size - 1) // 2, rv.size // 2])
    mo_s = 0.5 * (float(mid[(rv.size - 1) // 2]) + float(mid[rv.size // 2])) / 1000.0
    return _num(amo_pct / (2.0 * mo_s * mxdmn_s))


def _nonlinear(rr: np.ndarray, valid: np.ndarray) -> dict[str, float | None]:
    out: dict[str, float | None] = dict.fromkeys(("sd1_ms", "sd2_ms", "sd1_sd2", "dfa_alpha1", "stress_index"))
    if rr.size >= 3:
        pairs = valid_pairs(valid)
        x, y = rr[:-1][pairs], rr[1:][pairs]
        if x.size >= 2:
            # SD(x ± y)/√2 equals SD((x ± y)/√2) but keeps a constant series at exactly 0 (no rounding dust).
            out["sd1_ms"] = _num(_sample_sd(x - y) / math.sqrt(2.0))
            out["sd2_ms"] = _num(_sample_sd(x + y) / math.sqrt(2.0))
            out["sd1_sd2"] = _ratio(out["sd1_ms"], out["sd2_ms"])
    rv = rr[valid]
    out["dfa_alpha1"] = dfa_alpha1(rv)
    out["stress_index"] = stress_index(rv)
    return out


# ----------------------------------------------------------------------------------------------------
# the full analysis


def analyze_rr(
    rr_ms: np.ndarray | Sequence[float], *, gate: bool = True, window_s: float | None = None
) -> HrvResult:
    """Gate the RR series (ms), then compute time-domain, frequency-domain and nonlinear HRV.

    ``window_s`` is passed to `gate_rr` for the coverage check (ignored with ``gate=False``).
    ``gate=False`` counts every beat as valid; it requires finite, positive RR and reports
    ``quality_ok=None``.
    """
    rr = as_rr_array(rr_ms)
    gate_result: GateResult | None
    if gate:
        gate_result = gate_rr(rr, window_s)
        valid = gate_result.valid
        n_flagged, flagged_pct, quality_ok = gate_result.n_flagged, gate_result.flagged_pct, gate_result.quality_ok
    else:
        if not np.all(np.isfinite(rr) & (rr > 0)):
            raise ValueError("with gate=False every RR interval must be finite and positive")
        gate_result = None
        valid = np.ones(rr.size, dtype=bool)
        n_flagged, flagged_pct, quality_ok = 0, 0.0, None

    metrics: dict[str, float | None] = {}
    metrics.update(_time_domain(rr, valid))
    if quality_ok is not False:  # spectra only on data that passed the gate (or ungated on request)
        metrics.update(_frequency_domain(rr, valid))
    metrics.update(_nonlinear(rr, valid))
    return HrvResult(
        n_beats=int(rr.size),
        n_flagged=int(n_flagged),
        flagged_pct=float(flagged_pct),
        quality_ok=quality_ok,
        gate=gate_result,
        **metrics,
    )
