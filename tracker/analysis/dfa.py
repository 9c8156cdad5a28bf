"""Detrended fluctuation analysis, short-term exponent α1. Pure: numpy only.

Definition (as documented in `tracker.analysis.hrv`): the beats are integrated, y_k = Σ(RR − mean); for
every box size n = 4..16 beats the series is cut into non-overlapping boxes from the start *and* from the
end (so the tail is not wasted), a least-squares line is removed per box, F(n) = RMS of the residuals over
all boxes, and α1 is the least-squares slope of log F against log n. Needs ≥ 64 beats.

How it is computed, all box sizes at once: for a box of n beats starting at beat s, rebased on its first
value (b_k = y_{s+k} − y_s, so the sums stay small and nothing cancels), the residual of the line fit is

    Σb² − (Σb)²/n − (Σx·b)²/Σx²,   x = k − (n−1)/2  (centred abscissa),

and the three sums for *every* start s and *every* n ≤ 16 are running sums down the 16 rows of a
(3, 16, starts) array whose row k holds y_{s+k} − y_s. One pass then serves all 13 box sizes and both
directions: a few dozen numpy calls whatever the length (the previous per-size loop made ~150, which
dominated a 5-minute window). Long series are processed in blocks of starts to bound memory.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from tracker.analysis.artifacts import as_rr_array

DFA_ALPHA1_BOX_BEATS = tuple(range(4, 17))
DFA_MIN_BEATS = 64
DFA_STARTS_PER_BLOCK = 8192  # box starts per block (bounds memory to ~3 MB; no effect on results)

_N = np.asarray(DFA_ALPHA1_BOX_BEATS, dtype=np.int64)
_N_F = _N.astype(np.float64)
_MAX_N = int(_N.max())
_SXX = _N_F * (_N_F * _N_F - 1.0) / 12.0  # Σx² of the centred abscissa for each box size
_HALF = (_N_F - 1.0) / 2.0  # Σx·b = Σk·b − (n−1)/2·Σb
_K = np.arange(_MAX_N, dtype=np.float64)[:, None]
_LOG_N = np.log(_N_F)
_LOG_N_CENTRED = _LOG_N - _LOG_N.mean()
_LOG_N_SS = float(_LOG_N_CENTRED @ _LOG_N_CENTRED)


def _box_starts(n_beats: int, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
    """Start index and size index (into DFA_ALPHA1_BOX_BEATS) of every box whose start is in [lo, hi).

    Boxes from the start begin at multiples of n; boxes from the end at N − m·n plus multiples of n
    (m = N // n boxes each way). Built with repeat/arange for all sizes and both directions at once.
    """
    m = n_beats // _N
    offsets = np.concatenate((np.zeros_like(_N), n_beats - m * _N))  # (26,): forward, then backward
    n2 = np.concatenate((_N, _N))
    m2 = np.concatenate((m, m))
    first = np.clip(-((offsets - lo) // n2), 0, m2)  # ceil((lo − offset)/n), within [0, m]
    stop = np.clip(-((offsets - hi) // n2), 0, m2)
    counts = stop - first
    total = int(counts.sum())
    group_first = np.cumsum(counts) - counts
    size_idx = np.repeat(np.tile(np.arange(_N.size), 2), counts)
    box = np.arange(total) - np.repeat(group_first - first, counts)  # box number within its direction
    start = np.repeat(offsets, counts) + box * _N[size_idx]
    return start, size_idx


def _residual_ss(y: np.ndarray) -> np.ndarray:
    """Sum of squared line-fit residuals over all boxes (both directions), one entry per box size."""
    n_beats = y.size
    # Trailing padding so every start has 16 values; padded values never enter a box (k < n, s + n ≤ N).
    y_pad = np.concatenate((y, np.zeros(_MAX_N - 1)))
    n_starts = n_beats - int(_N.min()) + 1  # the last box (n = 4 from the end) starts at N − 4
    total = np.zeros(_N.size)
    for lo in range(0, n_starts, DFA_STARTS_PER_BLOCK):
        hi = min(lo + DFA_STARTS_PER_BLOCK, n_starts)
        rows = sliding_window_view(y_pad[lo : hi + _MAX_N - 1], hi - lo)  # (16, hi − lo): row k = y[s + k]
        # sums[q, n − 1, s] = Σ_{k<n} of b_k (q = 0), b_k² (q = 1), k·b_k (q = 2) for the box of n at s,
        # with b_k = y[s + k] − y[s] (each box rebased on its first value).
        sums = np.empty((3, _MAX_N, hi - lo))
        np.subtract(rows, rows[0], out=sums[0])
        np.multiply(sums[0], sums[0], out=sums[1])
        np.multiply(sums[0], _K, out=sums[2])
        for k in range(1, _MAX_N):  # running sums down the rows: several times faster than np.cumsum(axis=1) on this layout
            np.add(sums[:, k], sums[:, k - 1], out=sums[:, k])
        start, size_idx = _box_starts(n_beats, lo, hi)
        sum_b, sum_b2, sum_kb = sums.reshape(3, -1)[:, (_N[size_idx] - 1) * (hi - lo) + (start - lo)]
        sum_xb = sum_kb - _HALF[size_idx] * sum_b
        resid = sum_b2 - sum_b * sum_b / _N_F[size_idx] - sum_xb * sum_xb / _SXX[size_idx]
        total += np.bincount(size_idx, weights=resid, minlength=_N.size)
    return total


def dfa_alpha1(rr_ms: np.ndarray | Sequence[float]) -> float | None:
    """DFA α1 over box sizes 4–16 beats; None below 64 beats, for non-finite input or a flat series.

    Pass already-cleaned beats (``rr[gate.valid]``).
    """
    rr = as_rr_array(rr_ms)
    if rr.size < DFA_MIN_BEATS or not np.all(np.isfinite(rr)):
        return None
    y = np.cumsum(rr - rr.mean())
    resid_ss = _residual_ss(y)
    if not np.all(resid_ss > 0.0):
        return None
    n_boxed = 2 * (y.size // _N) * _N  # residuals averaged over every boxed beat, both directions
    log_f = 0.5 * np.log(resid_ss / n_boxed)
    alpha = float(_LOG_N_CENTRED @ log_f) / _LOG_N_SS  # least-squares slope of log F on log n
    return alpha if math.isfinite(alpha) else None
