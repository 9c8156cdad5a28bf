"""Spectral building blocks of the HRV frequency domain: spline tachogram, linear detrend, Welch, band power.

Pure: numpy/scipy only. Each function is numerically the same as its scipy counterpart (checked in the
tests: `scipy.interpolate.CubicSpline`, `scipy.signal.detrend`, `scipy.signal.welch`), written out because
the product's usual input is a 5-minute window (300–500 beats, ~1,200 samples at 4 Hz), where scipy's
per-call overhead (argument validation, array-API dispatch, a fresh Hann window, a Python loop over Welch
segments) cost several times the arithmetic. Everything that depends only on the sizes (window, frequency
grid, band slices) is cached per size.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.lib.stride_tricks import as_strided

WELCH_BLOCK_SEGMENTS = 32  # segments per batched FFT (memory locality only; no effect on results)


def _read_only(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)  # cached arrays are shared between calls: nobody may write into them
    return a


@lru_cache(maxsize=16)
def hann_window(nperseg: int) -> np.ndarray:
    """Periodic ("fftbins") Hann window, as ``scipy.signal.get_window("hann", nperseg)`` returns it."""
    from scipy import signal  # imported on first use: scipy is heavy and most callers never get here

    return _read_only(signal.get_window("hann", nperseg))


@lru_cache(maxsize=16)
def rfft_freqs_hz(nfft: int, fs_hz: float) -> np.ndarray:
    return _read_only(np.fft.rfftfreq(nfft, 1.0 / fs_hz))


def not_a_knot_spline(x: np.ndarray, y: np.ndarray, x_new: np.ndarray) -> np.ndarray:
    """Values at ``x_new`` of the not-a-knot cubic spline through ``(x, y)`` (x strictly increasing, ≥ 4 knots).

    The same system and the same LAPACK solver (``gtsv``) as ``scipy.interpolate.CubicSpline(x, y,
    bc_type="not-a-knot")``, so the knot slopes agree to rounding; evaluation is Horner per interval, with
    points outside ``[x[0], x[-1]]`` extrapolated from the end pieces as scipy does.
    """
    from scipy.linalg import lapack  # imported on first use, as in hann_window

    n = x.size
    if n < 4:
        raise ValueError(f"not_a_knot_spline needs at least 4 knots, got {n}")
    dx = x[1:] - x[:-1]
    slope = (y[1:] - y[:-1]) / dx
    # Tridiagonal system for the first derivative s at each knot (scipy's layout and boundary rows).
    diag = np.empty(n)
    upper = np.empty(n - 1)
    lower = np.empty(n - 1)
    rhs = np.empty(n)
    diag[1:-1] = 2.0 * (dx[:-1] + dx[1:])
    upper[1:] = dx[:-1]
    lower[:-1] = dx[1:]
    rhs[1:-1] = 3.0 * (dx[1:] * slope[:-1] + dx[:-1] * slope[1:])
    d0 = x[2] - x[0]
    diag[0], upper[0] = dx[1], d0
    rhs[0] = ((dx[0] + 2.0 * d0) * dx[1] * slope[0] + dx[0] ** 2 * slope[1]) / d0
    d1 = x[-1] - x[-3]
    diag[-1], lower[-1] = dx[-2], d1
    rhs[-1] = (dx[-1] ** 2 * slope[-2] + (2.0 * d1 + dx[-1]) * dx[-2] * slope[-1]) / d1
    _, _, _, s, info = lapack.dgtsv(lower, diag, upper, rhs, 1, 1, 1, 1)
    if info != 0:
        raise np.linalg.LinAlgError("singular spline system (repeated knots?)")
    # Piecewise cubic on [x_i, x_{i+1}): ((c0·t + c1)·t + s_i)·t + y_i with t = x − x_i (CubicHermiteSpline).
    coef = np.empty((n - 1, 5))  # columns: c0, c1, s_i, y_i, x_i (one gather per point instead of five)
    t_coef = (s[:-1] + s[1:] - 2.0 * slope) / dx
    np.divide(t_coef, dx, out=coef[:, 0])
    coef[:, 1] = (slope - s[:-1]) / dx - t_coef
    coef[:, 2] = s[:-1]
    coef[:, 3] = y[:-1]
    coef[:, 4] = x[:-1]
    # Interval of each point among the interior knots: i in [0, n − 2], x[i] <= x_new < x[i + 1] inside,
    # and the end pieces beyond the ends (scipy's extrapolation).
    c = coef[np.searchsorted(x[1:-1], x_new, side="right")]
    t = x_new - c[:, 4]
    return ((c[:, 0] * t + c[:, 1]) * t + c[:, 2]) * t + c[:, 3]


def detrend_linear(x: np.ndarray) -> np.ndarray:
    """Remove the least-squares line (same result as ``scipy.signal.detrend(x, type="linear")``).

    Closed form with a centred abscissa instead of scipy's general lstsq, which cost more than the FFTs
    on a night-long series. The products are summed with numpy, not ``@``: above ~10,000 elements
    OpenBLAS's dot product wakes its worker threads, which on a busy 2-core machine cost 4x the
    arithmetic in CPU time (a 5,000-beat series: 11 ms instead of 3).
    """
    n = x.size
    k = np.arange(n) - (n - 1) / 2.0
    sum_kk = n * (n * n - 1.0) / 12.0  # Σk² of the centred abscissa, in closed form
    slope = float((k * x).sum()) / sum_kk if n > 1 else 0.0
    return x - x.sum() / n - slope * k  # x.sum() / n: x.mean()'s arithmetic without its call overhead


def welch_psd(x: np.ndarray, fs_hz: float, nperseg: int, nfft: int) -> tuple[np.ndarray, np.ndarray]:
    """One-sided Welch density (unit²/Hz): periodic Hann, 50 % overlap, per-segment mean removal.

    Numerically the same as ``scipy.signal.welch(x, fs_hz, "hann", nperseg, nperseg // 2, nfft,
    detrend="constant", scaling="density")`` (checked in the tests), but all segments go through one
    batched rfft: scipy ≥ 1.16 loops over segments in Python, which dominated a night-long analysis.
    The returned frequencies are a cached read-only array.
    """
    if not 0 < nperseg <= x.size:
        raise ValueError(f"nperseg must be in 1..{x.size}, got {nperseg}")
    step = nperseg - nperseg // 2
    n_segments = (x.size - nperseg) // step + 1
    # The same segments as sliding_window_view(x, nperseg)[::step], at a third of its call cost.
    item = x.strides[0]
    segments = as_strided(x, shape=(n_segments, nperseg), strides=(step * item, item), writeable=False)
    window = hann_window(nperseg)
    power_sum = np.zeros(nfft // 2 + 1)
    # Blocks of segments keep the zero-padded spectra cache-sized; a 25-h night has ~700 segments.
    for first in range(0, segments.shape[0], WELCH_BLOCK_SEGMENTS):
        block = segments[first : first + WELCH_BLOCK_SEGMENTS]
        spectra = np.fft.rfft((block - block.sum(axis=1, keepdims=True) / nperseg) * window, n=nfft, axis=1)
        power_sum += np.einsum("ij,ij->j", spectra.real, spectra.real)
        power_sum += np.einsum("ij,ij->j", spectra.imag, spectra.imag)
    psd = power_sum / (segments.shape[0] * fs_hz * float((window * window).sum()))
    # One-sided: double every bin except DC and (for even nfft) Nyquist, which have no mirror image.
    psd[1 : None if nfft % 2 else -1] *= 2.0
    return rfft_freqs_hz(nfft, fs_hz), psd


def band_power(f_hz: np.ndarray, psd: np.ndarray, band: tuple[float, float]) -> float:
    """Trapezoid integral of ``psd`` over the bins with lo <= f < hi; 0 with fewer than two bins.

    ``f_hz`` is an increasing uniform grid (as `welch_psd` returns), so the bins are one slice found by
    bisection and the trapezoid is ``df·(Σp − (p_first + p_last)/2)``: ``np.trapezoid`` to rounding.
    """
    first = int(np.searchsorted(f_hz, band[0], side="left"))
    stop = int(np.searchsorted(f_hz, band[1], side="left"))
    if stop - first < 2:
        return 0.0
    p = psd[first:stop]
    df = float(f_hz[stop - 1] - f_hz[first]) / (stop - 1 - first)
    return df * (float(p.sum()) - 0.5 * (float(p[0]) + float(p[-1])))
